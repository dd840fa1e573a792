{#- Change detection per customer from stamps, for a customer mart that stores `_built_at`
    and `rules_digest` on its rows (replace_customers): instead of fingerprinting every
    customer's inputs (a join of every source row with customer_records), a build rebuilds
    the customers of the records customer_records wrote since the mart's own last build
    (their new customer) and the customers those records, and the ones gone, belonged to
    before (their old customer: customer_records' removal log). customer_records rewrites every record staging typed again and every record
    whose customer changed (macros/identity/touched_records.sql), so these are all the
    customers whose rows can differ. `rules_digest` (an SQL expression) is the
    configuration and seed content the mart applies: stored on its rows, a different value
    rebuilds every customer. -#}

{#- CTEs of such a model: `records` (source_table, record_id, customer_id, observed_at of
    customer_records), `rules` (digest), on an incremental build `touched_customers`, and
    `rebuilt`: the records of the customers to rebuild. Join the wide rows to `rebuilt`
    after: DuckDB does not push the customer filter below a join, so filtering joined rows
    would join every record (at 1M people 13 s against 4 s). A moved or deleted record's
    previous customer is found in customer_records__removed (removal_log=['customer_id']):
    customer_events used to look it up in its own rows, a join of its 12M rows at 1M people
    (1.5 s) where the log holds the few thousand replaced since. A mart built on other customer models too names them: `written`, models whose
    rows written since (their `_built_at`) touch their customer, and `removed`, models with
    a removal log (removal_log=['customer_id']) whose rows written or replaced since touch
    their new and old customer (customer_360: customer_identifiers). Without a removal log
    (its model not built since this code), when its model was rebuilt in full since this
    model's last build (which drops the log), or when the log was pruned since, every
    customer is rebuilt, as on a rules change. Ends without a comma. -#}
{% macro cdp_stamped_customers_ctes(rules_digest, rebuilt, written=[], removed=[]) -%}
{%- set logged = [ref('customer_records')] + removed -%}
records as {{ cdp_inlined_cte() }} (
    select
        source_table,
        record_id,
        customer_id,
        observed_at
    from {{ ref('customer_records') }}
),

rules as (
    select {{ rules_digest }} as digest
),

{% if is_incremental() %}
    {#- The removal logs there are to read: a missing one makes rebuild_all true. -#}
    {%- set logs = [] %}
    {%- for relation in logged %}
        {%- set log = load_relation(cdp_removal_log_relation(relation)) %}
        {%- if log is not none %}
            {%- do logs.append(log) %}
        {%- endif %}
    {%- endfor %}
    {#- Whether every customer is rebuilt, asked before the query (cdp_holds_now): the rules
        changed, or a log cannot tell what its model replaced since. As a condition inside
        the query it hid from DuckDB's planner that the touched customers are few. #}
    {%- set conditions = [cdp_rules_changed_condition(rules_digest)] %}
    {%- for relation in logged %}
        {%- do conditions.append(cdp_removal_log_lacks_rows_since_this(relation)) %}
    {%- endfor %}
    {%- set touched_sql %}
    {%- if cdp_holds_now(conditions) %}
        select customer_id
        from {{ ref('customer_records') }}
        union
        select customer_id
        from {{ this }}
    {%- else %}
        select customer_id
        from {{ ref('customer_records') }}
        where _built_at > {{ cdp_watermark_since() }}
        {%- for relation in written + removed %}
            union
            select customer_id
            from {{ relation }}
            where _built_at > {{ cdp_watermark_since() }}
        {%- endfor %}
        {%- for log in logs %}
            union
            select removed.customer_id
            from {{ log }} as removed
            where
                removed._removed_at > {{ cdp_watermark_since() }}
                and removed.customer_id is not null
        {%- endfor %}
    {%- endif %}
    {%- endset %}
    touched_customers as (
        {{ cdp_counted_set('touched_customers', touched_sql) }}
    ),
{% endif %}

{#- Materialized in an incremental build (a few customers' records), so they filter the wide
    inputs before any join; in a full build it is every record, which a copy would only slow. #}
{{ rebuilt }} as {% if is_incremental() %}{{ cdp_materialized_cte() }} {% endif %}(
    {{ cdp_rows_of_touched_customers('records') }}
)
{%- endmacro %}

{#- Expression: a digest of a relation's rows over `columns` with `rules` (configuration as
    text), for cdp_stamped_customers_ctes' rules_digest: a changed seed changes it. -#}
{% macro cdp_relation_digest(relation, columns, rules='') -%}
    (select {{ cdp_customer_digest(columns, rules) }} from {{ relation }})
{%- endmacro %}

{#- Select: the rows of `inputs` (keyed by customer_id) to rebuild: every row in a full
    build, the rows of the customers in the CTE touched_customers in an incremental one. -#}
{% macro cdp_rows_of_touched_customers(inputs) -%}
    select * from {{ inputs }}
    {%- if is_incremental() %}
        where customer_id in (select touched_customers.customer_id from touched_customers)
    {%- endif %}
{%- endmacro %}
