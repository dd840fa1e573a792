{#- Every staged order with its customer and its amount in the reporting currency
    (cdp_customer.reporting_currency, converted with the seed currency_rates). Orders of
    any status; the marts decide which count (completed ones are revenue). -#}

with orders as (
    select * from {{ ref('stg_shop__orders') }}
),

customer_records as (
    select
        record_id,
        customer_id
    from {{ ref('customer_records') }}
    where source_table = 'shop_orders'
),

rates as (
    select * from {{ ref('currency_rates') }}
),

reporting_rate as (
    select rate_to_usd
    from rates
    where currency = '{{ cdp_customer_config().reporting_currency }}'
)

select
    customer_records.customer_id,
    orders.order_id,
    orders.ordered_at,
    cast(orders.ordered_at as date) as order_date,
    orders.status,
    orders.status = 'completed' as is_completed,
    orders.currency,
    orders.total_amount,
    cast(orders.total_amount * rates.rate_to_usd / reporting_rate.rate_to_usd as {{ dbt.type_numeric() }}) as amount
from orders
inner join customer_records
    on orders.order_id = customer_records.record_id
left join rates
    on orders.currency = rates.currency
cross join reporting_rate
