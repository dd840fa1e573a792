{#- Access to the bi schema (models/marts/bi) for the roles in var cdp_bi_readers. -#}

{#- The grants config of every bi model: select for the roles in var cdp_bi_readers. An
    empty list gives {} (nothing to grant; DuckDB then does not warn that it has no grants). -#}
{% macro cdp_bi_grants() -%}
    {{ return({'select': cdp_bi_readers()} if cdp_bi_readers() else {}) }}
{%- endmacro %}

{#- var cdp_bi_readers, checked to be a list of role names. -#}
{% macro cdp_bi_readers() -%}
    {%- set roles = var('cdp_bi_readers') -%}
    {%- if roles is string or roles is mapping or roles is not iterable -%}
        {{ exceptions.raise_compiler_error("var cdp_bi_readers must be a list of database roles, got: " ~ roles) }}
    {%- endif -%}
    {{ return(roles | list) }}
{%- endmacro %}

{#- on-run-end hook: dbt's `grants` config grants select on each view but not usage on its
    schema, without which Postgres and Snowflake refuse the select. Granted once per run, after
    the models (a grant per model from parallel threads collides on Postgres: "tuple
    concurrently updated"), on the schema of every bi model the run built. -#}
{% macro cdp_grant_bi_schema_usage(results) -%}
    {%- set schemas = [] -%}
    {%- for result in results
        if result.node.resource_type == 'model' and result.node.fqn[1:3] == ['marts', 'bi']
            and result.status == 'success' and result.node.schema not in schemas -%}
        {%- do schemas.append(result.node.schema) -%}
    {%- endfor -%}
    {%- for schema in schemas -%}
        {{ cdp_grant_schema_usage_sql(schema, cdp_bi_readers()) }}
    {%- endfor -%}
{%- endmacro %}

{#- `grant usage on schema` for each role; nothing on engines without roles (DuckDB) or where
    the dataset, not the schema, is granted (BigQuery, Spark). -#}
{% macro cdp_grant_schema_usage_sql(schema, roles) -%}
    {{ return(adapter.dispatch('cdp_grant_schema_usage_sql', 'cdp')(schema, roles)) }}
{%- endmacro %}

{% macro default__cdp_grant_schema_usage_sql(schema, roles) -%}
{%- endmacro %}

{% macro postgres__cdp_grant_schema_usage_sql(schema, roles) -%}
    {%- for role in roles %}
        grant usage on schema {{ adapter.quote(schema) }} to {{ role }};
    {%- endfor %}
{%- endmacro %}

{% macro redshift__cdp_grant_schema_usage_sql(schema, roles) -%}
    {{ postgres__cdp_grant_schema_usage_sql(schema, roles) }}
{%- endmacro %}

{% macro snowflake__cdp_grant_schema_usage_sql(schema, roles) -%}
    {%- for role in roles %}
        grant usage on schema {{ target.database }}.{{ schema }} to role {{ role }};
    {%- endfor %}
{%- endmacro %}
