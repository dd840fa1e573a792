with contacts as (
    select * from {{ ref('base_crm__contacts') }}
    where _quarantine_reason is null
)

select
    contact_id,
    first_name,
    last_name,
    email,
    email_canonical,
    phone_e164,
    date_of_birth,
    street_address,
    city,
    postcode,
    country_code,
    created_at,
    updated_at,
    has_invalid_email,
    has_invalid_phone,
    _source_file,
    _source_row,
    _loaded_at,
    _typed_at
from contacts
