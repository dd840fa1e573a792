{#- CTEs `blocked`, `source_values`, `with_customer` and `candidates`: every value a source
    record of `records` (a CTE or relation of source_table, record_id, customer_id) offers
    for an attribute of the golden record (name, email, phone, address, date_of_birth),
    with the customer, the source and when it was recorded. Values the identity blocklist
    marks as placeholders (test@test.com) are not candidates. Each row carries its
    attribute's columns only. int_customer__golden_attributes passes the records of the
    customers it rebuilds, so an incremental build reads only their values;
    int_customer__attribute_candidates passes them all. Ends without a comma. -#}
{% macro cdp_attribute_candidates_ctes(records) -%}
{#- columns: the value columns each attribute's rows carry; the others are null, so the
    survivorship windows sort narrow rows. -#}
{%- set attributes = [
    {'name': 'name',
     'value_key': "lower(coalesce(" ~ dbt.concat(["first_name", "' '", "last_name"]) ~ ", first_name, last_name, requester_name))",
     'present': "coalesce(first_name, last_name, requester_name) is not null",
     'columns': ['first_name', 'last_name', 'requester_name']},
    {'name': 'email', 'value_key': "email_canonical", 'present': "email is not null and not is_email_blocked",
     'columns': ['email']},
    {'name': 'phone', 'value_key': "phone_e164", 'present': "phone_e164 is not null and not is_phone_blocked",
     'columns': ['phone_e164']},
    {'name': 'address',
     'value_key': "lower(" ~ dbt.concat(["coalesce(street_address, '')", "'|'", "coalesce(postcode, '')", "'|'", "coalesce(country_code, '')"]) ~ ")",
     'present': "street_address is not null or postcode is not null",
     'columns': ['street_address', 'city', 'postcode', 'country_code']},
    {'name': 'date_of_birth', 'value_key': "cast(date_of_birth as " ~ dbt.type_string() ~ ")", 'present': "date_of_birth is not null",
     'columns': ['date_of_birth']},
] %}
{%- set value_columns = cdp_attribute_value_columns() %}

blocked as (
    select
        identifier_type,
        identifier_value
    from {{ ref('int_identity__blocklisted_identifiers') }}
),

source_values as (
    -- One row per record of every source in cdp_attribute_sources (macros/customer/config.sql),
    -- with the value columns it has and typed nulls for the others.
    {%- for source in cdp_attribute_sources() %}
        select
            cast('{{ source.source_table }}' as {{ dbt.type_string() }}) as source_table,
            {{ source.record_id }} as record_id,
            {{ source.observed_at }} as observed_at,
            {%- for column, column_type in cdp_attribute_value_columns().items() %}
                cast({{ source.columns.get(column, 'null') }} as {{ column_type }}) as {{ column }}
                {%- if not loop.last %},{% endif %}
            {%- endfor %}
        from {{ ref(source.model) }}
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

with_customer as (
    select
        source_values.*,
        records.customer_id,
        blocked_email.identifier_value is not null as is_email_blocked,
        blocked_phone.identifier_value is not null as is_phone_blocked
    from source_values
    inner join {{ records }} as records
        on
            source_values.source_table = records.source_table
            and source_values.record_id = records.record_id
    left join blocked as blocked_email
        on
            blocked_email.identifier_type = 'email'
            and source_values.email_canonical = blocked_email.identifier_value
    left join blocked as blocked_phone
        on
            blocked_phone.identifier_type = 'phone'
            and source_values.phone_e164 = blocked_phone.identifier_value
),

candidates as (
    -- One row per (record, attribute) that has a value. value_key is what "the same value"
    -- means for most_frequent: case and spacing do not make a different name or address.
    {%- for attribute in attributes %}
        select
            customer_id,
            source_table,
            record_id,
            observed_at,
            cast('{{ attribute.name }}' as {{ dbt.type_string() }}) as attribute_name,
            {{ attribute.value_key }} as value_key,
            {%- for column, column_type in value_columns.items() if column != 'email_canonical' %}
                {% if column in attribute.columns %}{{ column }}{% else %}cast(null as {{ column_type }}) as {{ column }}{% endif %}
                {%- if not loop.last %},{% endif %}
            {%- endfor %}
        from with_customer
        where {{ attribute.present }}
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
)
{%- endmacro %}
