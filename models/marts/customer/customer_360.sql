{#- One row per customer: the golden record and what the customer did, across sources. -#}

{#- Incremental by customer (strategy replace_customers; macros/incremental/
    touched_customers.sql): a build recomputes only the customers of the records
    customer_records wrote since its last one or those records left, the customers
    customer_events or the golden record rewrote since, and those of the identifiers
    customer_identifiers wrote or replaced since (customer_identifiers__removed); every
    customer when the consent purposes, the reporting currency or the seed currency_rates
    changed (rules_digest). A touched customer gone from customer_records comes as a row
    with a null _built_at, which deletes it. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_customers',
    unique_key=['customer_id', '_built_at'],
    on_schema_change='fail',
) }}
{%- set customer_config = cdp_customer_config() %}
{%- set purposes = customer_config.consent_purposes %}

with
{{ cdp_stamped_customers_ctes(
    cdp_relation_digest(ref('currency_rates'), ['currency', 'rate_to_usd'],
        rules=tojson({
            'consent_purposes': purposes,
            'reporting_currency': customer_config.reporting_currency,
        })),
    rebuilt='rebuilt_records',
    written=[ref('customer_events'), ref('int_customer__golden_attributes')],
    removed=[ref('customer_identifiers')],
) }},

customers as (
    select
        customer_id,
        min(observed_at) as first_seen_at,
        max(observed_at) as last_seen_at,
        count(*) as record_count
    from rebuilt_records
    group by customer_id
),

customer_keys as (
    {%- if is_incremental() %}
        select customer_id from touched_customers
    {%- else %}
        select customer_id from customers
    {%- endif %}
),

-- Each input filtered to the customers to rebuild before it is joined or grouped.
events as (
    {{ cdp_rows_of_touched_customers(ref('customer_events')) }}
),

channels_seen as (
    -- The channel of each source is set once, in int_customer__events; consent is not a channel.
    select distinct
        customer_id,
        channel
    from events
    where channel <> 'consent'
),

channels as (
    select
        customer_id,
        {{ dbt.listagg('channel', "','", 'order by channel') }} as channels,
        count(*) as channel_count
    from channels_seen
    group by customer_id
),

customer_identifiers as (
    {{ cdp_rows_of_touched_customers(ref('customer_identifiers')) }}
),

identifiers as (
    select
        customer_id,
        count(*) as identifier_count
    from customer_identifiers
    group by customer_id
),

golden as (
    {{ cdp_rows_of_touched_customers(ref('int_customer__golden_attributes')) }}
),

golden_record as (
    select
        customer_id,
        max(case when attribute_name = 'name' then first_name end) as first_name,
        max(case when attribute_name = 'name' then last_name end) as last_name,
        max(case when attribute_name = 'name' then requester_name end) as requester_name,
        max(case when attribute_name = 'name' then source_table end) as name_source,
        max(case when attribute_name = 'email' then email end) as email,
        max(case when attribute_name = 'email' then source_table end) as email_source,
        max(case when attribute_name = 'phone' then phone_e164 end) as phone_e164,
        max(case when attribute_name = 'phone' then source_table end) as phone_source,
        max(case when attribute_name = 'address' then street_address end) as street_address,
        max(case when attribute_name = 'address' then city end) as city,
        max(case when attribute_name = 'address' then postcode end) as postcode,
        max(case when attribute_name = 'address' then country_code end) as country_code,
        max(case when attribute_name = 'address' then source_table end) as address_source,
        max(case when attribute_name = 'date_of_birth' then date_of_birth end) as date_of_birth,
        max(case when attribute_name = 'date_of_birth' then source_table end) as date_of_birth_source
    from golden
    group by customer_id
),

customer_orders as (
    {{ cdp_rows_of_touched_customers(ref('int_customer__orders')) }}
),

orders as (
    select
        customer_id,
        sum(case when is_completed then 1 else 0 end) as order_count,
        sum(case when status = 'refunded' then 1 else 0 end) as refunded_order_count,
        sum(case when status = 'cancelled' then 1 else 0 end) as cancelled_order_count,
        sum(case when is_completed then amount end) as total_revenue,
        min(case when is_completed then ordered_at end) as first_order_at,
        max(case when is_completed then ordered_at end) as last_order_at
    from customer_orders
    group by customer_id
),

tickets as (
    select
        records.customer_id,
        count(*) as support_ticket_count,
        sum(case when tickets.status in ('open', 'pending') then 1 else 0 end) as open_ticket_count,
        max(tickets.created_at) as last_ticket_at
    from {{ ref('stg_support__tickets') }} as tickets
    inner join rebuilt_records as records
        on records.source_table = 'support_tickets' and tickets.ticket_id = records.record_id
    group by records.customer_id
),

email as (
    select
        records.customer_id,
        sum(case when engagement.event_type = 'delivered' then 1 else 0 end) as emails_delivered,
        sum(case when engagement.event_type = 'open' then 1 else 0 end) as emails_opened,
        sum(case when engagement.event_type = 'click' then 1 else 0 end) as emails_clicked,
        max(case when engagement.event_type = 'bounce' then 1 else 0 end) = 1 as has_email_bounced,
        max(case when engagement.event_type = 'unsubscribe' then 1 else 0 end) = 1 as has_unsubscribed,
        max(engagement.event_at) as last_email_engagement_at
    from {{ ref('stg_email__engagement') }} as engagement
    inner join rebuilt_records as records
        on records.source_table = 'email_engagement' and engagement.event_id = records.record_id
    group by records.customer_id
),

consent as (
    {{ cdp_rows_of_touched_customers(ref('int_customer__consent')) }}
)

select
    cast(customer_keys.customer_id as {{ cdp_type_varchar() }}) as customer_id,
    cast(golden_record.first_name as {{ cdp_type_varchar() }}) as first_name,
    cast(golden_record.last_name as {{ cdp_type_varchar() }}) as last_name,
    cast(
        coalesce(
            {{ dbt.concat(["golden_record.first_name", "' '", "golden_record.last_name"]) }},
            golden_record.first_name,
            golden_record.last_name,
            golden_record.requester_name
        ) as {{ cdp_type_varchar() }}
    ) as full_name,
    cast(golden_record.name_source as {{ cdp_type_varchar() }}) as name_source,
    cast(golden_record.email as {{ cdp_type_varchar() }}) as email,
    cast(golden_record.email_source as {{ cdp_type_varchar() }}) as email_source,
    cast(golden_record.phone_e164 as {{ cdp_type_varchar() }}) as phone_e164,
    cast(golden_record.phone_source as {{ cdp_type_varchar() }}) as phone_source,
    cast(golden_record.street_address as {{ cdp_type_varchar() }}) as street_address,
    cast(golden_record.city as {{ cdp_type_varchar() }}) as city,
    cast(golden_record.postcode as {{ cdp_type_varchar() }}) as postcode,
    cast(golden_record.country_code as {{ cdp_type_varchar() }}) as country_code,
    cast(golden_record.address_source as {{ cdp_type_varchar() }}) as address_source,
    cast(golden_record.date_of_birth as date) as date_of_birth,
    cast(golden_record.date_of_birth_source as {{ cdp_type_varchar() }}) as date_of_birth_source,
    cast(customers.first_seen_at as timestamp) as first_seen_at,
    cast(customers.last_seen_at as timestamp) as last_seen_at,
    cast(channels.channels as {{ cdp_type_varchar() }}) as channels,
    cast(coalesce(channels.channel_count, 0) as integer) as channel_count,
    cast(customers.record_count as integer) as record_count,
    cast(coalesce(identifiers.identifier_count, 0) as integer) as identifier_count,
    cast(coalesce(orders.order_count, 0) as integer) as order_count,
    cast(coalesce(orders.refunded_order_count, 0) as integer) as refunded_order_count,
    cast(coalesce(orders.cancelled_order_count, 0) as integer) as cancelled_order_count,
    cast(coalesce(orders.total_revenue, 0) as numeric(18, 2)) as total_revenue,
    cast(orders.total_revenue / nullif(orders.order_count, 0) as numeric(18, 2)) as average_order_value,
    cast(orders.first_order_at as timestamp) as first_order_at,
    cast(orders.last_order_at as timestamp) as last_order_at,
    cast(coalesce(tickets.support_ticket_count, 0) as integer) as support_ticket_count,
    cast(coalesce(tickets.open_ticket_count, 0) as integer) as open_ticket_count,
    cast(tickets.last_ticket_at as timestamp) as last_ticket_at,
    cast(coalesce(email.emails_delivered, 0) as integer) as emails_delivered,
    cast(coalesce(email.emails_opened, 0) as integer) as emails_opened,
    cast(coalesce(email.emails_clicked, 0) as integer) as emails_clicked,
    cast(1.0 * email.emails_opened / nullif(email.emails_delivered, 0) as {{ cdp_type_double() }}) as email_open_rate,
    cast(1.0 * email.emails_clicked / nullif(email.emails_delivered, 0) as {{ cdp_type_double() }}) as email_click_rate,
    cast(coalesce(email.has_email_bounced, false) as boolean) as has_email_bounced,
    cast(coalesce(email.has_unsubscribed, false) as boolean) as has_unsubscribed,
    cast(email.last_email_engagement_at as timestamp) as last_email_engagement_at,
    {%- for purpose in purposes %}
        cast(coalesce(consent.{{ purpose }}, 'unknown') as {{ cdp_type_varchar() }}) as consent_{{ purpose }},
    {%- endfor %}
    cast((select rules.digest from rules) as {{ cdp_type_varchar() }}) as rules_digest,
    -- Null for a touched customer gone from customer_records: the row deletes the stored one.
    case when customers.customer_id is not null then {{ cdp_run_started_at() }} end as _built_at
from customer_keys
left join customers on customer_keys.customer_id = customers.customer_id
left join golden_record on customers.customer_id = golden_record.customer_id
left join channels on customers.customer_id = channels.customer_id
left join identifiers on customers.customer_id = identifiers.customer_id
left join orders on customers.customer_id = orders.customer_id
left join tickets on customers.customer_id = tickets.customer_id
left join email on customers.customer_id = email.customer_id
left join consent on customers.customer_id = consent.customer_id
