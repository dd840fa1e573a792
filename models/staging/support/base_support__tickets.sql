{{ config(**cdp_base_model_config()) }}

-- Typed tickets with a verdict per raw row. Phones carry no country here, so national
-- numbers resolve with var cdp_default_country.
with source as (
    {{ cdp_raw_rows_to_stage(source('support', 'tickets'), 'ticket_id') }}
),

cleaned as (
    select
        {{ cdp_clean_text('ticket_id') }} as ticket_id,
        {{ cdp_clean_text('requester_email') }} as requester_email,
        {{ cdp_clean_text('requester_name') }} as requester_name,
        {{ cdp_clean_text('requester_phone') }} as requester_phone,
        {{ cdp_phone_dialable('requester_phone') }} as phone_dialable,
        lower({{ cdp_clean_text('channel') }}) as channel,
        {{ cdp_clean_text('subject') }} as subject,
        lower({{ cdp_clean_text('status') }}) as status,
        {{ cdp_clean_text('created_at') }} as created_at,
        _source_file,
        _source_row,
        _loaded_at
    from source
),

typed as (
    select
        ticket_id,
        {{ cdp_normalize_email('requester_email') }} as requester_email,
        {{ cdp_normalize_name('requester_name') }} as requester_name,
        {{ cdp_e164('phone_dialable') }} as requester_phone_e164,
        channel,
        subject,
        status,
        {{ cdp_try_timestamp('created_at') }} as created_at,
        requester_email is not null
        and {{ cdp_normalize_email('requester_email') }} is null as has_invalid_email,
        case
            {{ cdp_when_missing('ticket_id') }}
            {{ cdp_when_missing('created_at') }}
            {{ cdp_when_invalid('created_at', cdp_try_timestamp('created_at')) }}
        end as _invalid_reason,
        _source_file,
        _source_row,
        _loaded_at
    from cleaned
),

with_canonical_email as (
    select
        typed.*,
        {{ cdp_canonical_email('requester_email') }} as requester_email_canonical
    from typed
)

{{ cdp_flag_duplicates(
    'with_canonical_email', 'ticket_id', '_loaded_at desc',
    ['requester_email', 'requester_name', 'requester_phone_e164', 'channel', 'subject', 'status',
     'created_at']
) }}
