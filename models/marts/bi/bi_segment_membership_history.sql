{#- segment_membership_history for BI (segment sizes and churn over time): holds no PII,
    every column passes through. -#}
{{ config(alias='segment_membership_history', grants=cdp_bi_grants()) }}

select
    segment_name,
    customer_id,
    entered_at,
    exited_at
from {{ ref('segment_membership_history') }}
