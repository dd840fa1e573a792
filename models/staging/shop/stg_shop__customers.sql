with customers as (
    select * from {{ ref('base_shop__customers') }}
    where _quarantine_reason is null
)

select
    customer_id,
    email,
    email_canonical,
    first_name,
    last_name,
    phone_e164,
    loyalty_id,
    street_address,
    city,
    postcode,
    country_code,
    created_at,
    has_invalid_email,
    has_invalid_phone,
    _source_file,
    _source_row,
    _loaded_at,
    _typed_at
from customers
