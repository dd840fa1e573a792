{#- The graph node each record hangs from: its best usable identifier (lowest priority
    number, then key), else a node of its own ('record:<source_table>:<record_id>') so a
    record with nothing usable still becomes a customer, alone. -#}

{#- The best identifier is found by one aggregate, not a window (at 1M people 7.1 s against
    10.2 s, 0.8 GB more memory): min() over the priority, zero-padded to the widest configured
    priority, followed by the key, sorts as (priority, identifier_key) does. -#}

{#- Incremental by record (strategy replace_keys, by record_key): a record's node changes
    only when the record was typed again or one of its identifiers became usable or stopped being so, so a
    build without --full-refresh ranks those records only (cdp_records_typed_since, and the
    verdicts' usability_changed_at after this model's newest _built_at). Each touched record
    also comes as a row with a null node_key, which deletes a record gone from staging. The
    rows a build replaces go to int_identity__record_nodes__removed (removal_log), for
    int_identity__components. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_keys',
    unique_key=['record_key', 'node_key'],
    removal_log=['source_table', 'record_id', 'node_key'],
    pre_hook="{{ cdp_drop_removal_log() }}",
    post_hook="{{ cdp_create_removal_log() }}",
    on_schema_change='fail',
) }}
{{ cdp_depends_on_identity_sources() }}
{%- set width = cdp_identity_config().identifier_types.values() | map(attribute='priority') | max | string | length %}

with
{% if is_incremental() %}
    {% call cdp_touched_records_ctes('_built_at') %}
        -- records carrying an identifier whose usability changed since
        {{ cdp_records_of_verdicts_since('usability_changed_at') }}
    {% endcall %}
{% endif %}

records as (
    {{ cdp_rows_of_touched_records(ref('int_identity__records'), by_record_key=false) }}
),

record_identifiers as (
    {{ cdp_rows_of_touched_records(ref('int_identity__record_identifiers')) }}
),

usable_identifiers as (
    select
        record_identifiers.record_key,
        {{ dbt.concat([
            dbt.right(dbt.concat(["'" ~ '0' * width ~ "'", "cast(record_identifiers.priority as " ~ dbt.type_string() ~ ")"]), width),
            "record_identifiers.identifier_key"
        ]) }} as ranked_key
    from record_identifiers
    inner join {{ ref('int_identity__identifier_verdicts') }} as verdicts
        on record_identifiers.identifier_key = verdicts.identifier_key
    where verdicts.is_usable
),

best_identifiers as (
    select
        record_key,
        substr(min(ranked_key), {{ width + 1 }}) as identifier_key
    from usable_identifiers
    group by record_key
),

keyed_records as (
    select
        {{ cdp_record_key('records.source_table', 'records.record_id') }} as record_key,
        records.*
    from records
),

record_nodes as (
    select
        records.record_key,
        records.source_table,
        records.record_id,
        records.observed_at,
        coalesce(
            best_identifiers.identifier_key,
            {{ dbt.concat(["'record:'", "records.source_table", "':'", "records.record_id"]) }}
        ) as node_key,
        best_identifiers.identifier_key is null as has_no_usable_identifier,
        {{ cdp_run_started_at() }} as _built_at
    from keyed_records as records
    left join best_identifiers
        on records.record_key = best_identifiers.record_key
)

select * from record_nodes
{%- if is_incremental() %}
union all
select
    record_key,
    source_table,
    record_id,
    cast(null as {{ dbt.type_timestamp() }}) as observed_at,
    cast(null as {{ dbt.type_string() }}) as node_key,
    cast(null as {{ dbt.type_boolean() }}) as has_no_usable_identifier,
    cast(null as {{ dbt.type_timestamp() }}) as _built_at
from touched
{%- endif %}
