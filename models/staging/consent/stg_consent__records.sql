with records as (
    select * from {{ ref('base_consent__records') }}
    where _quarantine_reason is null
)

select
    consent_id,
    email,
    {{ cdp_canonical_email('email') }} as email_canonical,
    purpose,
    status,
    status = 'granted' as is_granted,
    capture_source,
    recorded_at,
    _source_file,
    _source_row,
    _loaded_at
from records
