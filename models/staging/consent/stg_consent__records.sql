with records as (
    select * from {{ ref('base_consent__records') }}
    where _quarantine_reason is null
)

select
    consent_id,
    email,
    email_canonical,
    purpose,
    status,
    capture_source,
    recorded_at,
    _source_file,
    _source_row,
    _loaded_at,
    _typed_at,
    status = 'granted' as is_granted
from records
