{#- Stamps that tell an incremental model what changed since its own last build. -#}

{#- When this dbt invocation started, as a timestamp: the same in every model it builds.
    It is `_typed_at` of a base row (cdp_flag_duplicates): a build types the new raw rows and
    every row of the keys they touch, so a model downstream finds the records that changed
    since its own last build as the rows typed after the newest `_typed_at` it holds
    (int_identity__record_identifiers), whichever builds ran between. -#}
{% macro cdp_run_started_at() -%}
    cast('{{ run_started_at }}' as {{ dbt.type_timestamp() }})
{%- endmacro %}

{#- Select: the newest `column` {{ this }} holds (a date before any build when it is empty):
    `_loaded_at` for incremental staging, `_typed_at` or `_built_at` for the identity models
    incremental by record. A column stamped with the run's start (every one but `_loaded_at`,
    the loader's clock) is taken at least as late as the model's last successful build
    (macros/incremental/model_runs.sql): it read everything its inputs stamped up to then,
    also when it wrote nothing. -#}
{% macro cdp_newest_stamp(column) -%}
    {%- set none_yet = "cast('1900-01-01 00:00:00' as " ~ dbt.type_timestamp() ~ ")" -%}
    {%- if column == '_loaded_at' -%}
    select coalesce(max({{ column }}), {{ none_yet }}) from {{ this }}
    {%- else -%}
    select greatest(coalesce(max({{ column }}), {{ none_yet }}), coalesce({{ cdp_last_model_run() }}, {{ none_yet }}))
    from {{ this }}
    {%- endif -%}
{%- endmacro %}

{#- The newest `column` {{ this }} holds (cdp_newest_stamp), read when the model runs and
    written into its SQL as a timestamp literal: the watermark an incremental model compares
    its inputs' stamps with. Compared with a literal, DuckDB prunes a stamped table by the
    column's statistics and plans the joins after it by them; compared with a subquery,
    opaque until run, it scanned and hashed the big tables (at 1M people, a build with
    nothing new: customer_identifiers' query 1.0 to 1.9 s against 0.01 to 0.03 s). Read as
    text, so the literal is the warehouse's own rendering (no client time-zone shift). While
    dbt parses (nothing runs), the run's start stands in. -#}
{% macro cdp_watermark_since(column='_built_at') -%}
    {%- if not execute -%}
        {{ return(cdp_run_started_at()) }}
    {%- endif -%}
    {#- Read once per model and column (a read is three round trips to the warehouse), kept
        in the node's context dict for the rest of its rendering. -#}
    {%- set read = model.setdefault('cdp_watermarks', {}) -%}
    {%- if column not in read -%}
        {%- set newest = run_query(
            "select cast((" ~ cdp_newest_stamp(column) ~ ") as " ~ dbt.type_string() ~ ")").columns[0].values()[0] -%}
        {%- do read.update({column: "cast('" ~ newest ~ "' as " ~ dbt.type_timestamp() ~ ")"}) -%}
    {%- endif -%}
    {{ return(read[column]) }}
{%- endmacro %}

{#- Condition: every row of `relation` (stamped `_built_at`) was written after the newest
    `stamp` {{ this }} holds (`_built_at`; `_clustered_at` for int_identity__components), i.e.
    `relation` was rebuilt in full since (or is empty): a model incremental on it must then
    recompute everything. -#}
{% macro cdp_rebuilt_in_full_since_this(relation, stamp='_built_at') -%}
    coalesce((select min(_built_at) from {{ relation }}), {{ cdp_run_started_at() }}) > {{ cdp_watermark_since(stamp) }}
{%- endmacro %}

{#- Stops the build with what to do when {{ this }}, incremental now, lacks `column`: it was
    built as a plain table by an earlier version of the model. Called before the queries that
    read the column, which would fail with the binder's message instead. -#}
{% macro cdp_require_incremental_column(column) -%}
    {%- if column not in adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list -%}
        {{ exceptions.raise_compiler_error(
            this ~ " was built as a table by an earlier version (no " ~ column ~ " column): run "
            ~ "`cdp build --full-refresh` once to rebuild it incrementally") }}
    {%- endif -%}
{%- endmacro %}
