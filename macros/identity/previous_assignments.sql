{#- customer_id_assignments reads itself on incremental runs; on the first run, an empty relation of its shape. -#}
{% macro cdp_previous_assignments() -%}
    {%- if is_incremental() -%}
        {{ this }}
    {%- else -%}
        (
            select
                cast(null as {{ dbt.type_string() }}) as node_key,
                cast(null as {{ dbt.type_string() }}) as customer_id,
                cast(null as {{ dbt.type_timestamp() }}) as assigned_at
            where 1 = 0
        )
    {%- endif -%}
{%- endmacro %}
