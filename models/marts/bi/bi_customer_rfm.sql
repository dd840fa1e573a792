{#- customer_rfm for BI: holds no PII, every column passes through. -#}
{{ config(alias='customer_rfm', grants=cdp_bi_grants()) }}

select
    customer_id,
    as_of_date,
    recency_days,
    frequency,
    monetary,
    recency_score,
    frequency_score,
    monetary_score,
    frequency_monetary_score,
    rfm_score,
    rfm_segment
from {{ ref('customer_rfm') }}
