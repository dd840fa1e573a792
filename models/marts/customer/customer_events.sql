{#- Every customer event in time order with the journey stage the customer was in when it
    happened. Before the first completed order the stage is the furthest pre-purchase stage
    reached so far (the seed journey_event_stages maps event types to awareness or
    consideration); the first completed order is purchase; later events are retention, and
    loyalty from the cdp_customer.loyalty_order_threshold-th completed order on. Stages
    never move backwards. -#}
{%- set loyalty_threshold = cdp_customer_config().loyalty_order_threshold %}

with events as (
    select * from {{ ref('int_customer__events') }}
),

stages as (
    select * from {{ ref('journey_event_stages') }}
),

progress as (
    select
        events.*,
        row_number() over (partition by events.customer_id order by events.event_at, events.event_key)
            as customer_event_number,
        sum(case when events.event_type = 'order_completed' then 1 else 0 end) over (
            partition by events.customer_id
            order by events.event_at, events.event_key
            rows between unbounded preceding and current row
        ) as completed_orders_so_far,
        max(case when stages.pre_purchase_stage = 'consideration' then 2 else 1 end) over (
            partition by events.customer_id
            order by events.event_at, events.event_key
            rows between unbounded preceding and current row
        ) as pre_purchase_rank
    from events
    left join stages on events.event_type = stages.event_type
)

select
    cast(event_key as {{ dbt.type_string() }}) as event_key,
    cast(customer_id as {{ dbt.type_string() }}) as customer_id,
    cast(source_table as {{ dbt.type_string() }}) as source_table,
    cast(record_id as {{ dbt.type_string() }}) as record_id,
    cast(event_at as timestamp) as event_at,
    cast(event_type as {{ dbt.type_string() }}) as event_type,
    cast(channel as {{ dbt.type_string() }}) as channel,
    cast(amount as numeric(18, 2)) as amount,
    cast(customer_event_number as integer) as customer_event_number,
    cast(
        case
            when completed_orders_so_far >= {{ loyalty_threshold }} then 'loyalty'
            when completed_orders_so_far = 1 and event_type = 'order_completed' then 'purchase'
            when completed_orders_so_far >= 1 then 'retention'
            when pre_purchase_rank = 2 then 'consideration'
            else 'awareness'
        end as {{ dbt.type_string() }}
    ) as journey_stage
from progress
