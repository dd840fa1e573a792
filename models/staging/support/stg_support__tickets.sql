with tickets as (
    select * from {{ ref('base_support__tickets') }}
    where _quarantine_reason is null
)

select
    ticket_id,
    requester_email,
    requester_email_canonical,
    requester_name,
    requester_phone_e164,
    channel,
    subject,
    status,
    created_at,
    has_invalid_email,
    _source_file,
    _source_row,
    _loaded_at,
    _typed_at
from tickets
