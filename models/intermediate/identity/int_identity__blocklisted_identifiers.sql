{#- The identifiers the seed identity_blocklist stops (placeholders: test@test.com, a
    sequential phone), with the smallest matching rule's reason. The first guard of
    int_identity__identifier_verdicts, and what probabilistic matching must not compare
    (int_identity__person_records). Exact rules are an equi-join; regex rules are literals
    where the built seed could be read (macros/identity/blocklist.sql).

    Incremental by identifier: whether an identifier is blocklisted depends only on its type,
    its value and the seed, so a build matches only the identifiers of the records
    int_identity__record_identifiers wrote since its newest _built_at, and deletes (a row
    with a null identifier_type: strategy replace_keys) the stored ones that no record
    carries any more (found through the removal log of int_identity__record_identifiers).
    It matches every identifier again, and deletes the stored rows it no longer matches,
    when the seed changed (rules_digest), on a full build of the record identifiers, or
    when it holds no row (no digest to compare). -#}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_keys',
    unique_key=['identifier_key', 'identifier_type'],
) }}
{%- set regex_rules = cdp_blocklist_regex_rules(ref('identity_blocklist')) %}
{%- set rules_digest = cdp_relation_digest(
    ref('identity_blocklist'), ['identifier_type', 'match_type', 'pattern', 'reason']) %}
{%- set scoped = is_incremental() and not cdp_blocklist_match_all(rules_digest) %}
{%- set record_identifiers = ref('int_identity__record_identifiers') %}

with distinct_identifiers as (
    select distinct
        identifier_key,
        identifier_type
    from {{ record_identifiers }}
    {%- if scoped %}
    where _built_at > {{ cdp_watermark_since() }}
    {%- endif %}
),

identifiers as (
    select
        identifier_key,
        identifier_type,
        {{ cdp_identifier_value('identifier_key', 'identifier_type') }} as identifier_value
    from distinct_identifiers
),

blocklist as (
    select
        {{ cdp_blocklist_rule_number() }} as rule_number,
        blocklist.*
    from {{ ref('identity_blocklist') }} as blocklist
),

blocklist_matches as (
    select
        identifiers.identifier_key,
        identifiers.identifier_type,
        identifiers.identifier_value,
        blocklist.reason,
        blocklist.pattern
    from identifiers
    inner join blocklist
        on
            identifiers.identifier_value = blocklist.pattern
            and blocklist.match_type = 'exact'
            and blocklist.identifier_type in (identifiers.identifier_type, '*')
    union all
    select
        identifiers.identifier_key,
        identifiers.identifier_type,
        identifiers.identifier_value,
        blocklist.reason,
        blocklist.pattern
    from identifiers
    inner join blocklist
        on
            blocklist.match_type = 'regex'
            and blocklist.identifier_type in (identifiers.identifier_type, '*')
            and {{ cdp_blocklist_regex_match('identifiers.identifier_value', 'blocklist', regex_rules) }}
),

matched as (
    select
        identifier_key,
        identifier_type,
        identifier_value,
        min({{ dbt.concat(["'blocklist: '", "reason", "' ('", "pattern", "')'"]) }}) as reason
    from blocklist_matches
    group by identifier_key, identifier_type, identifier_value
)
{%- if is_incremental() %},

{#- Stored identifiers this build does not match (again): when it matches every identifier,
    no longer blocklisted; else those a replaced record carried, which may be carried by no
    record now. -#}
unmatched as (
    select stored.identifier_key
    from {{ this }} as stored
    where
        stored.identifier_key not in (select matched.identifier_key from matched)
        {%- if scoped %}
        and stored.identifier_key in (
            select removed.identifier_key
            from {{ cdp_removal_log_relation(record_identifiers) }} as removed
            where removed._removed_at > {{ cdp_watermark_since() }}
        )
        {%- endif %}
){% endif %}
{%- if scoped %},

{#- Of those, the ones a record still carries (kept): a semi-join reads the record
    identifiers once. -#}
still_carried as (
    select distinct record_identifiers.identifier_key
    from {{ record_identifiers }} as record_identifiers
    where record_identifiers.identifier_key in (select unmatched.identifier_key from unmatched)
){% endif %}

select
    identifier_key,
    identifier_type,
    identifier_value,
    reason,
    {{ rules_digest }} as rules_digest,
    {{ cdp_run_started_at() }} as _built_at
from matched
{%- if is_incremental() %}
union all
{#- A null identifier_type deletes the stored row (strategy replace_keys). #}
select
    identifier_key,
    cast(null as {{ dbt.type_string() }}) as identifier_type,
    cast(null as {{ dbt.type_string() }}) as identifier_value,
    cast(null as {{ dbt.type_string() }}) as reason,
    cast(null as {{ dbt.type_string() }}) as rules_digest,
    cast(null as {{ dbt.type_timestamp() }}) as _built_at
from unmatched
{%- if scoped %}
where identifier_key not in (select still_carried.identifier_key from still_carried)
{%- endif %}
{%- endif %}
