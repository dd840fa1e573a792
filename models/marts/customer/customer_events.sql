{#- Every customer event in time order with the journey stage the customer was in when it
    happened. Before the first completed order the stage is the furthest pre-purchase stage
    reached so far (the seed journey_event_stages maps event types to awareness or
    consideration); the first completed order is purchase; later events are retention, and
    loyalty from the cdp_customer.loyalty_order_threshold-th completed order on. Stages
    never move backwards.
    Incremental by customer: a build recomputes only the customers of the records
    customer_records wrote or replaced since its last one (_built_at and its removal log,
    macros/incremental/touched_customers.sql), and every customer when the rules above, the
    reporting currency of order amounts, or the seeds they read (journey_event_stages,
    currency_rates) changed (rules_digest). -#}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_customers',
    unique_key=['customer_id', 'event_key'],
    on_schema_change='fail',
) }}
{%- set loyalty_threshold = cdp_customer_config().loyalty_order_threshold %}
{#- Built after the golden record, never beside it: the two largest queries of a full build
    took 37 s each side by side at 1M people and 21 s one after the other (README, Benchmark).
    dbt has no scheduling priority; this dependency is only that order. -#}
-- depends_on: {{ ref('int_customer__golden_attributes') }}

with
{{ cdp_stamped_customers_ctes(
    dbt.concat([
        cdp_relation_digest(ref('journey_event_stages'), ['event_type', 'pre_purchase_stage'],
            rules='loyalty_order_threshold=' ~ loyalty_threshold),
        "'/'",
        cdp_order_amounts_digest(),
    ]),
    rebuilt='rebuilt_records',
) }},

events as (
    select * from {{ ref('int_customer__events') }}
),

stages as (
    select * from {{ ref('journey_event_stages') }}
),

-- The events of the customers to rebuild: the records are the small side of the join.
rebuilt_events as (
    select
        events.*,
        rebuilt_records.customer_id,
        stages.pre_purchase_stage
    from events
    inner join rebuilt_records
        on
            events.source_table = rebuilt_records.source_table
            and events.record_id = rebuilt_records.record_id
    left join stages on events.event_type = stages.event_type
),

progress as (
    select
        rebuilt_events.*,
        row_number() over (
            partition by rebuilt_events.customer_id order by rebuilt_events.event_at, rebuilt_events.event_key
        ) as customer_event_number,
        sum(case when rebuilt_events.event_type = 'order_completed' then 1 else 0 end) over (
            partition by rebuilt_events.customer_id
            order by rebuilt_events.event_at, rebuilt_events.event_key
            rows between unbounded preceding and current row
        ) as completed_orders_so_far,
        max(case when rebuilt_events.pre_purchase_stage = 'consideration' then 2 else 1 end) over (
            partition by rebuilt_events.customer_id
            order by rebuilt_events.event_at, rebuilt_events.event_key
            rows between unbounded preceding and current row
        ) as pre_purchase_rank
    from rebuilt_events
)

select
    cast(progress.event_key as {{ cdp_type_varchar() }}) as event_key,
    cast(progress.customer_id as {{ cdp_type_varchar() }}) as customer_id,
    cast(progress.source_table as {{ cdp_type_varchar() }}) as source_table,
    cast(progress.record_id as {{ cdp_type_varchar() }}) as record_id,
    cast(progress.event_at as timestamp) as event_at,
    cast(progress.event_type as {{ cdp_type_varchar() }}) as event_type,
    cast(progress.channel as {{ cdp_type_varchar() }}) as channel,
    cast(progress.amount as numeric(18, 2)) as amount,
    cast(progress.customer_event_number as integer) as customer_event_number,
    cast(
        case
            when progress.completed_orders_so_far >= {{ loyalty_threshold }} then 'loyalty'
            when progress.completed_orders_so_far = 1 and progress.event_type = 'order_completed' then 'purchase'
            when progress.completed_orders_so_far >= 1 then 'retention'
            when progress.pre_purchase_rank = 2 then 'consideration'
            else 'awareness'
        end as {{ cdp_type_varchar() }}
    ) as journey_stage,
    -- Kept on the customer's first event only: one per customer is all change detection needs.
    cast(
        case when progress.customer_event_number = 1 then (select rules.digest from rules) end
        as {{ cdp_type_varchar() }}
    ) as rules_digest,
    {{ cdp_run_started_at() }} as _built_at
from progress
{%- if is_incremental() %}

    union all

    -- Touched customers left with no events: a row without event_key deletes their stored ones.
    select
        cast(null as {{ cdp_type_varchar() }}) as event_key,
        cast(touched_customers.customer_id as {{ cdp_type_varchar() }}) as customer_id,
        cast(null as {{ cdp_type_varchar() }}) as source_table,
        cast(null as {{ cdp_type_varchar() }}) as record_id,
        cast(null as timestamp) as event_at,
        cast(null as {{ cdp_type_varchar() }}) as event_type,
        cast(null as {{ cdp_type_varchar() }}) as channel,
        cast(null as numeric(18, 2)) as amount,
        cast(null as integer) as customer_event_number,
        cast(null as {{ cdp_type_varchar() }}) as journey_stage,
        cast(null as {{ cdp_type_varchar() }}) as rules_digest,
        cast(null as timestamp) as _built_at
    from touched_customers
    where touched_customers.customer_id not in (select rebuilt_events.customer_id from rebuilt_events)
{%- endif %}
