{{ config(materialized='connected_components', log_reclustered=true) }}

{#- Person records (CRM contacts, shop accounts) that are one person, grouped transitively:
    max_partners counts each group as one person. Evidence: a probabilistic pair at or above
    cdp_identity.probabilistic.same_person_probability, or the same phone number on at most
    three person records (more is a switchboard or a placeholder, not a person).
    The nodes each run re-clusters are logged (log_reclustered): the verdicts re-count the
    identifiers whose partners changed group. -#}
{%- set config = cdp_identity_config() %}
{%- set key_types = cdp_record_key_types() %}

with person_phones as (
    select
        {{ cdp_record_key_node('source_table', 'record_id', key_types) }} as person_key,
        identifier_value as phone
    from {{ ref('int_identity__record_identifiers') }}
    where
        identifier_type = 'phone'
        and source_table in ('{{ key_types.keys() | join("', '") }}')
),

personal_phones as (
    select phone
    from person_phones
    group by phone
    having count(distinct person_key) <= 3
),

phone_pairs as (
    select
        person_phones.person_key as node_a,
        min(other_records.person_key) as node_b
    from person_phones
    inner join personal_phones
        on person_phones.phone = personal_phones.phone
    inner join person_phones as other_records
        on person_phones.phone = other_records.phone
    group by person_phones.person_key
),

probabilistic_pairs as (
    {%- if cdp_probabilistic_enabled() %}
        select
            {{ cdp_record_key_node('left_source_table', 'left_record_id', key_types) }} as node_a,
            {{ cdp_record_key_node('right_source_table', 'right_record_id', key_types) }} as node_b
        from {{ ref('int_identity__probabilistic_pairs') }}
        where match_probability >= {{ config.probabilistic.get('same_person_probability', 1) }}
    {%- else %}
    select
        node_a,
        node_b
    from phone_pairs
    where 1 = 0
    {%- endif %}
)

select
    node_a,
    node_b
from phone_pairs
union
select
    node_a,
    node_b
from probabilistic_pairs
