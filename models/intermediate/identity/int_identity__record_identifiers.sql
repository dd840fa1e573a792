{#- One row per (record, identifier) the configured columns carry: the raw material of the
    identity graph, before any guard. identifier_key ('<type>:<value>') names a graph node.
    The value is not stored beside it (cdp_identifier_value takes it out of the key): at 1M
    people the 17M rows took 9.1-9.4 s to write without it against 11.6-12.4 s with it. -#}

{#- Incremental by record: a build extracts only the records staging typed since this model's
    newest `_typed_at` (new records, new versions, and every version of a key a new row
    touched; see cdp_run_started_at), and strategy replace_keys replaces each such record's
    stored rows, found by record_key (cdp_record_key: an integer, which the models downstream
    join by). Each touched record also comes as one row with a null identifier_type, which
    deletes the stored rows of a record that lost its identifiers. A source staging typed in
    full since (a --full-refresh of its base model, after raw rows were deleted) is replaced
    in full: its stored records all come as such rows, so records gone from it go.
    `_built_at` is when the record's rows were last written, and the rows a build replaces
    go to int_identity__record_identifiers__removed (removal_log): the verdicts find there
    the identifiers a record no longer carries. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_keys',
    unique_key=['record_key', 'identifier_type'],
    on_schema_change='fail',
    removal_log=['source_table', 'record_id', 'identifier_key'],
    pre_hook="{{ cdp_drop_removal_log() }}",
    post_hook="{{ cdp_create_removal_log() }}",
) }}
{%- set identity = cdp_identity_config() %}

with
{#- Each identifier column straight from its staging model: a CTE of a source's records
    read once per identifier type would be materialized by DuckDB, every column of every
    record (at 1M people 0.3 s and 1.1 GB of memory more). -#}
{% for source in identity.sources %}
    {%- set source_index = loop.index %}
    {%- for type, column in source.identifiers.items() %}
        source_{{ source_index }}_{{ type }} as (
            select
                cast('{{ source.source_table }}' as {{ dbt.type_string() }}) as source_table,
                cast({{ source.record_id }} as {{ dbt.type_string() }}) as record_id,
                cast('{{ type }}' as {{ dbt.type_string() }}) as identifier_type,
                cast({{ column }} as {{ dbt.type_string() }}) as identifier_value,
                cast({{ source.observed_at }} as {{ dbt.type_timestamp() }}) as observed_at,
                _loaded_at,
                _typed_at
            from {{ ref(source.model) }}
            where {{ column }} is not null
            {%- if is_incremental() %}
                and _typed_at > {{ cdp_watermark_since('_typed_at') }}
            {%- endif %}
        ),
    {%- endfor %}
{% endfor %}

extracted as (
    {% for source in identity.sources %}
        {%- set source_index = loop.index %}
        {%- set outer_last = loop.last %}
        {%- for type in source.identifiers %}
            select * from source_{{ source_index }}_{{ type }}
            {% if not (outer_last and loop.last) %}union all{% endif %}
        {%- endfor %}
    {%- endfor %}
),

identifier_types as (
    {{ cdp_identifier_type_rows() }}
),

identifier_rows as (
    select
        {{ cdp_record_key('extracted.source_table', 'extracted.record_id') }} as record_key,
        extracted.source_table,
        extracted.record_id,
        extracted.identifier_type,
        {{ dbt.concat(["extracted.identifier_type", "':'", "extracted.identifier_value"]) }} as identifier_key,
        identifier_types.priority,
        extracted.observed_at,
        extracted._loaded_at,
        extracted._typed_at,
        {{ cdp_run_started_at() }} as _built_at
    from extracted
    inner join identifier_types
        on extracted.identifier_type = identifier_types.identifier_type
)

{% if is_incremental() %}
    ,

    touched_records as (
        {{ cdp_records_typed_since(cdp_watermark_since('_typed_at')) }}
    )

    select * from identifier_rows
    union all
    select
        {{ cdp_record_key('source_table', 'record_id') }} as record_key,
        source_table,
        record_id,
        cast(null as {{ dbt.type_string() }}) as identifier_type,
        cast(null as {{ dbt.type_string() }}) as identifier_key,
        cast(null as {{ dbt.type_int() }}) as priority,
        cast(null as {{ dbt.type_timestamp() }}) as observed_at,
        cast(null as {{ dbt.type_timestamp() }}) as _loaded_at,
        cast(null as {{ dbt.type_timestamp() }}) as _typed_at,
        cast(null as {{ dbt.type_timestamp() }}) as _built_at
    from touched_records
{% else %}
    select * from identifier_rows
{% endif %}
