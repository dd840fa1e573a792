{#- The customer-marts configuration (var `cdp_customer` in dbt_project.yml), validated, so
    a mistake fails the build naming the key at fault. -#}
{% macro cdp_customer_config() %}
    {%- set config = var('cdp_customer', none) -%}
    {%- if config is not mapping -%}
        {{ exceptions.raise_compiler_error("cdp_customer: var `cdp_customer` must be a mapping in dbt_project.yml (see README, Customer marts)") }}
    {%- endif -%}
    {%- set as_of = config.get('as_of') -%}
    {%- if as_of is not none and not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', as_of | string) -%}
        {{ exceptions.raise_compiler_error("cdp_customer.as_of: must be a date YYYY-MM-DD or null (the build day), got " ~ as_of) }}
    {%- endif -%}
    {%- set as_of_env = env_var('CDP_AS_OF', '') -%}
    {%- if as_of_env and not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', as_of_env) -%}
        {{ exceptions.raise_compiler_error("environment variable CDP_AS_OF: must be a date YYYY-MM-DD or empty, got " ~ as_of_env) }}
    {%- endif -%}
    {%- if not (config.get('reporting_currency') is string and modules.re.match('^[A-Z]{3}$', config.reporting_currency)) -%}
        {{ exceptions.raise_compiler_error("cdp_customer.reporting_currency: must be an ISO 4217 code such as USD, got " ~ config.get('reporting_currency')) }}
    {%- endif -%}
    {%- set threshold = config.get('loyalty_order_threshold') -%}
    {%- if threshold is not number or threshold < 2 -%}
        {{ exceptions.raise_compiler_error("cdp_customer.loyalty_order_threshold: must be a whole number >= 2, got " ~ threshold) }}
    {%- endif -%}
    {%- set purposes = config.get('consent_purposes') -%}
    {%- if purposes is string or purposes is not iterable or purposes | length == 0 -%}
        {{ exceptions.raise_compiler_error("cdp_customer.consent_purposes: must be a non-empty list of purposes (the values of consent_records.purpose)") }}
    {%- endif -%}
    {%- for purpose in purposes if not (purpose is string and modules.re.match('^[a-z][a-z0-9_]*$', purpose)) -%}
        {{ exceptions.raise_compiler_error("cdp_customer.consent_purposes: `" ~ purpose ~ "` must be lowercase snake_case (it names a column)") }}
    {%- endfor -%}
    {{ cdp_validate_survivorship(config.get('survivorship')) }}
    {{ cdp_validate_predictive(config.get('predictive')) }}
    {{ return(config) }}
{% endmacro %}

{#- The staged sources that offer golden-record values: per source, its model, record key,
    when a value was recorded, and which value columns it has (value column: staged
    expression). int_customer__attribute_candidates reads every source listed here, and
    cdp_survivorship_sources derives from it which attributes each source can supply. -#}
{% macro cdp_attribute_sources() %}
    {{ return([
        {'source_table': 'crm_contacts', 'model': 'stg_crm__contacts', 'record_id': 'contact_id',
         'observed_at': 'coalesce(updated_at, created_at)',
         'columns': {'first_name': 'first_name', 'last_name': 'last_name', 'email': 'email',
                     'email_canonical': 'email_canonical', 'phone_e164': 'phone_e164',
                     'street_address': 'street_address', 'city': 'city', 'postcode': 'postcode',
                     'country_code': 'country_code', 'date_of_birth': 'date_of_birth'}},
        {'source_table': 'shop_customers', 'model': 'stg_shop__customers', 'record_id': 'customer_id',
         'observed_at': 'created_at',
         'columns': {'first_name': 'first_name', 'last_name': 'last_name', 'email': 'email',
                     'email_canonical': 'email_canonical', 'phone_e164': 'phone_e164',
                     'street_address': 'street_address', 'city': 'city', 'postcode': 'postcode',
                     'country_code': 'country_code'}},
        {'source_table': 'shop_orders', 'model': 'stg_shop__orders', 'record_id': 'order_id',
         'observed_at': 'ordered_at',
         'columns': {'email': 'email', 'email_canonical': 'email_canonical'}},
        {'source_table': 'support_tickets', 'model': 'stg_support__tickets', 'record_id': 'ticket_id',
         'observed_at': 'created_at',
         'columns': {'requester_name': 'requester_name', 'email': 'requester_email',
                     'email_canonical': 'requester_email_canonical', 'phone_e164': 'requester_phone_e164'}},
        {'source_table': 'email_engagement', 'model': 'stg_email__engagement', 'record_id': 'event_id',
         'observed_at': 'event_at',
         'columns': {'email': 'email', 'email_canonical': 'email_canonical'}},
        {'source_table': 'consent_records', 'model': 'stg_consent__records', 'record_id': 'consent_id',
         'observed_at': 'recorded_at',
         'columns': {'email': 'email', 'email_canonical': 'email_canonical'}},
    ]) }}
{% endmacro %}

{#- The value columns of an attribute candidate, each with its SQL type. -#}
{% macro cdp_attribute_value_columns() %}
    {%- set columns = {} -%}
    {%- for name in ['first_name', 'last_name', 'requester_name', 'email', 'email_canonical', 'phone_e164',
                     'street_address', 'city', 'postcode', 'country_code'] -%}
        {%- do columns.update({name: dbt.type_string()}) -%}
    {%- endfor -%}
    {%- do columns.update({'date_of_birth': 'date'}) -%}
    {{ return(columns) }}
{% endmacro %}

{#- Attributes of the golden record, the value columns that carry each, and (derived from
    cdp_attribute_sources) the sources that can supply each. -#}
{% macro cdp_attribute_carriers() %}
    {{ return({
        'name': ['first_name', 'last_name', 'requester_name'],
        'email': ['email'],
        'phone': ['phone_e164'],
        'address': ['street_address', 'postcode'],
        'date_of_birth': ['date_of_birth'],
    }) }}
{% endmacro %}

{% macro cdp_survivorship_sources() %}
    {%- set supplied = {} -%}
    {%- for attribute, carriers in cdp_attribute_carriers().items() -%}
        {%- set sources = [] -%}
        {%- for source in cdp_attribute_sources() -%}
            {%- if carriers | select('in', source.columns) | list | length > 0 -%}
                {%- do sources.append(source.source_table) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- do supplied.update({attribute: sources}) -%}
    {%- endfor -%}
    {{ return(supplied) }}
{% endmacro %}

{% macro cdp_validate_survivorship(survivorship) %}
    {%- set known = cdp_survivorship_sources() -%}
    {%- if survivorship is not mapping -%}
        {{ exceptions.raise_compiler_error("cdp_customer.survivorship: must map each attribute (" ~ (known.keys() | join(', ')) ~ ") to {rule, sources}") }}
    {%- endif -%}
    {%- for attribute in known if attribute not in survivorship -%}
        {{ exceptions.raise_compiler_error("cdp_customer.survivorship." ~ attribute ~ ": missing (every attribute of the golden record needs a rule)") }}
    {%- endfor -%}
    {%- for attribute, spec in survivorship.items() -%}
        {%- set where = "cdp_customer.survivorship." ~ attribute -%}
        {%- if attribute not in known -%}
            {{ exceptions.raise_compiler_error(where ~ ": unknown attribute (known: " ~ (known.keys() | join(', ')) ~ ")") }}
        {%- endif -%}
        {%- if spec is not mapping or spec.get('rule') not in ['source_priority', 'most_recent', 'most_frequent'] -%}
            {{ exceptions.raise_compiler_error(where ~ ".rule: must be source_priority, most_recent or most_frequent, got " ~ (spec.get('rule') if spec is mapping else spec)) }}
        {%- endif -%}
        {%- set sources = spec.get('sources') -%}
        {%- if sources is string or sources is not iterable or sources | length == 0 -%}
            {{ exceptions.raise_compiler_error(where ~ ".sources: must be a non-empty list of source tables (allowed: " ~ (known[attribute] | join(', ')) ~ ")") }}
        {%- endif -%}
        {%- for source in sources if source not in known[attribute] -%}
            {{ exceptions.raise_compiler_error(where ~ ".sources: `" ~ source ~ "` cannot supply " ~ attribute ~ " (allowed: " ~ (known[attribute] | join(', ')) ~ ")") }}
        {%- endfor -%}
    {%- endfor -%}
{% endmacro %}

{% macro cdp_validate_predictive(predictive) %}
    {%- if predictive is not mapping -%}
        {{ exceptions.raise_compiler_error("cdp_customer.predictive: must be a mapping {time_unit, horizon_months, monthly_discount_rate, refit_after_growth}") }}
    {%- endif -%}
    {%- if predictive.get('time_unit') not in ['day', 'week'] -%}
        {{ exceptions.raise_compiler_error("cdp_customer.predictive.time_unit: must be day or week, got " ~ predictive.get('time_unit')) }}
    {%- endif -%}
    {%- if predictive.get('horizon_months') is not number or predictive.horizon_months < 1 -%}
        {{ exceptions.raise_compiler_error("cdp_customer.predictive.horizon_months: must be a whole number >= 1, got " ~ predictive.get('horizon_months')) }}
    {%- endif -%}
    {%- set growth = predictive.get('refit_after_growth', 0.1) -%}
    {%- if growth is not number or growth < 0 or growth > 1 -%}
        {{ exceptions.raise_compiler_error("cdp_customer.predictive.refit_after_growth: must be a share in [0, 1] (0.1 = refit after 10% more customers), got " ~ growth) }}
    {%- endif -%}
    {%- set rate = predictive.get('monthly_discount_rate') -%}
    {%- if rate is not number or rate < 0 or rate >= 1 -%}
        {{ exceptions.raise_compiler_error("cdp_customer.predictive.monthly_discount_rate: must be a number in [0, 1), got " ~ rate) }}
    {%- endif -%}
{% endmacro %}

{#- The as-of date as a SQL date expression: cdp_customer.as_of, else the environment
    variable CDP_AS_OF, else the build day. -#}
{% macro cdp_as_of_date() %}
    {#- CDP_AS_OF stands in for a null as_of: sample data is as of the day it was generated
        for (make demo and the tests set it), so its scores do not depend on the build day. -#}
    {%- set as_of = cdp_customer_config().get('as_of') or env_var('CDP_AS_OF', '') or none -%}
    {%- if as_of is none -%}
        cast({{ dbt.current_timestamp() }} as date)
    {%- else -%}
        cast('{{ as_of }}' as date)
    {%- endif -%}
{% endmacro %}

{#- A digest (SQL expression) of what an order's amount in the reporting currency depends on:
    cdp_customer.reporting_currency and the seed currency_rates. The rules_digest of
    int_customer__orders, and part of customer_events' (its order amounts), so both rebuild
    on the same changes. -#}
{% macro cdp_order_amounts_digest() -%}
    {{ return(cdp_relation_digest(ref('currency_rates'), ['currency', 'rate_to_usd'],
        rules='reporting_currency=' ~ cdp_customer_config().reporting_currency)) }}
{%- endmacro %}

{#- The rule each attribute survives by, as a SQL case over the attribute-name column. -#}
{% macro cdp_customer_survivorship_rule_label(survivorship, column='attribute_name') -%}
    case {{ column }}
        {%- for attribute, spec in survivorship.items() %}
            when '{{ attribute }}' then '{{ spec.rule }}'
        {%- endfor %}
    end
{%- endmacro %}
