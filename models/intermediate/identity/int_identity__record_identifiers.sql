{#- One row per (record, identifier) the configured columns carry: the raw material of the
    identity graph, before any guard. identifier_key ('<type>:<value>') names a graph node. -#}
{%- set config = cdp_identity_config() %}

with
{% for source in config.sources %}
    {%- set source_index = loop.index %}
    {%- for type, column in source.identifiers.items() %}
        source_{{ source_index }}_{{ type }} as (
            select
                cast('{{ source.source_table }}' as {{ dbt.type_string() }}) as source_table,
                cast({{ source.record_id }} as {{ dbt.type_string() }}) as record_id,
                cast('{{ type }}' as {{ dbt.type_string() }}) as identifier_type,
                cast({{ column }} as {{ dbt.type_string() }}) as identifier_value,
                cast({{ source.observed_at }} as {{ dbt.type_timestamp() }}) as observed_at,
                _loaded_at
            from {{ ref(source.model) }}
            where {{ column }} is not null
        ),
    {%- endfor %}
{% endfor %}

extracted as (
    {% for source in config.sources %}
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
)

select
    extracted.source_table,
    extracted.record_id,
    extracted.identifier_type,
    extracted.identifier_value,
    {{ dbt.concat(["extracted.identifier_type", "':'", "extracted.identifier_value"]) }} as identifier_key,
    identifier_types.priority,
    extracted.observed_at,
    extracted._loaded_at
from extracted
inner join identifier_types
    on extracted.identifier_type = identifier_types.identifier_type
