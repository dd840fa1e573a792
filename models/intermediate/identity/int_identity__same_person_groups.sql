{{ config(materialized='connected_components', candidate_edges=true, log_reclustered=true) }}

{#- Person records (CRM contacts, shop accounts) that are one person, grouped transitively:
    max_partners counts each group as one person. Evidence: a probabilistic pair at or above
    cdp_identity.probabilistic.same_person_probability, or the same phone number on at most
    three person records (more is a switchboard or a placeholder, not a person).
    The nodes each run re-clusters are logged (log_reclustered): the verdicts re-count the
    identifiers whose partners changed group.

    Candidate edges (config candidate_edges, macros/identity/connected_components.sql): an
    incremental run computes and compares only the edges of the persons touched since the
    last clustering (after this model's newest _clustered_at): those holding a phone that a
    record gained or lost since (the record identifiers written since and their removal
    log), those that lost a phone, and the two records of every pair scored or dropped since
    (the pairs' _built_at and removal log, cdp.identity.pair_scoring). A person's phone edge
    links it to the smallest person sharing one of its personal phones, so it changes only
    when the holders of one of its phones change. A new same_person_probability scores
    every pair anew, so every pair is then newer. When an input was rebuilt in full since,
    a log is missing or was pruned since, or probabilistic matching is off (pairs stored
    before it was turned off would not be found), every edge is computed and compared. -#}
{%- set config = cdp_identity_config() %}
{%- set key_types = cdp_record_key_types() %}
{%- set person_tables = "'" ~ key_types.keys() | join("', '") ~ "'" %}
{%- set same_person_probability = config.probabilistic.get('same_person_probability', 1) %}
{%- set identifiers = ref('int_identity__record_identifiers') %}
{%- set incremental = cdp_cc_is_incremental() %}
{%- set by_candidates = false %}
{%- if cdp_probabilistic_enabled() %}
    {%- set pairs = ref('int_identity__probabilistic_pairs') %}
    {%- if incremental %}
        {%- set removed_identifiers = load_relation(cdp_removal_log_relation(identifiers)) %}
        {%- set removed_pairs = load_relation(cdp_removal_log_relation(pairs)) %}
        {%- set by_candidates = removed_identifiers is not none and removed_pairs is not none %}
    {%- endif %}
{%- endif %}
{#- SQL condition, with PERSON replaced by a person key: a person whose edges this run computes. -#}
{%- set in_scope = '((select every_edge.is_set from every_edge) or PERSON in (select touched_persons.person_key from touched_persons))'
    if by_candidates else 'true' %}

with person_phones as (
    select
        {{ cdp_record_key_node('source_table', 'record_id', key_types) }} as person_key,
        identifier_key as phone,
        _built_at
    from {{ identifiers }}
    where
        identifier_type = 'phone'
        and source_table in ({{ person_tables }})
),

probabilistic_pairs as (
    {%- if cdp_probabilistic_enabled() %}
        select
            {{ cdp_record_key_node('left_source_table', 'left_record_id', key_types) }} as node_a,
            {{ cdp_record_key_node('right_source_table', 'right_record_id', key_types) }} as node_b,
            _built_at
        from {{ pairs }}
        where match_probability >= {{ same_person_probability }}
    {%- else %}
    select
        person_key as node_a,
        person_key as node_b,
        _built_at
    from person_phones
    where 1 = 0
    {%- endif %}
),
{%- if by_candidates %}

-- Whether a log may lack rows since the last clustering: every edge is then compared.
every_edge as {{ cdp_materialized_cte() }} (
    select
        {{ cdp_removal_log_lacks_rows_since_this(identifiers, '_clustered_at') }}
        or {{ cdp_removal_log_lacks_rows_since_this(pairs, '_clustered_at') }} as is_set
),

removed_phones as (
    select
        {{ cdp_record_key_node('source_table', 'record_id', key_types) }} as person_key,
        identifier_key as phone
    from {{ removed_identifiers }}
    where
        _removed_at > {{ cdp_watermark_since('_clustered_at') }}
        and source_table in ({{ person_tables }})
),

removed_pair_edges as (
    select
        {{ cdp_record_key_node('left_source_table', 'left_record_id', key_types) }} as node_a,
        {{ cdp_record_key_node('right_source_table', 'right_record_id', key_types) }} as node_b
    from {{ removed_pairs }}
    where
        _removed_at > {{ cdp_watermark_since('_clustered_at') }}
        and left_source_table is not null
),

-- Pairs below the threshold are no edges: one that was is in the removal log.
scored_pairs as (
    select
        node_a,
        node_b
    from probabilistic_pairs
    where _built_at > {{ cdp_watermark_since('_clustered_at') }}
),

touched_phones as (
    select phone from person_phones
    where _built_at > {{ cdp_watermark_since('_clustered_at') }}
    union
    select phone from removed_phones
),

touched_persons as {{ cdp_materialized_cte() }} (
    select person_phones.person_key
    from person_phones
    inner join touched_phones
        on person_phones.phone = touched_phones.phone
    union
    select person_key from removed_phones
    union
    select node_a from scored_pairs
    union
    select node_b from scored_pairs
    union
    select node_a from removed_pair_edges
    union
    select node_b from removed_pair_edges
),
{%- endif %}

-- Every phone of the persons in scope, with all its holders: their edges are then exact.
phone_holders as (
    select
        person_key,
        phone
    from person_phones
    {%- if by_candidates %}
    where phone in (
        select scoped.phone
        from person_phones as scoped
        where {{ in_scope | replace('PERSON', 'scoped.person_key') }}
    )
    {%- endif %}
),

personal_phones as (
    select phone
    from phone_holders
    group by phone
    having count(distinct person_key) <= 3
),

phone_pairs as (
    select
        phone_holders.person_key as node_a,
        min(other_holders.person_key) as node_b
    from phone_holders
    inner join personal_phones
        on phone_holders.phone = personal_phones.phone
    inner join phone_holders as other_holders
        on phone_holders.phone = other_holders.phone
    where {{ in_scope | replace('PERSON', 'phone_holders.person_key') }}
    group by phone_holders.person_key
)

select
    node_a,
    node_b,
    true as is_edge,
    true as is_candidate
from phone_pairs
union all
select
    node_a,
    node_b,
    true as is_edge,
    {%- if by_candidates %}
        (select every_edge.is_set from every_edge)
        or _built_at > {{ cdp_watermark_since('_clustered_at') }} as is_candidate
    {%- else %}
        true as is_candidate
    {%- endif %}
from probabilistic_pairs
{%- if incremental %}
union all
-- Stored edges that may be gone: those of the persons in scope (every one without candidates).
select
    stored.node_a,
    stored.node_b,
    false as is_edge,
    true as is_candidate
from {{ cdp_cc_relation('edges') }} as stored
where {{ in_scope | replace('PERSON', 'stored.node_a') }}
{%- endif %}
