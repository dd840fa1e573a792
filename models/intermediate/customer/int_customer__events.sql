{#- Every event from every source, one row per source record, with its type and channel.
    customer_events joins them to their customers (customer_records): on an incremental
    build only the touched customers' records, so the join of all of them with every event
    does not run. To add a source: add a line here and map its event types in the seed
    journey_event_stages. -#}
{#- Ephemeral: a CTE of customer_events, its only reader (customer_360 reads channels from
    customer_events). Written as a table it cost more to store (12M rows at 1M people) than
    to compute. -#}
{{ config(materialized='ephemeral') }}

{%- set event_sources = [
    {'source_table': 'web_events', 'model': 'stg_web__events', 'record_id': 'event_id',
     'event_at': 'event_at', 'event_type': 'event_type', 'channel': 'web'},
    {'source_table': 'shop_orders', 'model': 'int_customer__orders', 'record_id': 'order_id',
     'event_at': 'ordered_at', 'event_type': dbt.concat(["'order_'", "status"]), 'channel': 'shop',
     'amount': 'amount'},
    {'source_table': 'shop_customers', 'model': 'stg_shop__customers', 'record_id': 'customer_id',
     'event_at': 'created_at', 'event_type': "'account_created'", 'channel': 'shop'},
    {'source_table': 'crm_contacts', 'model': 'stg_crm__contacts', 'record_id': 'contact_id',
     'event_at': 'created_at', 'event_type': "'contact_created'", 'channel': 'crm'},
    {'source_table': 'email_engagement', 'model': 'stg_email__engagement', 'record_id': 'event_id',
     'event_at': 'event_at', 'event_type': dbt.concat(["'email_'", "event_type"]), 'channel': 'email'},
    {'source_table': 'support_tickets', 'model': 'stg_support__tickets', 'record_id': 'ticket_id',
     'event_at': 'created_at', 'event_type': "'support_ticket'", 'channel': 'support'},
    {'source_table': 'consent_records', 'model': 'stg_consent__records', 'record_id': 'consent_id',
     'event_at': 'recorded_at', 'event_type': dbt.concat(["'consent_'", "status"]), 'channel': 'consent'},
] %}

with source_events as (
    {%- for source in event_sources %}
        select
            cast('{{ source.source_table }}' as {{ dbt.type_string() }}) as source_table,
            {{ source.record_id }} as record_id,
            {{ source.event_at }} as event_at,
            cast({{ source.event_type }} as {{ dbt.type_string() }}) as event_type,
            cast('{{ source.channel }}' as {{ dbt.type_string() }}) as channel,
            cast({{ source.get('amount', 'null') }} as {{ dbt.type_numeric() }}) as amount
        from {{ ref(source.model) }}
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
)

select
    source_events.source_table,
    source_events.record_id,
    source_events.event_at,
    source_events.event_type,
    source_events.channel,
    source_events.amount,
    {{ dbt.concat(["source_events.source_table", "':'", "source_events.record_id"]) }} as event_key
from source_events
where source_events.event_at is not null
