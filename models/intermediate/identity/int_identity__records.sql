{#- Every staged record of the sources identity resolution reads (cdp_identity.sources):
    each one ends with a customer_id, identifiers or not. -#}
{#- Ephemeral: a CTE of int_identity__record_nodes, its only reader, which tests the key
    (source_table, record_id). Stored, its 12M rows at 1M people cost more than the union. -#}
{{ config(materialized='ephemeral') }}
{%- set sources = cdp_identity_config().sources %}

with
{% for source in sources %}
    records_{{ loop.index }} as (
        select
            cast('{{ source.source_table }}' as {{ dbt.type_string() }}) as source_table,
            cast({{ source.record_id }} as {{ dbt.type_string() }}) as record_id,
            cast({{ source.observed_at }} as {{ dbt.type_timestamp() }}) as observed_at,
            _loaded_at
        from {{ ref(source.model) }}
    ),
{% endfor %}

all_records as (
    {% for source in sources %}
        select * from records_{{ loop.index }}
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
)

select * from all_records
