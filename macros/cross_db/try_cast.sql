{#- Casts that yield null instead of failing, so staging can quarantine bad values.
    Timestamps go through a zone-aware type: '2024-03-01T10:00:00+02:00' is 08:00 UTC,
    while a plain cast to timestamp would silently drop the offset. -#}

{% macro cdp_try_timestamp(expr) -%}
    {{ return(adapter.dispatch('cdp_try_timestamp', 'cdp')(expr)) }}
{%- endmacro %}

{% macro default__cdp_try_timestamp(expr) -%}
    cast(try_cast({{ expr }} as timestamp with time zone) at time zone 'UTC' as timestamp)
{%- endmacro %}

{% macro spark__cdp_try_timestamp(expr) -%}
    to_utc_timestamp(try_cast({{ expr }} as timestamp), 'UTC')
{%- endmacro %}

{% macro snowflake__cdp_try_timestamp(expr) -%}
    convert_timezone('UTC', try_to_timestamp_tz({{ expr }}))::timestamp_ntz
{%- endmacro %}

{% macro bigquery__cdp_try_timestamp(expr) -%}
    cast(safe_cast({{ expr }} as timestamp) as datetime)
{%- endmacro %}

{% macro postgres__cdp_try_timestamp(expr) -%}
    {#- Postgres has no try_cast: a strict ISO-8601 regex guards the cast, and the day is
        checked against the month so '2023-02-30' is rejected instead of raising. -#}
    case
        when {{ cdp_regexp_like(expr, '^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])([ T]([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d+)?)?)?(Z|[+-]\d{2}(:?\d{2})?)?$') }}
            and extract(day from (substr({{ expr }}, 1, 7) || '-01')::date + interval '1 month' - interval '1 day')
                >= cast(substr({{ expr }}, 9, 2) as integer)
            then (cast({{ expr }} as timestamp with time zone) at time zone 'UTC')::timestamp
    end
{%- endmacro %}

{% macro cdp_try_date(expr) -%}
    cast({{ cdp_try_timestamp(expr) }} as date)
{%- endmacro %}

{% macro cdp_try_decimal(expr, precision=18, scale=2) -%}
    {{ return(adapter.dispatch('cdp_try_decimal', 'cdp')(expr, precision, scale)) }}
{%- endmacro %}

{% macro default__cdp_try_decimal(expr, precision, scale) -%}
    try_cast({{ expr }} as decimal({{ precision }}, {{ scale }}))
{%- endmacro %}

{% macro bigquery__cdp_try_decimal(expr, precision, scale) -%}
    safe_cast({{ expr }} as numeric)
{%- endmacro %}

{% macro postgres__cdp_try_decimal(expr, precision, scale) -%}
    case when {{ cdp_regexp_like('trim(' ~ expr ~ ')', '^[+-]?(\d+(\.\d*)?|\.\d+)$') }}
        then cast(trim({{ expr }}) as decimal({{ precision }}, {{ scale }})) end
{%- endmacro %}

{% macro cdp_try_integer(expr) -%}
    {{ return(adapter.dispatch('cdp_try_integer', 'cdp')(expr)) }}
{%- endmacro %}

{% macro default__cdp_try_integer(expr) -%}
    try_cast({{ expr }} as bigint)
{%- endmacro %}

{% macro bigquery__cdp_try_integer(expr) -%}
    safe_cast({{ expr }} as int64)
{%- endmacro %}

{% macro postgres__cdp_try_integer(expr) -%}
    case when {{ cdp_regexp_like('trim(' ~ expr ~ ')', '^[+-]?\d{1,18}$') }}
        then cast(trim({{ expr }}) as bigint) end
{%- endmacro %}
