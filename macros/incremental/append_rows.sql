{#- Appends the rows of `rows_sql` to `relation`, created from them on first use: the logs
    beside incremental models (connected_components' runs and reclustered nodes) and the data
    test passes (macros/tests/rows_built_since_last_pass.sql). -#}
{% macro cdp_append_rows(relation, rows_sql) %}
    {%- if adapter.get_relation(relation.database, relation.schema, relation.identifier) is none -%}
        {%- do run_query(create_table_as(false, relation, rows_sql)) -%}
    {%- else -%}
        {%- do run_query('insert into ' ~ relation ~ ' ' ~ rows_sql) -%}
    {%- endif -%}
{% endmacro %}
