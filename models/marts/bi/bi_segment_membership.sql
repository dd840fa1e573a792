{#- segment_membership for BI: holds no PII, every column passes through. -#}
{{ config(alias='segment_membership', grants=cdp_bi_grants()) }}

select
    segment_name,
    customer_id,
    refreshed_at
from {{ ref('segment_membership') }}
