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
    `order_by` decides which version of a key is kept (the first). -#}
{% macro cdp_flag_duplicates(relation, key, order_by, compare_columns) -%}
    {%- set content -%}
        {{ dbt.hash(dbt.concat(cdp_null_safe_strings(compare_columns))) }}
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

{% macro cdp_null_safe_strings(columns) -%}
    {%- set parts = [] -%}
    {%- for column in columns -%}
        {%- do parts.append("coalesce(cast(" ~ column ~ " as " ~ dbt.type_string() ~ "), '<null>')") -%}
        {%- if not loop.last %}{% do parts.append("'|'") %}{% endif -%}
    {%- endfor -%}
    {{ return(parts) }}
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
