{#- The logs beside incremental models (removal logs `<model>__removed`, re-clustered nodes
    `<model>__reclustered`) are read by the models downstream for the rows stamped after
    their own last build. Left alone they grow with every run, so each write also prunes
    them: rows stamped more than var cdp_log_retention_days (default 30) days before this
    run go, and a horizon row (every column null but the stamp, at the cut-off) says so. A
    reader whose last build is older than a horizon row cannot tell what it lacks and
    recomputes everything, as after a full build of the log's model (which leaves the same
    kind of row, or none). -#}

{#- Condition: `log` holds a horizon row (null `key`) stamped after `since` (an SQL
    expression): rows stamped before the horizon may be gone. -#}
{% macro cdp_log_lacks_rows_since(log, key, stamp, since) -%}
    (select count(*) from {{ log }} where {{ key }} is null and {{ stamp }} > {{ since }}) > 0
{%- endmacro %}

{#- Condition: the removal log of `relation` may lack rows removed after the newest `stamp`
    {{ this }} holds: `relation` was rebuilt in full since (its build dropped the log), the
    log was pruned since, or it does not exist (not yet seen: true, a constant). Its first
    column, a group key, is null only in a horizon row. -#}
{% macro cdp_removal_log_lacks_rows_since_this(relation, stamp='_built_at') -%}
    {%- if not execute -%}
        {{ return('true') }}
    {%- endif -%}
    {%- set log = load_relation(cdp_removal_log_relation(relation)) -%}
    {%- if log is none -%}
        {{ return('true') }}
    {%- endif -%}
    {%- set key = adapter.get_columns_in_relation(log)[0].name -%}
    ({{ cdp_rebuilt_in_full_since_this(relation, stamp) }}
    or {{ cdp_log_lacks_rows_since(log, key, '_removed_at', cdp_watermark_since(stamp)) }})
{%- endmacro %}

{#- The same for any of `relations`, asked before the model's query (cdp_holds_now: at 1M
    people the edge audit read the 12M record nodes to find the condition false). -#}
{% macro cdp_removal_logs_lack_rows_now(relations, stamp='_built_at') -%}
    {%- set conditions = [] -%}
    {%- for relation in relations -%}
        {%- do conditions.append(cdp_removal_log_lacks_rows_since_this(relation, stamp)) -%}
    {%- endfor -%}
    {{ return(cdp_holds_now(conditions)) }}
{%- endmacro %}

{#- The statements that prune `log` by its column `stamp`. -#}
{% macro cdp_prune_log_sql(log, stamp) -%}
    {{ return(adapter.dispatch('cdp_prune_log_sql', 'cdp')(log, stamp)) }}
{%- endmacro %}

{#- The cut-off: rows of `log` stamped before it go. -#}
{% macro cdp_log_cutoff() -%}
    {%- set days = var('cdp_log_retention_days', 30) -%}
    {%- if days is not number or days < 0 -%}
        {{ exceptions.raise_compiler_error(
            "var cdp_log_retention_days must be a number of days >= 0, got " ~ days) }}
    {%- endif -%}
    {{ return(dbt.dateadd('day', -days, cdp_run_started_at())) }}
{%- endmacro %}

{#- The horizon row first (if any row is older), at the cut-off itself so the delete keeps
    it: one such row is left, the previous one being older. -#}
{% macro default__cdp_prune_log_sql(log, stamp) -%}
    {%- set cutoff = cdp_log_cutoff() -%}
    {%- set horizon -%}
        insert into {{ log }} ({{ stamp }})
        select {{ cutoff }}
        where exists (select 1 from {{ log }} where {{ stamp }} < {{ cutoff }})
    {%- endset -%}
    {{ return([horizon, 'delete from ' ~ log ~ ' where ' ~ stamp ~ ' < ' ~ cutoff]) }}
{%- endmacro %}

{#- Spark's parquet tables take no delete: the rows kept and the horizon overwrite the log
    (cdp_spark_overwrite_sql, macros/cross_db/spark_merge.sql; on any file format, Delta
    included). Only when the log holds rows older than the cut-off, so most writes cost one
    count: those rows are from earlier runs, so counting them now, before this write's own
    rows are added, finds the same. -#}
{% macro spark__cdp_prune_log_sql(log, stamp) -%}
    {%- set cutoff = cdp_log_cutoff() -%}
    {%- if not execute or load_relation(log) is none -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set older = run_query('select count(*) from ' ~ log ~ ' where ' ~ stamp ~ ' < ' ~ cutoff) -%}
    {%- if older.columns[0].values()[0] == 0 -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set columns = adapter.get_columns_in_relation(log) -%}
    {%- set names = columns | map(attribute='name') | join(', ') -%}
    {%- set keep -%}
        select {{ names }} from {{ log }} where {{ stamp }} >= {{ cutoff }}
        union all
        select
            {%- for column in columns %}
            {% if column.name == stamp %}{{ cutoff }}{% else %}cast(null as {{ column.data_type }}){% endif %} as {{ column.name }}{{ ',' if not loop.last }}
            {%- endfor %}
    {%- endset -%}
    {{ return(cdp_spark_overwrite_sql(log, names, keep)) }}
{%- endmacro %}
