{#- Predicted purchases, churn risk and CLV per customer with a completed order
    (int_customer__predictions), typed for the contract. -#}
select
    cast(customer_id as {{ dbt.type_string() }}) as customer_id,
    cast(as_of_date as date) as as_of_date,
    cast(time_unit as {{ dbt.type_string() }}) as time_unit,
    cast(frequency as integer) as frequency,
    cast(recency as {{ cdp_type_double() }}) as recency,
    cast(customer_age as {{ cdp_type_double() }}) as customer_age,
    cast(monetary_value as numeric(18, 2)) as monetary_value,
    cast(expected_purchases as {{ cdp_type_double() }}) as expected_purchases,
    cast(probability_alive as {{ cdp_type_double() }}) as probability_alive,
    cast(1 - probability_alive as {{ cdp_type_double() }}) as churn_risk,
    cast(expected_order_value as numeric(18, 2)) as expected_order_value,
    cast(predicted_clv as numeric(18, 2)) as predicted_clv
from {{ ref('int_customer__predictions') }}
