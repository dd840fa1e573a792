with events as (
    select * from {{ ref('base_web__events') }}
    where _quarantine_reason is null
)

select
    event_id,
    anonymous_id,
    user_id,
    event_type,
    event_at,
    received_at,
    {{ dbt.datediff('event_at', 'received_at', 'second') }} as delivery_delay_seconds,
    page_path,
    platform,
    _source_file,
    _source_row,
    _loaded_at,
    _typed_at
from events
