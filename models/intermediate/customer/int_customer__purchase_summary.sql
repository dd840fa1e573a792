{#- Per customer with a completed order up to the as-of date: the (frequency, recency, T,
    monetary value) summary the BG/NBD and Gamma-Gamma models are fitted on, counted in
    purchase days (several orders on one day are one purchase) and measured in
    cdp_customer.predictive.time_unit, as lifetimes' summary_data_from_transaction_data
    does. The convention reproduces Fader, Hardie & Lee (2005) on CDNOW (_models.yml). -#}
{%- set predictive = cdp_customer_config().predictive -%}
{%- set days_per_unit = 7 if predictive.time_unit == 'week' else 1 -%}

with as_of as (
    select {{ cdp_as_of_date() }} as as_of_date
),

purchase_days as (
    select
        orders.customer_id,
        orders.order_date as purchase_date,
        sum(orders.amount) as purchase_amount
    from {{ ref('int_customer__orders') }} as orders
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
    cast(
        {{ dbt.datediff('customers.first_purchase_date', 'customers.last_purchase_date', 'day') }}
        as {{ cdp_type_double() }}
    ) / {{ days_per_unit }} as recency,
    cast(
        {{ dbt.datediff('customers.first_purchase_date', 'as_of.as_of_date', 'day') }}
        as {{ cdp_type_double() }}
    ) / {{ days_per_unit }} as customer_age,
    cast(customers.monetary_value as {{ cdp_type_double() }}) as monetary_value,
    customers.total_amount
from customers
cross join as_of
