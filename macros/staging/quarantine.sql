{#- Reasons read '<kind>: <detail>' (or just '<kind>'), so they group by kind.
    Staging splits every raw row into exactly one of: staged (clean) or quarantined (with a
    reason). base_* models compute typed columns and `_invalid_reason`; these macros add
    duplicate handling and select each side, so raw = staged + quarantined always holds. -#}

{#- `when` branches of the case expression that computes `_invalid_reason`, over columns
    already cleaned with cdp_clean_text (null = absent). -#}

{#- The value is present but did not type. -#}
{% macro cdp_when_invalid(column, typed_expr) -%}
    when {{ column }} is not null and {{ typed_expr }} is null
        then 'invalid {{ column.split(".") | last }}: ' || {{ column }}
{%- endmacro %}

{#- Final select of a base model: the typed rows with `_quarantine_reason`, which is the
    typing failure, else a duplicate/superseded verdict among the valid rows of one key.
    `order_by` decides which version of a key is kept (the first).
    `_content_hash` tells a duplicate (same content as the kept version) from a newer
    version: cdp_hash_int of the compared columns, which hashes the typed values without
    building a string (at 1M people base_web__events took 5.5 s alone against 7.2 s with
    md5 of the columns joined as text), kept as text as before. Only versions typed in the
    same build are compared (an incremental build types every version of a touched key
    again: cdp_raw_rows_to_stage), so stored hashes of another function never meet new ones. -#}
{% macro cdp_flag_duplicates(relation, key, order_by, compare_columns) -%}
    {%- set content -%}
        cast({{ cdp_hash_int(compare_columns) }} as {{ dbt.type_string() }})
    {%- endset -%}
    {%- set version_window -%}
        partition by {{ key }}, _invalid_reason is null order by {{ order_by }}, _source_file, _source_row
    {%- endset -%}
    select
        ranked.*,
        {{ cdp_run_started_at() }} as _typed_at,
        coalesce(
            ranked._invalid_reason,
            case
                when ranked._version_rank = 1 then null
                when ranked._content_hash = ranked._kept_hash
                    then 'duplicate: same {{ key }} ' || ranked.{{ key }}
                else 'superseded: newer version of {{ key }} ' || ranked.{{ key }}
            end
        ) as _quarantine_reason
    from (
        select
            hashed.*,
            row_number() over ({{ version_window }}) as _version_rank,
            first_value(hashed._content_hash) over (
                {{ version_window }} rows between unbounded preceding and unbounded following
            ) as _kept_hash
        from (select *, {{ content }} as _content_hash from {{ relation }}) as hashed
    ) as ranked
{%- endmacro %}

{#- Quarantine model body: the raw rows, as landed, that staging did not accept, and why. -#}
{% macro cdp_quarantined_rows(source_relation, base_relation) -%}
    select
        raw_rows.*,
        base_rows._quarantine_reason
    from {{ source_relation }} as raw_rows
    inner join {{ base_relation }} as base_rows
        on
            raw_rows._source_file = base_rows._source_file
            and raw_rows._source_row = base_rows._source_row
    where base_rows._quarantine_reason is not null
{%- endmacro %}

{% macro cdp_when_missing(column) -%}
    when {{ column }} is null then 'missing {{ column.split(".") | last }}'
{%- endmacro %}

{% macro cdp_when_not_accepted(column, accepted) -%}
    when lower({{ column }}) not in ('{{ accepted | join("', '") }}')
        then 'unknown {{ column.split(".") | last }}: ' || {{ column }}
{%- endmacro %}
