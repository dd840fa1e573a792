{{ config(
    materialized='incremental',
    full_refresh=false,
    incremental_strategy=cdp_history_incremental_strategy(),
    unique_key=['segment_name', 'customer_id', 'entered_at'],
    on_schema_change='fail'
) }}

{#- Each run writes only what changed since the last one: a new row for every customer now in
    a segment without an open row there (entered_at = this run), and the open rows of customers
    no longer in it (same key, exited_at = this run), which replace the stored ones. Rows of
    members who stayed are not touched, so they keep their entered_at. -#}

with current_members as (
    select
        segment_name,
        customer_id
    from {{ ref('segment_membership') }}
),

open_stays as (
    select
        previous_memberships.segment_name,
        previous_memberships.customer_id,
        previous_memberships.entered_at
    from {{ cdp_previous_segment_memberships() }} as previous_memberships
    where previous_memberships.exited_at is null
),

entries as (
    select
        current_members.segment_name,
        current_members.customer_id,
        {{ cdp_run_started_at() }} as entered_at,
        cast(null as {{ dbt.type_timestamp() }}) as exited_at
    from current_members
    left join open_stays
        on
            current_members.segment_name = open_stays.segment_name
            and current_members.customer_id = open_stays.customer_id
    where open_stays.customer_id is null
),

exits as (
    select
        open_stays.segment_name,
        open_stays.customer_id,
        open_stays.entered_at,
        {{ cdp_run_started_at() }} as exited_at
    from open_stays
    left join current_members
        on
            open_stays.segment_name = current_members.segment_name
            and open_stays.customer_id = current_members.customer_id
    where current_members.customer_id is null
)

select
    segment_name,
    customer_id,
    entered_at,
    exited_at
from entries

union all

select
    segment_name,
    customer_id,
    entered_at,
    exited_at
from exits
