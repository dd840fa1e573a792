{#- One row per distinct identifier: may it link records? Guards, in order:
    blocklist (seed identity_blocklist, matched in int_identity__blocklisted_identifiers)
    then max_partners (an identifier carried by records with more distinct values of a
    partner type than allowed is shared, e.g. an in-store kiosk's device id or a household
    inbox, and links nothing). Partner records known to be
    one person (int_identity__same_person_groups: Splink pairs, a shared phone) count once:
    two accounts of one person do not make their inbox shared, two people's do. The
    pseudo-type `people` counts CRM contacts and shop accounts together. -#}

{#- Incremental by identifier: a build without --full-refresh recomputes only the
    identifiers whose verdict can have changed since its own last build (cte `affected`):
    those on the records int_identity__record_identifiers wrote since, or carried before
    (its removal log); those the blocklist stops or frees since (the blocklisted ones
    against the stored guard 'blocklist'); and every identifier on a record that carries
    one of those, or a node int_identity__same_person_groups re-clustered since (its log),
    since their partners changed. `rules_digest` is the configuration the verdicts apply
    (identifier types, max_partners, the person key types): another value, a full rebuild
    of either input since, or a missing log recomputes and rewrites every identifier.
    Otherwise it writes only the identifiers whose row changed, appeared or is gone (a row
    with a null identifier_type, not stored: strategy replace_keys); `_built_at` is when the row was
    last written, and `usability_changed_at` keeps when is_usable last changed (or the
    identifier appeared), so int_identity__record_nodes re-ranks only the records carrying
    an identifier whose usability changed since its own last build, and
    customer_identifiers rewrites only the identifiers written since its own. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_keys',
    unique_key=['identifier_key', 'identifier_type'],
    on_schema_change='fail',
) }}
{%- set config = cdp_identity_config() %}
{%- set types = config.identifier_types %}
{%- set key_types = cdp_record_key_types() %}
{%- set record_identifiers = ref('int_identity__record_identifiers') %}
{%- set rules_digest = local_md5(tojson({'identifier_types': types, 'key_types': key_types}, sort_keys=true)) %}
{%- set scoped = is_incremental() and not cdp_verdicts_rebuild_all(rules_digest) %}
{%- set partner_limits = [] %}
{%- for name, spec in types.items() %}
    {%- for partner, limit in spec.get('max_partners', {}).items() %}
        {%- do partner_limits.append((name, partner, limit)) %}
    {%- endfor %}
{%- endfor %}

{#- In a full build int_identity__record_identifiers is read twice rather than through one
    CTE: DuckDB materializes a CTE read twice, all its columns (at 1M people 17M rows, 1.2 s
    of 9.4 s), where two scans read only the columns each needs. -#}
with
{%- if scoped %}
    {{ cdp_verdicts_affected_ctes() }}

    {#- The affected identifiers' rows, taken once from the 17M record identifiers for both
        their counts and their usable links (two scans of the identifier keys before: at 1M
        people, +1%, the query replayed 1.9 s against 1.6 s; idle 0.02 s either way). #}
    affected_links as {{ cdp_materialized_cte() }} (
        select record_identifiers.*
        from {{ record_identifiers }} as record_identifiers
        where record_identifiers.identifier_key in (select affected.identifier_key from affected)
    ),
{%- endif %}
{%- set links = 'affected_links' if scoped else record_identifiers %}

identifiers as (
    select
        identifier_key,
        identifier_type,
        {{ cdp_identifier_value('identifier_key', 'identifier_type') }} as identifier_value,
        priority,
        min(observed_at) as first_seen_at,
        max(observed_at) as last_seen_at,
        count(*) as records
    from {{ links }}
    group by identifier_key, identifier_type, priority
),

blocked as (
    select
        identifier_key,
        reason
    from {{ ref('int_identity__blocklisted_identifiers') }}
),

usable_links as (
    select links.*
    from {{ links }} as links
    {%- if scoped %}
    where links.identifier_key not in (select blocked.identifier_key from blocked)
    {%- else %}
    left join blocked
        on links.identifier_key = blocked.identifier_key
    where blocked.identifier_key is null
    {%- endif %}
),

{%- if scoped %}

{#- The usable identifiers of the records the identifiers judged carry (in a full build,
    usable_links itself: another CTE over it would be materialized again, 17M rows at 1M
    people). -#}
partner_candidates as (
    select judged_links.*
    from (
        select record_identifiers.*
        from {{ record_identifiers }} as record_identifiers
        -- By record_key since usable_links is read from affected_links: replayed at 1M
        -- people (+1%), the scoped query took 1.6 s joined by the text pair, 1.3 s so (before
        -- affected_links, the text pair was the better plan: 2.1 s against 3.0 s).
        inner join (
            select distinct record_key
            from usable_links
        ) as judged_records
            on record_identifiers.record_key = judged_records.record_key
    ) as judged_links
    -- The blocklist filtered after the join, not anti-joined beside it: there DuckDB could
    -- put the filtered 17M record identifiers on the hashed side of the join by its
    -- estimates (a coin toss between warehouses of the same data), 1.0 to 1.5 s of an idle
    -- build at 1M people against 0.02 s.
    where judged_links.identifier_key not in (select blocked.identifier_key from blocked)
),
{%- endif %}
{%- set partner_candidates = 'partner_candidates' if scoped else 'usable_links' %}

same_person_keys as (
    select
        node_key as identifier_key,
        component_key as linked_key
    from {{ ref('int_identity__same_person_groups') }}
),

{#- Partner values by type, plus the pseudo-type `people`: the records that are people
    (CRM contacts, shop accounts: the sources keyed by an identifier), all types together.
    Records are joined by record_key (one per record, tested on int_identity__record_nodes),
    not the text pair: at 1M people the full build's query alone took 9.6 s against 12.3 s. -#}
partner_links as (
    select
        record_key,
        identifier_key,
        identifier_type as partner_type
    from {{ partner_candidates }}
    {%- if key_types %}
    union all
    select
        record_key,
        identifier_key,
        cast('people' as {{ dbt.type_string() }}) as partner_type
    from {{ partner_candidates }}
    where identifier_type in ('{{ key_types.values() | unique | join("', '") }}')
    {%- endif %}
),

partner_counts as (
    {%- if partner_limits %}
    select
        own.identifier_key,
        partner.partner_type,
        -- A person record counts as its same-person group (named by its smallest key).
        count(distinct coalesce(same_person_keys.linked_key, partner.identifier_key)) as partners
    from usable_links as own
    inner join partner_links as partner
        on own.record_key = partner.record_key
    left join same_person_keys
        on partner.identifier_key = same_person_keys.identifier_key
    where
        {%- for name, partner, limit in partner_limits %}
        (own.identifier_type = '{{ name }}' and partner.partner_type = '{{ partner }}')
        {%- if not loop.last %} or{% endif %}
        {%- endfor %}
    group by own.identifier_key, partner.partner_type
    {%- else %}
    select
        cast(null as {{ dbt.type_string() }}) as identifier_key,
        cast(null as {{ dbt.type_string() }}) as partner_type,
        0 as partners
    where 1 = 0
    {%- endif %}
),

partner_limits as (
    {%- for name, partner, limit in partner_limits %}
    select
        cast('{{ name }}' as {{ dbt.type_string() }}) as identifier_type,
        cast('{{ partner }}' as {{ dbt.type_string() }}) as partner_type,
        {{ limit }} as max_partners
    {% if not loop.last %}union all{% endif %}
    {%- else %}
    select
        cast(null as {{ dbt.type_string() }}) as identifier_type,
        cast(null as {{ dbt.type_string() }}) as partner_type,
        0 as max_partners
    where 1 = 0
    {%- endfor %}
),

shared as (
    select
        identifiers.identifier_key,
        min(
            {{ dbt.concat([
                "'max_partners: linked to '", "cast(partner_counts.partners as " ~ dbt.type_string() ~ ")",
                "' distinct '", "partner_counts.partner_type", "' (max '",
                "cast(partner_limits.max_partners as " ~ dbt.type_string() ~ ")", "')'"
            ]) }}
        ) as reason
    from identifiers
    inner join partner_counts
        on identifiers.identifier_key = partner_counts.identifier_key
    inner join partner_limits
        on identifiers.identifier_type = partner_limits.identifier_type
        and partner_counts.partner_type = partner_limits.partner_type
    where partner_counts.partners > partner_limits.max_partners
    group by identifiers.identifier_key
),

verdicts as (
    select
        identifiers.identifier_key,
        identifiers.identifier_type,
        identifiers.identifier_value,
        identifiers.priority,
        identifiers.first_seen_at,
        identifiers.last_seen_at,
        identifiers.records,
        blocked.identifier_key is null and shared.identifier_key is null as is_usable,
        case
            when blocked.identifier_key is not null then 'blocklist'
            when shared.identifier_key is not null then 'max_partners'
        end as guard,
        coalesce(blocked.reason, shared.reason) as guard_reason,
        cast('{{ rules_digest }}' as {{ cdp_type_varchar() }}) as rules_digest
    from identifiers
    left join blocked
        on identifiers.identifier_key = blocked.identifier_key
    left join shared
        on identifiers.identifier_key = shared.identifier_key
)

{% set compared = ['identifier_type', 'identifier_value', 'priority', 'first_seen_at', 'last_seen_at', 'records', 'is_usable', 'guard', 'guard_reason', 'rules_digest'] %}
{% if is_incremental() %}
    , stored as (
        select * from {{ this }}
        {%- if scoped %}
        where identifier_key in (select affected.identifier_key from affected)
        {%- endif %}
    )

    select
        verdicts.*,
        case
            when stored.identifier_key is null or stored.is_usable <> verdicts.is_usable
                then {{ cdp_run_started_at() }}
            else stored.usability_changed_at
        end as usability_changed_at,
        {{ cdp_run_started_at() }} as _built_at
    from verdicts
    left join stored
        on verdicts.identifier_key = stored.identifier_key
    where
        {#- Recomputing every identifier, it writes every row: its newest _built_at, the
            watermark, is then newer than what made it recompute them. #}
        {%- if not scoped %}
        true or
        {%- endif %}
        stored.identifier_key is null
        {%- for column in compared %}
        or verdicts.{{ column }} is distinct from stored.{{ column }}
        {%- endfor %}
    union all
    select
        stored.identifier_key,
        {%- for column in compared %}
        null as {{ column }},
        {%- endfor %}
        null as usability_changed_at,
        null as _built_at
    from stored
    where stored.identifier_key not in (select verdicts.identifier_key from verdicts)
{% else %}
    select
        verdicts.*,
        {{ cdp_run_started_at() }} as usability_changed_at,
        {{ cdp_run_started_at() }} as _built_at
    from verdicts
{% endif %}
