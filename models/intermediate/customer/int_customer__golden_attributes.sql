{#- The surviving value of each golden-record attribute per customer, chosen among
    int_customer__attribute_candidates by the rule cdp_customer.survivorship sets for it:
      source_priority  the first listed source that has a value; newest on ties
      most_recent      the newest value; source order on ties
      most_frequent    the value on most records; then newest, then source order
    Sources not listed for an attribute never supply it. Last tie-breaker: record_id, so the
    choice is deterministic.
    Incremental by customer: a build recomputes only the customers of the records
    customer_records wrote since its last one and those records left
    (customer_records__removed), from the candidates of their records only
    (macros/incremental/touched_customers.sql), and every customer when the survivorship
    rules or the identity blocklist seed changed (rules_digest). -#}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_customers',
    unique_key=['customer_id', 'attribute_name'],
    on_schema_change='fail',
) }}
{%- set survivorship = cdp_customer_config().survivorship %}
{#- The rank each attribute's rule gives a candidate of `allowed` (lower first). -#}
{%- set rule_rank = ['case allowed.attribute_name'] %}
{%- for attribute, spec in survivorship.items() %}
    {%- set rank = {'source_priority': 'allowed.source_rank', 'most_frequent': '-allowed.value_records'}.get(spec.rule, '0') %}
    {%- do rule_rank.append("when '" ~ attribute ~ "' then " ~ rank) %}
{%- endfor %}
{%- do rule_rank.append('end') %}
{%- set value_columns = cdp_attribute_value_columns().keys() | reject('equalto', 'email_canonical') | list %}

with
{{ cdp_stamped_customers_ctes(
    cdp_relation_digest(ref('identity_blocklist'), ['identifier_type', 'match_type', 'pattern'],
        rules=tojson(survivorship)),
    rebuilt='rebuilt_records',
) }},

{{ cdp_attribute_candidates_ctes('rebuilt_records') }},

ranked_inputs as (
    select
        candidates.*,
        case
            {%- for attribute, spec in survivorship.items() %}
                {%- for source in spec.sources %}
                    when
                        candidates.attribute_name = '{{ attribute }}'
                        and candidates.source_table = '{{ source }}'
                        then {{ loop.index }}
                {%- endfor %}
            {%- endfor %}
        end as source_rank
    from candidates
),

listed_inputs as (
    -- Only the sources listed for an attribute supply it, or count towards most_frequent.
    -- Only the columns the ranking needs; the value columns are joined back for the
    -- survivors (carried through the ranking, at 1M people 12.0 s against 11.0 s).
    -- value_key is never '' (each is a non-empty value or holds a separator), so '' stands
    -- for a null one: the counts group nulls together, as a window partition did.
    select
        ranked_inputs.customer_id,
        ranked_inputs.attribute_name,
        ranked_inputs.source_table,
        ranked_inputs.record_id,
        ranked_inputs.observed_at,
        ranked_inputs.source_rank,
        coalesce(ranked_inputs.value_key, '') as value_key
    from ranked_inputs
    where ranked_inputs.source_rank is not null
),

value_counts as (
    -- How many of the customer's records carry each value (most_frequent ranks by it), by an
    -- aggregate joined back rather than a window: no sort of every candidate (at 1M people
    -- the query 11.8 s against 12.8 s).
    select
        listed_inputs.customer_id,
        listed_inputs.attribute_name,
        listed_inputs.value_key,
        count(*) as value_records
    from listed_inputs
    group by listed_inputs.customer_id, listed_inputs.attribute_name, listed_inputs.value_key
),

allowed as (
    select
        listed_inputs.customer_id,
        listed_inputs.attribute_name,
        listed_inputs.source_table,
        listed_inputs.record_id,
        listed_inputs.observed_at,
        listed_inputs.source_rank,
        value_counts.value_records
    from listed_inputs
    inner join value_counts
        on
            listed_inputs.customer_id = value_counts.customer_id
            and listed_inputs.attribute_name = value_counts.attribute_name
            and listed_inputs.value_key = value_counts.value_key
),

survivors as (
    {{ cdp_golden_survivors('allowed', rule_rank | join(' ')) }}
)

-- The survivors' values, from their candidate rows (unique by record and attribute).
select
    survivors.customer_id,
    survivors.attribute_name,
    {{ cdp_customer_survivorship_rule_label(survivorship, 'survivors.attribute_name') }} as survivorship_rule,
    survivors.source_table,
    survivors.record_id,
    survivors.observed_at,
    survivors.value_records,
    {%- for column in value_columns %}
        candidates.{{ column }},
    {%- endfor %}
    cast((select rules.digest from rules) as {{ dbt.type_string() }}) as rules_digest,
    {{ cdp_run_started_at() }} as _built_at
from survivors
inner join candidates
    on
        survivors.source_table = candidates.source_table
        and survivors.record_id = candidates.record_id
        and survivors.attribute_name = candidates.attribute_name
{%- if is_incremental() %}

    union all

    -- Touched customers left with no candidates: a row without attribute_name deletes their
    -- stored ones.
    select
        touched_customers.customer_id,
        {%- for column in ['attribute_name', 'survivorship_rule', 'source_table', 'record_id', 'observed_at', 'value_records'] + value_columns + ['rules_digest', '_built_at'] %}
            null as {{ column }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from touched_customers
    where touched_customers.customer_id not in (select survivors.customer_id from survivors)
{%- endif %}
