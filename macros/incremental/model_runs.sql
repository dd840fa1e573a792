{#- When each model last built successfully: `cdp_model_runs` (model_id, run_started_at) in
    the target's own schema, written by the on-run-end hook cdp_record_model_runs and read
    by cdp_newest_stamp. A model incremental by stamps reads what its inputs wrote after its
    own last build; taken from its rows alone, that moment stays behind while the model
    writes nothing (no change reached it), so its scope would grow with every run, and once
    a log it reads is pruned past it (macros/incremental/log_pruning.sql) it would recompute
    everything on every run. -#}

{% macro cdp_model_runs_relation() -%}
    {{ return(api.Relation.create(
        database=target.database or none, schema=target.schema, identifier='cdp_model_runs', type='table')) }}
{%- endmacro %}

{#- on-run-end hook: records this run's start for every model built successfully in it (dbt
    run or build), keeping each model's latest row. -#}
{% macro cdp_record_model_runs(results) -%}
    {%- if flags.WHICH not in ['run', 'build'] -%}
        {{ return('') }}
    {%- endif -%}
    {%- set built = [] -%}
    {%- for result in results
        if result.node.resource_type == 'model' and result.status == 'success'
            and result.node.config.materialized != 'ephemeral' -%}
        {%- do built.append(
            'select cast(' ~ dbt.string_literal(result.node.unique_id) ~ ' as ' ~ dbt.type_string() ~ ') as model_id, '
            ~ cdp_run_started_at() ~ ' as run_started_at') -%}
    {%- endfor -%}
    {%- if built -%}
        {%- set runs = cdp_model_runs_relation() -%}
        {%- do adapter.create_schema(runs) -%}
        {%- do cdp_append_rows(runs, built | join(' union all ')) -%}
        {%- do cdp_keep_latest_rows(runs, 'model_id', 'run_started_at') -%}
    {%- endif -%}
{%- endmacro %}

{#- SQL: when this model last built successfully, as a timestamp literal, or null (no record:
    the first build after this code, or the table missing). Read at compile time: a literal
    keeps the models' plans as small as without it (Spark inlines a scalar subquery at each
    use of a watermark). -#}
{% macro cdp_last_model_run() -%}
    {%- set runs = cdp_model_runs_relation() -%}
    {%- if not execute or adapter.get_relation(runs.database, runs.schema, runs.identifier) is none -%}
        {{ return('cast(null as ' ~ dbt.type_timestamp() ~ ')') }}
    {%- endif -%}
    {%- set found = run_query(
        'select cast(max(run_started_at) as ' ~ dbt.type_string() ~ ') from ' ~ runs
        ~ ' where model_id = ' ~ dbt.string_literal(model.unique_id)).columns[0].values()[0] -%}
    {%- if found is none -%}
        {{ return('cast(null as ' ~ dbt.type_timestamp() ~ ')') }}
    {%- endif -%}
    {{ return('cast(' ~ dbt.string_literal(found) ~ ' as ' ~ dbt.type_timestamp() ~ ')') }}
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
