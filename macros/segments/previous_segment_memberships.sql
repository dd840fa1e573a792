{#- segment_membership_history reads its own open rows on incremental runs; on the first run
    (or a new warehouse), an empty relation of its shape. -#}
{% macro cdp_previous_segment_memberships() -%}
    {%- if is_incremental() -%}
        {{ this }}
    {%- else -%}
        (
            select
                cast(null as {{ dbt.type_string() }}) as segment_name,
                cast(null as {{ dbt.type_string() }}) as customer_id,
                cast(null as {{ dbt.type_timestamp() }}) as entered_at,
                cast(null as {{ dbt.type_timestamp() }}) as exited_at
            where 1 = 0
        )
    {%- endif -%}
{%- endmacro %}

{#- delete+insert on the row key where the adapter supports it; Spark and Databricks merge
    (on Spark tables without MERGE INTO: macros/cross_db/spark_merge.sql). -#}
{% macro cdp_history_incremental_strategy() -%}
    {{- return('merge' if target.type in ['spark', 'databricks'] else 'delete+insert') -}}
{%- endmacro %}
