{{ config(**cdp_base_model_config()) }}

-- Typed consent decisions with a verdict per raw row. A decision that cannot be tied to
-- an address, purpose or status must not silently count as consent: it is quarantined.
with source as (
    {{ cdp_raw_rows_to_stage(source('consent', 'records'), 'consent_id') }}
),

cleaned as (
    select
        {{ cdp_clean_text('consent_id') }} as consent_id,
        {{ cdp_clean_text('email') }} as email,
        lower({{ cdp_clean_text('purpose') }}) as purpose,
        lower({{ cdp_clean_text('status') }}) as status,
        lower({{ cdp_clean_text('source') }}) as capture_source,
        {{ cdp_clean_text('recorded_at') }} as recorded_at,
        _source_file,
        _source_row,
        _loaded_at
    from source
),

typed as (
    select
        consent_id,
        {{ cdp_normalize_email('email') }} as email,
        purpose,
        status,
        capture_source,
        {{ cdp_try_timestamp('recorded_at') }} as recorded_at,
        case
            {{ cdp_when_missing('consent_id') }}
            {{ cdp_when_missing('email') }}
            {{ cdp_when_invalid('email', cdp_normalize_email('email')) }}
            {{ cdp_when_missing('purpose') }}
            {{ cdp_when_not_accepted('purpose', ['email_marketing', 'sms_marketing', 'personalised_ads', 'analytics']) }}
            {{ cdp_when_missing('status') }}
            {{ cdp_when_not_accepted('status', ['granted', 'denied', 'withdrawn']) }}
            {{ cdp_when_missing('recorded_at') }}
            {{ cdp_when_invalid('recorded_at', cdp_try_timestamp('recorded_at')) }}
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
    'with_canonical_email', 'consent_id', '_loaded_at desc',
    ['email', 'purpose', 'status', 'capture_source', 'recorded_at']
) }}
