{#- Which customer each staged source record belongs to: the join key from any source table
    to its customer_id. -#}

{#- Incremental by record (strategy replace_records): a record's customer changes only when
    its node does (int_identity__record_nodes ranked it after this model's newest _built_at)
    or its node's customer does (customer_id_assignments logged the node since), so a build
    without --full-refresh joins those records only. Records gone from staging come through
    cdp_records_typed_since as rows with a null customer_id, which delete them. The rows a
    build replaces go to customer_records__removed (removal_log, macros/incremental/
    replace_groups.sql): the golden record finds there the customers records left. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_records',
    unique_key=['source_table', 'record_id', 'customer_id'],
    removal_log=['customer_id'],
    pre_hook="{{ cdp_drop_removal_log() }}",
    post_hook="{{ cdp_create_removal_log() }}",
    on_schema_change='fail',
) }}
{{ cdp_depends_on_identity_sources() }}
-- depends_on: {{ ref('customer_id_assignments') }}

with
{% if is_incremental() %}
    {% call cdp_touched_records_ctes('_built_at') %}
        -- records ranked again since, and those whose node's customer changed since
        {{ cdp_records_ranked_since() }}
        union all
        select
            record_nodes.source_table,
            record_nodes.record_id
        from {{ ref('int_identity__record_nodes') }} as record_nodes
        inner join {{ ref('customer_id_assignments') }} as assignments
            on record_nodes.node_key = assignments.node_key
        where assignments.assigned_at > {{ cdp_watermark_since() }}
    {% endcall %}
{% endif %}

record_nodes as (
    {{ cdp_rows_of_touched_records(ref('int_identity__record_nodes')) }}
)

{#- Cast to the contract's types: on Postgres an incremental build compares the new rows'
    types with the table's (text is not varchar there). -#}
select
    cast(record_nodes.source_table as {{ cdp_type_varchar() }}) as source_table,
    cast(record_nodes.record_id as {{ cdp_type_varchar() }}) as record_id,
    cast(node_clusters.customer_id as {{ cdp_type_varchar() }}) as customer_id,
    cast(record_nodes.node_key as {{ cdp_type_varchar() }}) as node_key,
    record_nodes.observed_at,
    {{ cdp_run_started_at() }} as _built_at
from record_nodes
inner join {{ ref('int_identity__node_clusters') }} as node_clusters
    on record_nodes.node_key = node_clusters.node_key
{%- if is_incremental() %}
union all
select
    cast(source_table as {{ cdp_type_varchar() }}) as source_table,
    cast(record_id as {{ cdp_type_varchar() }}) as record_id,
    cast(null as {{ cdp_type_varchar() }}) as customer_id,
    cast(null as {{ cdp_type_varchar() }}) as node_key,
    cast(null as {{ dbt.type_timestamp() }}) as observed_at,
    cast(null as {{ dbt.type_timestamp() }}) as _built_at
from touched
{%- endif %}
