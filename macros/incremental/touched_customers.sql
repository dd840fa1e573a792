{#- Change detection per customer from stamps, for a customer mart that stores every source
    record it reads (source_table, record_id, customer_id) and `_built_at`: instead of
    fingerprinting every customer's inputs (cdp_rebuilt_customers_ctes, a join of every
    source row with customer_records), a build rebuilds the customers of the records
    customer_records wrote since the mart's own last build (their new customer) and of those
    records and the ones staging typed since as the mart stored them (their old customer: a
    record that moved, or is gone). customer_records rewrites every record staging typed
    again and every record whose customer changed (macros/identity/touched_records.sql), so
    these are all the customers whose rows can differ. `rules_digest` (an SQL expression) is
    the configuration and seed content the mart applies: stored on its rows, a different
    value rebuilds every customer. -#}

{#- CTEs of such a model: `rules` (digest), on an incremental build `touched_customers`, and
    `rebuilt`: the rows of `inputs` (keyed by customer_id) to rebuild. Let `inputs` be the
    customers' records and join the wide rows to `rebuilt` after: DuckDB does not push the
    customer filter below a join, so filtering joined rows would join every record (at 1M
    people 13 s against 4 s). Ends without a comma. -#}
{% macro cdp_stamped_customers_ctes(inputs, rules_digest, rebuilt) -%}
rules as (
    select {{ rules_digest }} as digest
),

{% if is_incremental() %}
    {{ cdp_watermark_cte('_built_at') }}

    rules_changed as (
        select count(*) > 0 as changed
        from {{ this }}
        where rules_digest is not null and rules_digest <> (select rules.digest from rules)
    ),

    records_written_since as (
        select
            source_table,
            record_id,
            customer_id
        from {{ ref('customer_records') }}
        where _built_at > (select watermark.since from watermark)
    ),

    touched_customers as (
        select records_written_since.customer_id
        from records_written_since
        union
        select stored.customer_id
        from {{ this }} as stored
        inner join (
            select
                source_table,
                record_id
            from records_written_since
            union all
            {{ cdp_records_typed_since('(select watermark.since from watermark)') }}
        ) as changed_records
            on
                stored.source_table = changed_records.source_table
                and stored.record_id = changed_records.record_id
        union
        select customer_id
        from {{ ref('customer_records') }}
        where (select rules_changed.changed from rules_changed)
        union
        select customer_id
        from {{ this }}
        where (select rules_changed.changed from rules_changed)
    ),
{% endif %}

{{ rebuilt }} as (
    {{ cdp_rows_of_touched_customers(inputs) }}
)
{%- endmacro %}

{#- Expression: a digest of a relation's rows over `columns` with `rules` (configuration as
    text), for cdp_stamped_customers_ctes' rules_digest: a changed seed changes it. -#}
{% macro cdp_relation_digest(relation, columns, rules='') -%}
    (select {{ cdp_customer_digest(columns, rules) }} from {{ relation }})
{%- endmacro %}
