{#- incremental_strategy 'merge' on Spark tables without MERGE INTO (plain parquet, as a local
    Spark without Delta, Iceberg or Hudi has): dbt-spark refuses it there, so these two
    overrides of dbt-spark's macros (the root project's macros win) turn it into a rewrite:
    the target's rows whose unique_key is not among the new rows, plus the new rows, are
    written to a helper table, which then overwrites the target. One full write per run:
    fine for the small tables that use it (segment_membership_history); use Delta for big
    ones. The project's strategies replace_customers, replace_keys and replace_records
    (macros/incremental/replace_groups.sql) are the same rewrite by group key, on any file
    format. Every other strategy and format
    goes to dbt-spark's own macros. -#}
{% macro dbt_spark_validate_get_incremental_strategy(raw_strategy, file_format) %}
    {%- if raw_strategy == 'merge' and file_format not in ['delta', 'iceberg', 'hudi'] -%}
        {{ return('cdp_merge_by_rewrite') }}
    {%- endif -%}
    {%- if raw_strategy in ['replace_customers', 'replace_keys', 'replace_records'] -%}
        {{ return(raw_strategy) }}
    {%- endif -%}
    {{ return(dbt.dbt_spark_validate_get_incremental_strategy(raw_strategy, file_format)) }}
{% endmacro %}

{% macro dbt_spark_get_incremental_sql(strategy, source, target, existing, unique_key, incremental_predicates) %}
    {%- if strategy == 'cdp_merge_by_rewrite' -%}
        {%- if not unique_key -%}
            {{ exceptions.raise_compiler_error("incremental_strategy 'merge' on Spark parquet tables needs a unique_key") }}
        {%- endif -%}
        {%- set keys = [unique_key] if unique_key is string else unique_key -%}
        {{ return(cdp_spark_rewrite(source, target, keys)) }}
    {%- endif -%}
    {%- if strategy in ['replace_customers', 'replace_keys', 'replace_records'] -%}
        {%- set keys = cdp_replace_groups_keys(unique_key, strategy) -%}
        {%- set replaced = cdp_incoming_has_group(source, keys.group, 'stored') -%}
        {%- for statement in cdp_log_removed_rows_sql(target, keys.group, replaced) -%}
            {%- do run_query(statement) -%}
        {%- endfor -%}
        {{ return(cdp_spark_rewrite(source, target, keys.group, keys.rows_present)) }}
    {%- endif -%}
    {{ return(dbt.dbt_spark_get_incremental_sql(
        strategy, source, target, existing, unique_key, incremental_predicates)) }}
{% endmacro %}

{#- Runs the rewrite: the target's rows with no new row of the same `keys`, plus the new rows
    that pass `incoming_filter`. Returns the statement that completes it (dbt runs it as 'main'). -#}
{% macro cdp_spark_rewrite(source, target, keys, incoming_filter='true') %}
    {%- set columns = adapter.get_columns_in_relation(target) | map(attribute='name') | join(', ') -%}
    {%- set merge_sql -%}
        select {{ columns }}
        from {{ target }} as kept
        where not {{ cdp_incoming_has_group(source, keys, 'kept') }}
        union all
        select {{ columns }}
        from {{ source }}
        where {{ incoming_filter }}
    {%- endset -%}
    {%- for statement in cdp_spark_overwrite_sql(target, columns, merge_sql) -%}
        {%- do run_query(statement) -%}
    {%- endfor -%}
    {{ return('refresh table ' ~ target) }}
{% endmacro %}

{#- The statements that overwrite `target` (its columns `columns`, comma-separated, in order)
    with the rows of `select_sql`, which may read `target`: Spark cannot overwrite a table
    from a query that reads it, so the rows go to a helper table first. -#}
{% macro cdp_spark_overwrite_sql(target, columns, select_sql) %}
    {%- set helper = target.incorporate(path={"identifier": target.identifier ~ '__cdp_overwrite'}) -%}
    {{ return([
        'drop table if exists ' ~ helper,
        'create table ' ~ helper ~ ' as ' ~ select_sql,
        'insert overwrite table ' ~ target ~ ' select ' ~ columns ~ ' from ' ~ helper,
        'drop table ' ~ helper,
    ]) }}
{% endmacro %}
