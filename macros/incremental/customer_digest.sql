{#- Aggregate: a fingerprint of rows (`columns`) that does not depend on their order: row
    count and the sum of 40-bit row hashes (cdp_hash_int). `rules` is configuration as a
    string (survivorship, thresholds): its hash leads the digest. cdp_relation_digest
    (touched_customers.sql) fingerprints seeds and rules with it, so a change of either
    rebuilds every customer of a model incremental by customer. -#}
{% macro cdp_customer_digest(columns, rules) -%}
    {{ dbt.concat([
        "'" ~ local_md5(rules)[:12] ~ "-'",
        "cast(count(*) as " ~ dbt.type_string() ~ ")",
        "'-'",
        "cast(sum(" ~ cdp_hash_int(columns) ~ ") as " ~ dbt.type_string() ~ ")",
    ]) }}
{%- endmacro %}
