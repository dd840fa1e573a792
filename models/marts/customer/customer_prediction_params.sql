{#- The fitted BG/NBD and Gamma-Gamma parameters (int_customer__prediction_fit), typed for
    the contract. -#}
select
    cast(model_name as {{ dbt.type_string() }}) as model_name,
    cast(parameter_name as {{ dbt.type_string() }}) as parameter_name,
    cast(parameter_value as {{ cdp_type_double() }}) as parameter_value,
    cast(log_likelihood as {{ cdp_type_double() }}) as log_likelihood,
    cast(customers as integer) as customers,
    cast(fit_status as {{ dbt.type_string() }}) as fit_status,
    cast(time_unit as {{ dbt.type_string() }}) as time_unit,
    cast(as_of_date as date) as as_of_date
from {{ ref('int_customer__prediction_fit') }}
