{#- Incremental staging. A base model holds one row per raw row (raw = staged + quarantined),
    so a build without --full-refresh types only the raw rows landed since the last build
    (`_loaded_at` above the newest one the model holds) and re-ranks the versions of the keys
    they touch (cdp_flag_duplicates); dbt replaces those rows by their raw row's key
    (`_source_file`, `_source_row`). The result equals a full rebuild's. -#}

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

{#- Body of a base model's `source` CTE: every raw row, or on an incremental run the rows landed
    since the last build, plus the built rows whose `_invalid_reason` starts with
    `recheck_reason` (a verdict that depends on another model, such as an order line waiting
    for its order: they are typed again). -#}
{% macro cdp_raw_rows_to_stage(source_relation, recheck_reason=none) -%}
    select raw_rows.*
    from {{ source_relation }} as raw_rows
    {%- if is_incremental() %}
        {%- do cdp_assert_raw_rows_unchanged(source_relation) %}
    where
        raw_rows._loaded_at > ({{ cdp_staged_watermark() }})
        {%- if recheck_reason %}
        or exists (
            select 1
            from {{ this }} as waiting
            where
                waiting._source_file = raw_rows._source_file
                and waiting._source_row = raw_rows._source_row
                and waiting._invalid_reason like '{{ recheck_reason }}%'
        )
        {%- endif %}
    {%- endif %}
{%- endmacro %}

{#- Newest `_loaded_at` the model holds (a date before any load when it is empty). -#}
{% macro cdp_staged_watermark() -%}
    select coalesce(max(_loaded_at), cast('1900-01-01 00:00:00' as timestamp)) from {{ this }}
{%- endmacro %}

{#- Incremental staging only sees rows added to the raw table. Rows deleted from it (by hand;
    `cdp erase` removes its own from the base models too) or landed with an older `_loaded_at`
    would leave the model out of step without a trace, so the build stops and says how to
    rebuild. -#}
{% macro cdp_assert_raw_rows_unchanged(source_relation) -%}
    {%- if execute -%}
        {%- set counts -%}
            select
                (select count(*) from {{ source_relation }}
                 where _loaded_at <= ({{ cdp_staged_watermark() }})) as raw_rows,
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

{#- Columns of the typed rows a base model holds (what cdp_flag_duplicates adds left out). -#}
{% macro cdp_typed_columns(relation) -%}
    {%- set added = ['_content_hash', '_version_rank', '_kept_hash', '_quarantine_reason'] -%}
    {%- set columns = [] -%}
    {%- for column in adapter.get_columns_in_relation(relation) -%}
        {%- if column.name | lower not in added -%}
            {%- do columns.append(column.name) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(columns) }}
{%- endmacro %}

{#- The typed rows to rank: on an incremental run, the new ones and the built rows of the keys
    they touch (not those typed again), so every version of a touched key is ranked anew. -#}
{% macro cdp_rows_to_rank(relation, key) -%}
    {%- if is_incremental() -%}
        {%- set columns = cdp_typed_columns(this) | join(', ') -%}
        (
            select {{ columns }} from {{ relation }}
            union all
            select {{ columns }}
            from {{ this }} as staged
            where
                staged.{{ key }} in (select typed_again.{{ key }} from {{ relation }} as typed_again)
                and not exists (
                    select 1
                    from {{ relation }} as retyped
                    where
                        retyped._source_file = staged._source_file
                        and retyped._source_row = staged._source_row
                )
        )
    {%- else -%}
        {{ relation }}
    {%- endif -%}
{%- endmacro %}
