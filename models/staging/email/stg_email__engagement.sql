with engagement as (
    select * from {{ ref('base_email__engagement') }}
    where _quarantine_reason is null
)

select
    event_id,
    email,
    email_canonical,
    campaign_id,
    event_type,
    event_at,
    _source_file,
    _source_row,
    _loaded_at,
    _typed_at
from engagement
