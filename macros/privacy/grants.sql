{#- Post-hook of the bi models: lets `roles` see into the model's schema. dbt's `grants`
    config grants select on each view but not usage on the schema, without which Postgres
    and Snowflake refuse the select. Nothing on engines without roles (DuckDB) or where the
    dataset, not the schema, is granted (BigQuery, Spark). -#}
{% macro cdp_grant_schema_usage(roles) -%}
    {{ return(adapter.dispatch('cdp_grant_schema_usage', 'cdp')(roles)) }}
{%- endmacro %}

{% macro default__cdp_grant_schema_usage(roles) -%}
{%- endmacro %}

{% macro postgres__cdp_grant_schema_usage(roles) -%}
    {%- for role in roles %}
        grant usage on schema {{ this.schema }} to {{ role }};
    {%- endfor %}
{%- endmacro %}

{% macro redshift__cdp_grant_schema_usage(roles) -%}
    {{ postgres__cdp_grant_schema_usage(roles) }}
{%- endmacro %}

{% macro snowflake__cdp_grant_schema_usage(roles) -%}
    {%- for role in roles %}
        grant usage on schema {{ this.database }}.{{ this.schema }} to role {{ role }};
    {%- endfor %}
{%- endmacro %}

{#- The grants config of every bi model: select for the roles in var cdp_bi_readers. An
    empty list gives {} (nothing to grant; DuckDB then does not warn that it has no grants). -#}
{% macro cdp_bi_grants() -%}
    {%- set roles = var('cdp_bi_readers') -%}
    {%- if roles is string or roles is mapping -%}
        {{ exceptions.raise_compiler_error("var cdp_bi_readers must be a list of database roles, got: " ~ roles) }}
    {%- endif -%}
    {{ return({'select': roles | list} if roles else {}) }}
{%- endmacro %}
