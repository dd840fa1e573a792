{#- When each model last built successfully: `cdp_model_runs` (model_id, run_started_at), a
    run record (macros/incremental/run_records.sql) written by the on-run-end hook
    cdp_record_model_runs and read by cdp_newest_stamp. A model incremental by stamps reads
    what its inputs wrote after its own last build; taken from its rows alone, that moment
    stays behind while the model writes nothing (no change reached it), so its scope would
    grow with every run, and once a log it reads is pruned past it
    (macros/incremental/log_pruning.sql) it would recompute everything on every run. -#}

{% macro cdp_model_runs_relation() -%}
    {{ return(cdp_run_record_relation('cdp_model_runs')) }}
{%- endmacro %}

{#- on-run-end hook: records this run's start for every model built successfully in it (dbt
    run or build). -#}
{% macro cdp_record_model_runs(results) -%}
    {%- if flags.WHICH not in ['run', 'build'] -%}
        {{ return('') }}
    {%- endif -%}
    {%- set built = [] -%}
    {%- for result in results
        if result.node.resource_type == 'model' and result.status == 'success'
            and result.node.config.materialized != 'ephemeral' -%}
        {%- do built.append(result.node.unique_id) -%}
    {%- endfor -%}
    {%- do cdp_record_runs(cdp_model_runs_relation(), 'model_id', 'run_started_at', built) -%}
{%- endmacro %}

{#- SQL: when this model last built successfully, as a timestamp literal, or null (no record:
    the first build after this code, or the table missing). Read at compile time: a literal
    keeps the models' plans as small as without it (Spark inlines a scalar subquery at each
    use of a watermark). -#}
{% macro cdp_last_model_run() -%}
    {%- set found = cdp_last_recorded_run(
        cdp_model_runs_relation(), 'model_id', 'run_started_at', model.unique_id) if execute else none -%}
    {%- if found is none -%}
        {{ return('cast(null as ' ~ dbt.type_timestamp() ~ ')') }}
    {%- endif -%}
    {{ return('cast(' ~ dbt.string_literal(found) ~ ' as ' ~ dbt.type_timestamp() ~ ')') }}
{%- endmacro %}
