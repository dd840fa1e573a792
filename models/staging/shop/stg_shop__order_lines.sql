with order_lines as (
    select * from {{ ref('base_shop__order_lines') }}
    where _quarantine_reason is null
)

select
    order_line_id,
    order_id,
    sku,
    product_name,
    quantity,
    unit_price,
    _source_file,
    _source_row,
    _loaded_at,
    _typed_at,
    quantity * unit_price as line_amount
from order_lines
