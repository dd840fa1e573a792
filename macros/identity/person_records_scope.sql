{#- What an incremental build of int_identity__person_records rebuilds. A person record's row
    depends on its staged row (the records staging typed since are rebuilt), on whether the
    blocklist stops its email or phone, and on the seed first_name_groups. An identifier's
    blocklist status depends only on its value and the seed identity_blocklist, and
    int_identity__blocklisted_identifiers stamps each row with that seed's digest (matching
    every identifier again when it changes), so the statuses can change only when that digest
    does. -#}

{#- The digest of what every person record depends on beyond its staged row: the seed
    first_name_groups and the blocklist's rules as int_identity__blocklisted_identifiers
    applied them ('none' while it holds no row). -#}
{% macro cdp_person_records_rules_digest() -%}
    {{ dbt.concat([
        cdp_relation_digest(ref('first_name_groups'), ['name', 'name_group']),
        "'/'",
        "coalesce((select max(blocklisted.rules_digest) from " ~ ref('int_identity__blocklisted_identifiers')
            ~ " as blocklisted), 'none')",
    ]) }}
{%- endmacro %}

{#- Whether to rebuild every person record: the stored rules_digest differs from `rules_digest`
    (cdp_person_records_rules_digest). -#}
{% macro cdp_person_records_rebuild_all(rules_digest) -%}
    {%- do cdp_require_incremental_column('rules_digest') -%}
    {{ return(cdp_holds_now([cdp_rules_changed_condition(rules_digest)])) }}
{%- endmacro %}
