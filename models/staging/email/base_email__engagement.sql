{{ config(**cdp_base_model_config()) }}

-- Typed engagement events with a verdict per raw row. The address is this source's only
-- identifier, so a row without a valid one cannot be attributed and is quarantined.
with source as (
    {{ cdp_raw_rows_to_stage(source('email', 'engagement'), 'event_id') }}
),

cleaned as (
    select
        {{ cdp_clean_text('event_id') }} as event_id,
        {{ cdp_clean_text('email') }} as email,
        {{ cdp_clean_text('campaign_id') }} as campaign_id,
        lower({{ cdp_clean_text('event_type') }}) as event_type,
        {{ cdp_clean_text('event_at') }} as event_at,
        _source_file,
        _source_row,
        _loaded_at
    from source
),

typed as (
    select
        event_id,
        {{ cdp_normalize_email('email') }} as email,
        campaign_id,
        event_type,
        {{ cdp_try_timestamp('event_at') }} as event_at,
        case
            {{ cdp_when_missing('event_id') }}
            {{ cdp_when_missing('email') }}
            {{ cdp_when_invalid('email', cdp_normalize_email('email')) }}
            {{ cdp_when_missing('event_type') }}
            {{ cdp_when_not_accepted('event_type', ['delivered', 'open', 'click', 'bounce', 'unsubscribe']) }}
            {{ cdp_when_missing('event_at') }}
            {{ cdp_when_invalid('event_at', cdp_try_timestamp('event_at')) }}
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
    'with_canonical_email', 'event_id', '_loaded_at asc',
    ['email', 'campaign_id', 'event_type', 'event_at']
) }}
