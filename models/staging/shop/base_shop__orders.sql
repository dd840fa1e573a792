{{ config(**cdp_base_model_config()) }}

-- Typed orders with a verdict per raw row; the newest export of an order wins.
with source as (
    {{ cdp_raw_rows_to_stage(source('shop', 'orders'), 'order_id') }}
),

cleaned as (
    select
        {{ cdp_clean_text('order_id') }} as order_id,
        {{ cdp_clean_text('customer_id') }} as customer_id,
        {{ cdp_clean_text('email') }} as email,
        {{ cdp_clean_text('ordered_at') }} as ordered_at,
        lower({{ cdp_clean_text('status') }}) as status,
        upper({{ cdp_clean_text('currency') }}) as currency,
        {{ cdp_clean_text('total_amount') }} as total_amount,
        _source_file,
        _source_row,
        _loaded_at
    from source
),

typed as (
    select
        order_id,
        customer_id,
        {{ cdp_normalize_email('email') }} as email,
        {{ cdp_try_timestamp('ordered_at') }} as ordered_at,
        status,
        currency,
        {{ cdp_try_decimal('total_amount') }} as total_amount,
        email is not null and {{ cdp_normalize_email('email') }} is null as has_invalid_email,
        case
            {{ cdp_when_missing('order_id') }}
            {{ cdp_when_missing('ordered_at') }}
            {{ cdp_when_invalid('ordered_at', cdp_try_timestamp('ordered_at')) }}
            {{ cdp_when_missing('total_amount') }}
            {{ cdp_when_invalid('total_amount', cdp_try_decimal('total_amount')) }}
            when {{ cdp_try_decimal('total_amount') }} < 0 then 'negative total_amount: ' || total_amount
            {{ cdp_when_missing('status') }}
            {{ cdp_when_not_accepted('status', ['completed', 'refunded', 'cancelled']) }}
            when not {{ cdp_regexp_like('coalesce(currency, \'\')', '^[A-Z]{3}$') }}
                then 'invalid currency: ' || coalesce(currency, '<missing>')
        end as _invalid_reason,
        _source_file,
        _source_row,
        _loaded_at
    from cleaned
),

with_canonical_email as (
    select
        typed.*,
        {{ cdp_canonical_email('email') }} as email_canonical
    from typed
)

{{ cdp_flag_duplicates(
    'with_canonical_email', 'order_id', '_loaded_at desc',
    ['customer_id', 'email', 'ordered_at', 'status', 'currency', 'total_amount']
) }}
