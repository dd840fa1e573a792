{#- Every staged order with its customer and its amount in the reporting currency
    (cdp_customer.reporting_currency, converted with the seed currency_rates). Orders of
    any status; the marts decide which count (completed ones are revenue).
    Incremental by customer (strategy replace_customers; macros/incremental/
    touched_customers.sql): a build rewrites the orders of the customers of the records
    customer_records wrote since its last one or those records left, and every order when
    the reporting currency or the seed currency_rates changed (rules_digest). A touched
    customer left with no order comes as a row with a null order_id, which deletes its rows.
    Rebuilt whole on every build, the table cost about 1 s of each at 1M people, on the
    critical path to the predictions and segments. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_customers',
    unique_key=['customer_id', 'order_id'],
    on_schema_change='fail',
) }}
{%- set reporting_currency = cdp_customer_config().reporting_currency %}

with
{{ cdp_stamped_customers_ctes(cdp_order_amounts_digest(), rebuilt='rebuilt_records') }},

-- The orders of the customers to rebuild: the records are the small side of the join.
orders as (
    select
        rebuilt_records.customer_id,
        staged.order_id,
        staged.ordered_at,
        staged.status,
        staged.currency,
        staged.total_amount
    from {{ ref('stg_shop__orders') }} as staged
    inner join rebuilt_records
        on rebuilt_records.source_table = 'shop_orders' and staged.order_id = rebuilt_records.record_id
),

rates as (
    select * from {{ ref('currency_rates') }}
),

reporting_rate as (
    select rate_to_usd
    from rates
    where currency = '{{ reporting_currency }}'
)

select
    orders.customer_id,
    orders.order_id,
    orders.ordered_at,
    cast(orders.ordered_at as date) as order_date,
    orders.status,
    orders.status = 'completed' as is_completed,
    orders.currency,
    orders.total_amount,
    cast(orders.total_amount * rates.rate_to_usd / reporting_rate.rate_to_usd as {{ dbt.type_numeric() }}) as amount,
    cast((select rules.digest from rules) as {{ cdp_type_varchar() }}) as rules_digest,
    {{ cdp_run_started_at() }} as _built_at
from orders
left join rates
    on orders.currency = rates.currency
cross join reporting_rate
{%- if is_incremental() %}

    union all

    -- Touched customers left with no order: a row without order_id deletes theirs. Typed as
    -- above: Postgres gives a union of numeric(18, 2) and an untyped null plain numeric,
    -- which the stored column's type then no longer matches.
    select
        touched_customers.customer_id,
        null as order_id,
        cast(null as timestamp) as ordered_at,
        cast(null as date) as order_date,
        null as status,
        cast(null as boolean) as is_completed,
        null as currency,
        cast(null as numeric(18, 2)) as total_amount,
        cast(null as {{ dbt.type_numeric() }}) as amount,
        null as rules_digest,
        null as _built_at
    from touched_customers
    where touched_customers.customer_id not in (select orders.customer_id from orders)
{%- endif %}
