{#- customer_events for BI: holds no PII (record ids are source-system keys, as
    pseudonymous as customer_id). Every column passes through but rules_digest and _built_at,
    bookkeeping for incremental builds. -#}
{{ config(alias='customer_events', grants=cdp_bi_grants()) }}

select
    event_key,
    customer_id,
    source_table,
    record_id,
    event_at,
    event_type,
    channel,
    amount,
    customer_event_number,
    journey_stage
from {{ ref('customer_events') }}
