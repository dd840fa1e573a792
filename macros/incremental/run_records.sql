{#- Small tables in the target's own schema that record, per node, the start of the run in
    which something last happened to it: cdp_data_test_passes (a scoped data test passed,
    macros/tests/rows_built_since_last_pass.sql) and cdp_model_runs (a model built,
    macros/incremental/model_runs.sql). Written by on-run-end hooks, one row per node. -#}

{#- In the target's own schema, created by the hook where models only use custom schemas
    (Postgres); Spark's target has no database. -#}
{% macro cdp_run_record_relation(identifier) -%}
    {{ return(api.Relation.create(
        database=target.database or none, schema=target.schema, identifier=identifier, type='table')) }}
{%- endmacro %}

{#- Records this run's start (`stamp`) for each unique_id in `node_ids` (`key`), keeping each
    node's latest row only. -#}
{% macro cdp_record_runs(relation, key, stamp, node_ids) -%}
    {%- if not node_ids -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set rows = [] -%}
    {%- for node_id in node_ids -%}
        {%- do rows.append(
            'select cast(' ~ dbt.string_literal(node_id) ~ ' as ' ~ dbt.type_string() ~ ') as ' ~ key ~ ', '
            ~ cdp_run_started_at() ~ ' as ' ~ stamp) -%}
    {%- endfor -%}
    {%- do adapter.create_schema(relation) -%}
    {%- do cdp_append_rows(relation, rows | join(' union all ')) -%}
    {%- do cdp_keep_latest_rows(relation, key, stamp) -%}
    {%- do cdp_commit_hook_writes() -%}
{%- endmacro %}

{#- Commits what a hook wrote. A hook's statements (run_query) run outside a transaction,
    unless dbt looked up a relation whose schema it had not cached (get_relation on a schema
    no selected model uses: `dbt run -s one_model`): that lookup opens one, and dbt rolls it
    back when the hooks end, with every write since. So open one if none is (statement with
    auto_begin), then commit. A no-op on Spark, which has no transactions. -#}
{% macro cdp_commit_hook_writes() -%}
    {%- call statement('cdp_commit_hook_writes', auto_begin=True) -%}
        select 1 as committed
    {%- endcall -%}
    {%- do adapter.commit() -%}
{%- endmacro %}

{#- The latest `stamp` recorded for `node_id`, as text, or none (no row, or no table). -#}
{% macro cdp_last_recorded_run(relation, key, stamp, node_id) -%}
    {%- if adapter.get_relation(relation.database, relation.schema, relation.identifier) is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set found = run_query(
        'select cast(max(' ~ stamp ~ ') as ' ~ dbt.type_string() ~ ') from ' ~ relation
        ~ ' where ' ~ key ~ ' = ' ~ dbt.string_literal(node_id)) -%}
    {{ return(found.columns[0].values()[0]) }}
{%- endmacro %}

{#- Deletes every row of `relation` but the latest (`stamp`) of each `key`, so the table stays
    as small as the number of keys. Spark's default (Parquet) tables cannot delete: there it
    grows by a row per key and run. -#}
{% macro cdp_keep_latest_rows(relation, key, stamp) -%}
    {{ return(adapter.dispatch('cdp_keep_latest_rows', 'cdp')(relation, key, stamp)) }}
{%- endmacro %}

{% macro default__cdp_keep_latest_rows(relation, key, stamp) -%}
    {%- do run_query(
        'delete from ' ~ relation ~ ' where exists (select 1 from ' ~ relation ~ ' as newer'
        ~ ' where newer.' ~ key ~ ' = ' ~ relation.identifier ~ '.' ~ key
        ~ ' and newer.' ~ stamp ~ ' > ' ~ relation.identifier ~ '.' ~ stamp ~ ')') -%}
{%- endmacro %}

{% macro spark__cdp_keep_latest_rows(relation, key, stamp) -%}
{%- endmacro %}
