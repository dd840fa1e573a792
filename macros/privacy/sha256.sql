{#- Lowercase hex SHA-256 of a string (64 characters), null for null. The input is hashed as
    given (UTF-8 bytes): normalise first (cdp_email_sha256, cdp_phone_sha256). Every engine
    has its own spelling; the default is `sha2(x, 256)` (Spark, Databricks, Snowflake,
    Redshift, MySQL). -#}
{% macro cdp_sha256_hex(expr) -%}
    {{ return(adapter.dispatch('cdp_sha256_hex', 'cdp')(expr)) }}
{%- endmacro %}

{% macro default__cdp_sha256_hex(expr) -%}
    lower(sha2({{ expr }}, 256))
{%- endmacro %}

{% macro duckdb__cdp_sha256_hex(expr) -%}
    sha256({{ expr }})
{%- endmacro %}

{% macro postgres__cdp_sha256_hex(expr) -%}
    encode(sha256(convert_to({{ expr }}, 'UTF8')), 'hex')
{%- endmacro %}

{#- Also Databricks: dbt-databricks declares spark its parent adapter, so dispatch falls back to spark__. -#}
{% macro spark__cdp_sha256_hex(expr) -%}
    sha2({{ expr }}, 256)
{%- endmacro %}

{% macro snowflake__cdp_sha256_hex(expr) -%}
    sha2({{ expr }}, 256)
{%- endmacro %}

{% macro bigquery__cdp_sha256_hex(expr) -%}
    to_hex(sha256({{ expr }}))
{%- endmacro %}
