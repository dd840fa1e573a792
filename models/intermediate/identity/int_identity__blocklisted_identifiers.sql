{#- The identifiers the seed identity_blocklist stops (placeholders: test@test.com, a
    sequential phone), with the smallest matching rule's reason. The first guard of
    int_identity__identifier_verdicts, and what probabilistic matching must not compare
    (int_identity__person_records). Exact rules are an equi-join; regex rules are literals
    where the built seed could be read (macros/identity/blocklist.sql). -#}
{%- set regex_rules = cdp_blocklist_regex_rules(ref('identity_blocklist')) %}

with identifiers as (
    select distinct
        identifier_key,
        identifier_type,
        identifier_value
    from {{ ref('int_identity__record_identifiers') }}
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
)

select
    identifier_key,
    identifier_type,
    identifier_value,
    min({{ dbt.concat(["'blocklist: '", "reason", "' ('", "pattern", "')'"]) }}) as reason
from blocklist_matches
group by identifier_key, identifier_type, identifier_value
