{{ config(**cdp_base_model_config()) }}

-- Typed order lines with a verdict per raw row. Lines of an order that is not staged
-- (quarantined or not landed yet) wait in quarantine; a later build releases them.
with source as (
    {{ cdp_raw_rows_to_stage(source('shop', 'order_lines'), 'order_line_id', recheck_reason='order not staged') }}
),

staged_orders as (
    select order_id from {{ ref('stg_shop__orders') }}
),

cleaned as (
    select
        {{ cdp_clean_text('order_line_id') }} as order_line_id,
        {{ cdp_clean_text('order_id') }} as order_id,
        upper({{ cdp_clean_text('sku') }}) as sku,
        {{ cdp_clean_text('product_name') }} as product_name,
        {{ cdp_clean_text('quantity') }} as quantity,
        {{ cdp_clean_text('unit_price') }} as unit_price,
        _source_file,
        _source_row,
        _loaded_at
    from source
),

typed as (
    select
        cleaned.order_line_id,
        cleaned.order_id,
        cleaned.sku,
        cleaned.product_name,
        {{ cdp_try_integer('cleaned.quantity') }} as quantity,
        {{ cdp_try_decimal('cleaned.unit_price') }} as unit_price,
        case
            {{ cdp_when_missing('cleaned.order_line_id') }}
            {{ cdp_when_missing('cleaned.order_id') }}
            {{ cdp_when_missing('cleaned.quantity') }}
            {{ cdp_when_invalid('cleaned.quantity', cdp_try_integer('cleaned.quantity')) }}
            when {{ cdp_try_integer('cleaned.quantity') }} <= 0 then 'non-positive quantity: ' || cleaned.quantity
            {{ cdp_when_missing('cleaned.unit_price') }}
            {{ cdp_when_invalid('cleaned.unit_price', cdp_try_decimal('cleaned.unit_price')) }}
            when {{ cdp_try_decimal('cleaned.unit_price') }} < 0 then 'negative unit_price: ' || cleaned.unit_price
            when staged_orders.order_id is null then 'order not staged: ' || cleaned.order_id
        end as _invalid_reason,
        cleaned._source_file,
        cleaned._source_row,
        cleaned._loaded_at
    from cleaned
    left join staged_orders on cleaned.order_id = staged_orders.order_id
)

{{ cdp_flag_duplicates(
    'typed', 'order_line_id', '_loaded_at desc',
    ['order_id', 'sku', 'product_name', 'quantity', 'unit_price']
) }}
