{#- customer_predictions for BI: holds no PII, every column passes through. -#}
{{ config(alias='customer_predictions', grants=cdp_bi_grants()) }}

select
    customer_id,
    as_of_date,
    time_unit,
    frequency,
    recency,
    customer_age,
    monetary_value,
    expected_purchases,
    probability_alive,
    churn_risk,
    expected_order_value,
    predicted_clv
from {{ ref('customer_predictions') }}
