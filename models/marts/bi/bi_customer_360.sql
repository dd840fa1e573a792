{#- customer_360 for BI: no plaintext PII. Emails and phones become SHA-256 hashes (plus the
    email domain and the phone's calling code), names and street addresses are dropped, the
    postcode is cut to its first three characters and the date of birth to its year. Every
    other column passes through unchanged. -#}
{{ config(alias='customer_360', grants=cdp_bi_grants()) }}
{%- set purposes = cdp_customer_config().consent_purposes %}

with customers as (
    select * from {{ ref('customer_360') }}
)

select
    customer_id,
    name_source,
    cast({{ cdp_email_sha256('email') }} as {{ dbt.type_string() }}) as email_sha256,
    cast({{ cdp_email_domain('email') }} as {{ dbt.type_string() }}) as email_domain,
    email_source,
    cast({{ cdp_phone_sha256('phone_e164') }} as {{ dbt.type_string() }}) as phone_sha256,
    cast({{ cdp_phone_calling_code('phone_e164') }} as {{ dbt.type_string() }}) as phone_calling_code,
    phone_source,
    city,
    cast({{ cdp_postcode_prefix('postcode') }} as {{ dbt.type_string() }}) as postcode_prefix,
    country_code,
    address_source,
    {{ cdp_birth_year('date_of_birth') }} as birth_year,
    date_of_birth_source,
    first_seen_at,
    last_seen_at,
    channels,
    channel_count,
    record_count,
    identifier_count,
    order_count,
    refunded_order_count,
    cancelled_order_count,
    total_revenue,
    average_order_value,
    first_order_at,
    last_order_at,
    support_ticket_count,
    open_ticket_count,
    last_ticket_at,
    emails_delivered,
    emails_opened,
    emails_clicked,
    email_open_rate,
    email_click_rate,
    has_email_bounced,
    has_unsubscribed,
    last_email_engagement_at,
    {%- for purpose in purposes %}
        consent_{{ purpose }}{% if not loop.last %},{% endif %}
    {%- endfor %}
from customers
