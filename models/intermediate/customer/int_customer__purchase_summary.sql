{#- Per customer with a completed order up to the as-of date: the (frequency, recency, T,
    monetary value) summary the BG/NBD and Gamma-Gamma models are fitted on, counted in
    purchase days (several orders on one day are one purchase) and measured in
    cdp_customer.predictive.time_unit, as lifetimes' summary_data_from_transaction_data
    does. The convention reproduces Fader, Hardie & Lee (2005) on CDNOW (_models.yml).
    Incremental by customer (strategy replace_customers; macros/incremental/
    touched_customers.sql): a build recomputes the customers of the records customer_records
    wrote or replaced since its last one and the customers int_customer__orders rewrote
    since, and every customer when the time unit or the as-of date changed (rules_digest: a
    build on a new day, without a fixed cdp_customer.as_of, recomputes everyone, since
    every customer's age moved). A touched customer left with no completed order comes as a
    row with a null _built_at, which deletes its row. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_customers',
    unique_key=['customer_id', '_built_at'],
    on_schema_change='fail',
) }}
{%- set predictive = cdp_customer_config().predictive -%}
{%- set days_per_unit = 7 if predictive.time_unit == 'week' else 1 %}

with
{{ cdp_stamped_customers_ctes(
    dbt.concat([
        "'time_unit=" ~ predictive.time_unit ~ "/as_of='",
        dbt.cast(cdp_as_of_date(), dbt.type_string()),
    ]),
    rebuilt='rebuilt_records',
    written=[ref('int_customer__orders')],
) }},

as_of as (
    select {{ cdp_as_of_date() }} as as_of_date
),

-- The orders of the customers to rebuild: the touched customers are the small side.
orders as (
    select all_orders.*
    from {{ ref('int_customer__orders') }} as all_orders
    {%- if is_incremental() %}
    inner join touched_customers on all_orders.customer_id = touched_customers.customer_id
    {%- endif %}
),

purchase_days as (
    select
        orders.customer_id,
        orders.order_date as purchase_date,
        count(*) as purchase_orders,
        sum(orders.amount) as purchase_amount
    from orders
    cross join as_of
    where
        orders.is_completed
        and orders.order_date <= as_of.as_of_date
    group by orders.customer_id, orders.order_date
),

with_first as (
    select
        customer_id,
        purchase_date,
        purchase_orders,
        purchase_amount,
        min(purchase_date) over (partition by customer_id) as first_purchase_date
    from purchase_days
),

customers as (
    select
        customer_id,
        min(purchase_date) as first_purchase_date,
        max(purchase_date) as last_purchase_date,
        count(*) as purchase_days,
        sum(purchase_orders) as completed_orders,
        sum(purchase_amount) as total_amount,
        -- The first purchase is how the customer was acquired; spend is measured on repeats.
        avg(case when purchase_date > first_purchase_date then purchase_amount end) as monetary_value
    from with_first
    group by customer_id
)

select
    customers.customer_id,
    as_of.as_of_date,
    cast('{{ predictive.time_unit }}' as {{ dbt.type_string() }}) as time_unit,
    customers.first_purchase_date,
    customers.last_purchase_date,
    cast(customers.purchase_days as {{ dbt.type_int() }}) as purchase_days,
    cast(customers.purchase_days - 1 as {{ dbt.type_int() }}) as frequency,
    cast(customers.completed_orders as {{ dbt.type_int() }}) as completed_orders,
    cast(
        {{ dbt.datediff('customers.first_purchase_date', 'customers.last_purchase_date', 'day') }}
        as {{ cdp_type_double() }}
    ) / {{ days_per_unit }} as recency,
    cast(
        {{ dbt.datediff('customers.first_purchase_date', 'as_of.as_of_date', 'day') }}
        as {{ cdp_type_double() }}
    ) / {{ days_per_unit }} as customer_age,
    cast(customers.monetary_value as {{ cdp_type_double() }}) as monetary_value,
    customers.total_amount,
    cast((select rules.digest from rules) as {{ cdp_type_varchar() }}) as rules_digest,
    {{ cdp_run_started_at() }} as _built_at
from customers
cross join as_of
{%- if is_incremental() %}

    union all

    -- Touched customers left with no completed order: a row without _built_at deletes theirs.
    select
        touched_customers.customer_id,
        null as as_of_date,
        null as time_unit,
        null as first_purchase_date,
        null as last_purchase_date,
        null as purchase_days,
        null as frequency,
        null as completed_orders,
        null as recency,
        null as customer_age,
        null as monetary_value,
        null as total_amount,
        null as rules_digest,
        null as _built_at
    from touched_customers
    where touched_customers.customer_id not in (select customers.customer_id from customers)
{%- endif %}
