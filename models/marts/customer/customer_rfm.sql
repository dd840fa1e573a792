{#- Recency, frequency and monetary value of every customer with a completed order up to
    the as-of date (cdp_customer.as_of), scored 1-5 and named by the seed rfm_segment_map.
    Scores are quintiles of the percent rank, so equal values always share a score (ntile
    would split a tie across two scores arbitrarily): 5 is the most recent, most frequent,
    highest spending fifth. -#}

with purchase_summary as (
    select * from {{ ref('int_customer__purchase_summary') }}
),

-- The summary holds every customer with a completed order up to the as-of date, with the
-- orders' count and total: RFM needs no pass over the orders of its own.
per_customer as (
    select
        customer_id,
        as_of_date,
        {{ dbt.datediff('last_purchase_date', 'as_of_date', 'day') }} as recency_days,
        completed_orders as frequency,
        total_amount as monetary
    from purchase_summary
),

scored as (
    select
        per_customer.*,
        {{ cdp_quintile_score('recency_days', descending=true) }} as recency_score,
        {{ cdp_quintile_score('frequency') }} as frequency_score,
        {{ cdp_quintile_score('monetary') }} as monetary_score
    from per_customer
),

with_fm as (
    select
        scored.*,
        -- The mean of the two scores rounded half up, in arithmetic exact on every engine.
        cast(floor((scored.frequency_score + scored.monetary_score + 1) / 2.0) as integer) as frequency_monetary_score
    from scored
),

segment_map as (
    select * from {{ ref('rfm_segment_map') }}
)

select
    cast(with_fm.customer_id as {{ dbt.type_string() }}) as customer_id,
    cast(with_fm.as_of_date as date) as as_of_date,
    cast(with_fm.recency_days as integer) as recency_days,
    cast(with_fm.frequency as integer) as frequency,
    cast(with_fm.monetary as numeric(18, 2)) as monetary,
    cast(with_fm.recency_score as integer) as recency_score,
    cast(with_fm.frequency_score as integer) as frequency_score,
    cast(with_fm.monetary_score as integer) as monetary_score,
    cast(with_fm.frequency_monetary_score as integer) as frequency_monetary_score,
    cast(
        {{ dbt.concat([
            dbt.cast('with_fm.recency_score', dbt.type_string()),
            dbt.cast('with_fm.frequency_score', dbt.type_string()),
            dbt.cast('with_fm.monetary_score', dbt.type_string()),
        ]) }} as {{ dbt.type_string() }}
    ) as rfm_score,
    cast(segment_map.rfm_segment as {{ dbt.type_string() }}) as rfm_segment
from with_fm
left join segment_map
    on
        with_fm.recency_score = segment_map.recency_score
        and with_fm.frequency_monetary_score = segment_map.frequency_monetary_score
