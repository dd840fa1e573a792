{{ config(**cdp_base_model_config()) }}

-- Typed events with a verdict per raw row; the first delivery of an event id is kept.
with source as (
    {{ cdp_raw_rows_to_stage(source('web', 'events'), 'event_id') }}
),

cleaned as (
    select
        {{ cdp_clean_text('event_id') }} as event_id,
        {{ cdp_clean_text('anonymous_id') }} as anonymous_id,
        {{ cdp_clean_text('user_id') }} as user_id,
        lower({{ cdp_clean_text('event_type') }}) as event_type,
        {{ cdp_clean_text('event_at') }} as event_at,
        {{ cdp_clean_text('received_at') }} as received_at,
        {{ cdp_clean_text('page_path') }} as page_path,
        lower({{ cdp_clean_text('platform') }}) as platform,
        _source_file,
        _source_row,
        _loaded_at
    from source
),

typed as (
    select
        event_id,
        anonymous_id,
        user_id,
        event_type,
        {{ cdp_try_timestamp('event_at') }} as event_at,
        {{ cdp_try_timestamp('received_at') }} as received_at,
        page_path,
        platform,
        case
            {{ cdp_when_missing('event_id') }}
            when anonymous_id is null and user_id is null then 'missing anonymous_id and user_id'
            {{ cdp_when_missing('event_type') }}
            {{ cdp_when_missing('event_at') }}
            {{ cdp_when_invalid('event_at', cdp_try_timestamp('event_at')) }}
            {{ cdp_when_invalid('received_at', cdp_try_timestamp('received_at')) }}
        end as _invalid_reason,
        _source_file,
        _source_row,
        _loaded_at
    from cleaned
)

{{ cdp_flag_duplicates(
    'typed', 'event_id', 'received_at asc nulls last, _loaded_at asc',
    ['anonymous_id', 'user_id', 'event_type', 'event_at', 'received_at', 'page_path', 'platform']
) }}
