{#- Incremental staging. A base model holds one row per raw row (raw = staged + quarantined),
    so a build without --full-refresh types only the raw rows landed since the last build
    (`_loaded_at` above the newest one the model holds) and the landed rows of the keys they
    touch, so cdp_flag_duplicates ranks every version of those keys anew; dbt replaces those
    rows by their raw row's key (`_source_file`, `_source_row`). The result equals a full
    rebuild's, and every row is typed by the model's own SQL, so a changed model fails
    on_schema_change instead of keeping old columns. -#}

{#- Config of every base model. -#}
{% macro cdp_base_model_config() -%}
    {{ return({
        'materialized': 'incremental',
        'unique_key': ['_source_file', '_source_row'],
        'incremental_strategy': cdp_row_upsert_strategy(),
        'on_schema_change': 'fail',
    }) }}
{%- endmacro %}

{#- Strategy that replaces rows by unique key: delete+insert where the adapter has it; merge on
    Spark (a rewrite on parquet, macros/cross_db/spark_merge.sql) and BigQuery. -#}
{% macro cdp_row_upsert_strategy() -%}
    {{ return(adapter.dispatch('cdp_row_upsert_strategy')()) }}
{%- endmacro %}

{% macro default__cdp_row_upsert_strategy() -%}
    {{ return('delete+insert') }}
{%- endmacro %}

{% macro spark__cdp_row_upsert_strategy() -%}
    {{ return('merge') }}
{%- endmacro %}

{% macro bigquery__cdp_row_upsert_strategy() -%}
    {{ return('merge') }}
{%- endmacro %}

{#- Body of a base model's `source` CTE: every raw row; on an incremental run, the rows landed
    since the last build, and again the landed rows of the keys they bring (`key`: the raw
    column, cleaned as the model cleans it) so that every version of a touched key is ranked
    anew, plus the rows whose `_invalid_reason` starts with `recheck_reason` (a verdict that
    depends on another model, such as an order line waiting for its order). -#}
{% macro cdp_raw_rows_to_stage(source_relation, key, recheck_reason=none) -%}
    select raw_rows.*
    from {{ source_relation }} as raw_rows
    {%- if is_incremental() %}
        {%- do cdp_assert_raw_rows_unchanged(source_relation) %}
    where raw_rows._loaded_at > {{ cdp_watermark_since('_loaded_at') }}
    union all
    select raw_rows.*
    from {{ source_relation }} as raw_rows
    inner join (
        select
            _source_file,
            _source_row
        from {{ this }}
        where
            {{ key }} in (
                select {{ cdp_clean_text('landed.' ~ key) }}
                from {{ source_relation }} as landed
                where landed._loaded_at > {{ cdp_watermark_since('_loaded_at') }}
            )
            {%- if recheck_reason %}
            or _invalid_reason like '{{ recheck_reason }}%'
            {%- endif %}
    ) as to_type_again
        on
            raw_rows._source_file = to_type_again._source_file
            and raw_rows._source_row = to_type_again._source_row
    {%- endif %}
{%- endmacro %}


{#- Incremental staging only sees rows added to the raw table. Rows deleted from it (by hand;
    `cdp erase` rebuilds with --full-refresh) or landed with an older `_loaded_at` would leave
    the model out of step without a trace, so the build stops and says how to rebuild. -#}
{% macro cdp_assert_raw_rows_unchanged(source_relation) -%}
    {%- if execute -%}
        {%- set counts -%}
            select
                (select count(*) from {{ source_relation }}
                 where _loaded_at <= {{ cdp_watermark_since('_loaded_at') }}) as raw_rows,
                (select count(*) from {{ this }}) as staged_rows
        {%- endset -%}
        {%- set row = run_query(counts).rows[0] -%}
        {%- if row[0] != row[1] -%}
            {{ exceptions.raise_compiler_error(
                this.schema ~ "." ~ this.identifier ~ " holds " ~ row[1] ~ " rows but "
                ~ source_relation.schema ~ "." ~ source_relation.identifier ~ " has " ~ row[0]
                ~ " rows loaded up to the newest one it staged: raw rows were deleted or landed"
                ~ " with an older _loaded_at since the last build. Rebuild it and what reads it:"
                ~ " dbt build --full-refresh --select " ~ this.identifier ~ "+"
            ) }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
