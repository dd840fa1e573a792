{#- What an incremental build of int_identity__identifier_verdicts recomputes. An
    identifier's verdict depends on the rows of the records that carry it (its counts and
    its partners), on the blocklist (its own, its partners'), and on the same-person groups
    of its partners; so it can change only if one of those changed since the verdicts' last
    build. -#}

{#- Whether to recompute every identifier: the rules the verdicts apply changed (the
    stored rules_digest differs), an input was rebuilt in full since (every row of
    int_identity__record_identifiers written since; int_identity__same_person_groups'
    log holds a full run since), or a log the scope is read from is missing (the models
    were not built since this code). -#}
{% macro cdp_verdicts_rebuild_all(rules_digest) -%}
    {%- set record_identifiers = ref('int_identity__record_identifiers') -%}
    {%- set identifiers_log = load_relation(cdp_removal_log_relation(record_identifiers)) -%}
    {%- set groups_log = load_relation(cdp_reclustered_log_relation(ref('int_identity__same_person_groups'))) -%}
    {%- if identifiers_log is none or groups_log is none -%}
        {{ return(true) }}
    {%- endif -%}
    {{ return(cdp_holds_now([
        cdp_rules_changed_condition("'" ~ rules_digest ~ "'"),
        cdp_removal_log_lacks_rows_since_this(record_identifiers),
        cdp_reclustered_log_lacks_rows_since(groups_log, cdp_watermark_since()),
    ])) }}
{%- endmacro %}

{#- CTEs ending in `affected` (identifier_key): the identifiers whose verdict can have
    changed since the verdicts' last build. Ends with a comma. -#}
{% macro cdp_verdicts_affected_ctes() -%}
    {%- set record_identifiers = ref('int_identity__record_identifiers') -%}
    {#- Identifiers a record written since carries, or carried before it was replaced. -#}
    relinked as (
        select identifier_key
        from {{ record_identifiers }}
        where _built_at > {{ cdp_watermark_since() }}
        union
        select identifier_key
        from {{ cdp_removal_log_relation(record_identifiers) }}
        where _removed_at > {{ cdp_watermark_since() }}
    ),

    stored_blocked as (
        select
            identifier_key,
            guard_reason
        from {{ this }}
        where guard = 'blocklist'
    ),

    {#- Identifiers the blocklist stops, frees, or stops for another reason since. -#}
    reblocked as (
        select coalesce(blocklisted.identifier_key, stored_blocked.identifier_key) as identifier_key
        from {{ ref('int_identity__blocklisted_identifiers') }} as blocklisted
        full outer join stored_blocked
            on blocklisted.identifier_key = stored_blocked.identifier_key
        where
            blocklisted.identifier_key is null
            or stored_blocked.identifier_key is null
            or blocklisted.reason <> stored_blocked.guard_reason
    ),

    {#- Person nodes whose same-person group changed (or that left every group). -#}
    regrouped as (
        select node_key as identifier_key
        from {{ cdp_reclustered_log_relation(ref('int_identity__same_person_groups')) }}
        where _reclustered_at > {{ cdp_watermark_since() }}
    ),

    {#- The records on which those are partners: every identifier there is re-counted. -#}
    repartnered_records as (
        select distinct record_key
        from {{ record_identifiers }}
        where identifier_key in (
            select reblocked.identifier_key from reblocked
            union
            select regrouped.identifier_key from regrouped
        )
    ),

    affected as (
        select relinked.identifier_key from relinked
        union
        select reblocked.identifier_key from reblocked
        union
        select record_identifiers.identifier_key
        from {{ record_identifiers }} as record_identifiers
        inner join repartnered_records
            on record_identifiers.record_key = repartnered_records.record_key
    ),
{%- endmacro %}
