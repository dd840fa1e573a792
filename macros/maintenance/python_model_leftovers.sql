{#- dbt-duckdb 1.11 builds an incremental Python model's new rows into a table named
    <model>__dbt_tmp<timestamp> in the database's default schema, merges them, and never drops
    it (the materialization drops only temporary relations it marks as not temporary). Each
    incremental build would leave one more copy of the model's rows (the Splink pairs: 564,144
    rows at 1M people, record ids an erasure's rebuild does not reach). Every run drops them at
    its end (on-run-end), also those of runs killed before. DuckDB only: on other targets cdp
    runs the Python models itself (cdp.python_models) and writes no such table. -#}
{% macro cdp_drop_python_model_leftovers() -%}
    {%- if execute and target.type == 'duckdb' -%}
        {%- set names = [] -%}
        {%- for node in graph.nodes.values()
            if node.resource_type == 'model' and node.language == 'python' -%}
            {%- do names.append(node.alias ~ '__dbt_tmp') -%}
        {%- endfor -%}
        {%- if names -%}
            {%- set leftovers = run_query(cdp_python_model_leftovers_sql(names)) -%}
            {%- for row in leftovers.rows -%}
                {%- set leftover = api.Relation.create(
                    database=row[0], schema=row[1], identifier=row[2], type='table') -%}
                {{ log("dropping " ~ leftover ~ ": the rows dbt-duckdb staged for a Python model", info=true) }}
                {%- do adapter.drop_relation(leftover) -%}
            {%- endfor -%}
            {%- do cdp_commit_hook_writes() -%}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- Select: (database, schema, table) of the tables of this database whose name is one of
    `prefixes` followed by the timestamp dbt-duckdb appends (digits only). -#}
{% macro cdp_python_model_leftovers_sql(prefixes) -%}
    select table_catalog, table_schema, table_name
    from information_schema.tables
    where
        table_catalog = current_database()
        and table_type = 'BASE TABLE'
        and (
            {%- for prefix in prefixes %}
                {{ 'or ' if not loop.first }}regexp_full_match(table_name, {{ dbt.string_literal(prefix ~ '[0-9]+') }})
            {%- endfor %}
        )
{%- endmacro %}
