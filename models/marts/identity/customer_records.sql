{#- Which customer each staged source record belongs to: the join key from any source table
    to its customer_id. -#}

{#- Incremental by record (strategy replace_records): a record's customer changes only when
    its node does (int_identity__record_nodes ranked it after this model's newest _built_at)
    or its node's customer does (customer_id_assignments logged the node since), so a build
    without --full-refresh joins those records only. Records gone from staging come through
    cdp_records_typed_since as rows with a null customer_id, which delete them. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_records',
    unique_key=['source_table', 'record_id', 'customer_id'],
    on_schema_change='fail',
) }}
{#- The staged sources cdp_records_typed_since reads, for dbt's parser (it reads them only
    on incremental builds, which parsing does not see). -#}
{%- for source in cdp_identity_config().sources %}
-- depends_on: {{ ref(source.model) }}
{%- endfor %}
-- depends_on: {{ ref('customer_id_assignments') }}

with
{% if is_incremental() %}
    {{ cdp_watermark_cte('_built_at') }}

    reassigned_nodes as (
        select distinct node_key
        from {{ ref('customer_id_assignments') }}
        where assigned_at > (select watermark.typed_at from watermark)
    ),

    touched_records as (
        {{ cdp_records_typed_since('(select watermark.typed_at from watermark)') }}
        union all
        select
            source_table,
            record_id
        from {{ ref('int_identity__record_nodes') }}
        where _built_at > (select watermark.typed_at from watermark)
        union all
        select
            record_nodes.source_table,
            record_nodes.record_id
        from {{ ref('int_identity__record_nodes') }} as record_nodes
        inner join reassigned_nodes
            on record_nodes.node_key = reassigned_nodes.node_key
    ),

    touched as (
        select distinct
            source_table,
            record_id
        from touched_records
    ),
{% endif %}

record_nodes as (
    select all_nodes.*
    from {{ ref('int_identity__record_nodes') }} as all_nodes
    {%- if is_incremental() %}
    inner join touched
        on
            all_nodes.source_table = touched.source_table
            and all_nodes.record_id = touched.record_id
    {%- endif %}
)

select
    record_nodes.source_table,
    record_nodes.record_id,
    node_clusters.customer_id,
    record_nodes.node_key,
    record_nodes.observed_at,
    {{ cdp_run_started_at() }} as _built_at
from record_nodes
inner join {{ ref('int_identity__node_clusters') }} as node_clusters
    on record_nodes.node_key = node_clusters.node_key
{%- if is_incremental() %}
union all
select
    source_table,
    record_id,
    cast(null as {{ cdp_type_varchar() }}) as customer_id,
    cast(null as {{ cdp_type_varchar() }}) as node_key,
    cast(null as {{ dbt.type_timestamp() }}) as observed_at,
    cast(null as {{ dbt.type_timestamp() }}) as _built_at
from touched
{%- endif %}
