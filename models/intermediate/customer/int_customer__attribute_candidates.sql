{#- Every value a source record offers for an attribute of the golden record (name, email,
    phone, address, date_of_birth), with the customer, the source and when it was recorded.
    int_customer__golden_attributes picks one per customer and attribute. Values the
    identity blocklist marks as placeholders (test@test.com) are not candidates. -#}
{%- set attributes = [
    {'name': 'name',
     'value_key': "lower(coalesce(" ~ dbt.concat(["first_name", "' '", "last_name"]) ~ ", first_name, last_name, requester_name))",
     'present': "coalesce(first_name, last_name, requester_name) is not null"},
    {'name': 'email', 'value_key': "email_canonical", 'present': "email is not null and not is_email_blocked"},
    {'name': 'phone', 'value_key': "phone_e164", 'present': "phone_e164 is not null and not is_phone_blocked"},
    {'name': 'address',
     'value_key': "lower(" ~ dbt.concat(["coalesce(street_address, '')", "'|'", "coalesce(postcode, '')", "'|'", "coalesce(country_code, '')"]) ~ ")",
     'present': "street_address is not null or postcode is not null"},
    {'name': 'date_of_birth', 'value_key': "cast(date_of_birth as " ~ dbt.type_string() ~ ")", 'present': "date_of_birth is not null"},
] %}

with records as (
    select
        source_table,
        record_id,
        customer_id
    from {{ ref('customer_records') }}
),

blocked as (
    select
        identifier_type,
        identifier_value
    from {{ ref('int_identity__identifier_verdicts') }}
    where guard = 'blocklist'
),

crm_contacts as (
    select
        cast('crm_contacts' as {{ dbt.type_string() }}) as source_table,
        contact_id as record_id,
        coalesce(updated_at, created_at) as observed_at,
        first_name,
        last_name,
        cast(null as {{ dbt.type_string() }}) as requester_name,
        email,
        email_canonical,
        phone_e164,
        street_address,
        city,
        postcode,
        country_code,
        date_of_birth
    from {{ ref('stg_crm__contacts') }}
),

shop_customers as (
    select
        cast('shop_customers' as {{ dbt.type_string() }}) as source_table,
        customer_id as record_id,
        created_at as observed_at,
        first_name,
        last_name,
        cast(null as {{ dbt.type_string() }}) as requester_name,
        email,
        email_canonical,
        phone_e164,
        street_address,
        city,
        postcode,
        country_code,
        cast(null as date) as date_of_birth
    from {{ ref('stg_shop__customers') }}
),

support_tickets as (
    select
        cast('support_tickets' as {{ dbt.type_string() }}) as source_table,
        ticket_id as record_id,
        created_at as observed_at,
        cast(null as {{ dbt.type_string() }}) as first_name,
        cast(null as {{ dbt.type_string() }}) as last_name,
        requester_name,
        requester_email as email,
        requester_email_canonical as email_canonical,
        requester_phone_e164 as phone_e164,
        cast(null as {{ dbt.type_string() }}) as street_address,
        cast(null as {{ dbt.type_string() }}) as city,
        cast(null as {{ dbt.type_string() }}) as postcode,
        cast(null as {{ dbt.type_string() }}) as country_code,
        cast(null as date) as date_of_birth
    from {{ ref('stg_support__tickets') }}
),

{#- Sources that only carry an email. -#}
{% set email_only = [
    ('shop_orders', 'stg_shop__orders', 'order_id', 'ordered_at'),
    ('email_engagement', 'stg_email__engagement', 'event_id', 'event_at'),
    ('consent_records', 'stg_consent__records', 'consent_id', 'recorded_at'),
] %}
{% for source_table, model, record_id, observed_at in email_only %}
    {{ source_table }} as (
        select
            cast('{{ source_table }}' as {{ dbt.type_string() }}) as source_table,
            {{ record_id }} as record_id,
            {{ observed_at }} as observed_at,
            cast(null as {{ dbt.type_string() }}) as first_name,
            cast(null as {{ dbt.type_string() }}) as last_name,
            cast(null as {{ dbt.type_string() }}) as requester_name,
            email,
            email_canonical,
            cast(null as {{ dbt.type_string() }}) as phone_e164,
            cast(null as {{ dbt.type_string() }}) as street_address,
            cast(null as {{ dbt.type_string() }}) as city,
            cast(null as {{ dbt.type_string() }}) as postcode,
            cast(null as {{ dbt.type_string() }}) as country_code,
            cast(null as date) as date_of_birth
        from {{ ref(model) }}
    ),
{% endfor %}

source_values as (
    select * from crm_contacts
    union all
    select * from shop_customers
    union all
    select * from support_tickets
    {% for source_table, _, _, _ in email_only %}
        union all
        select * from {{ source_table }}
    {% endfor %}
),

with_customer as (
    select
        source_values.*,
        records.customer_id,
        blocked_email.identifier_value is not null as is_email_blocked,
        blocked_phone.identifier_value is not null as is_phone_blocked
    from source_values
    inner join records
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
            first_name,
            last_name,
            requester_name,
            email,
            phone_e164,
            street_address,
            city,
            postcode,
            country_code,
            date_of_birth
        from with_customer
        where {{ attribute.present }}
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
)

select * from candidates
