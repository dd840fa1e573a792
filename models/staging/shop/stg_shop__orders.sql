with orders as (
    select * from {{ ref('base_shop__orders') }}
    where _quarantine_reason is null
)

select
    order_id,
    customer_id,
    email,
    email_canonical,
    ordered_at,
    status,
    currency,
    total_amount,
    has_invalid_email,
    _source_file,
    _source_row,
    _loaded_at,
    _typed_at,
    customer_id is null as is_guest_checkout
from orders
