{#- A 64-bit float. dbt.type_float() is `float`, which DuckDB (and others) read as a 4-byte
    REAL: too coarse for model inputs, likelihoods and parameters. -#}
{% macro cdp_type_double() -%}
    {{ return(adapter.dispatch('cdp_type_double', 'cdp')()) }}
{%- endmacro %}

{% macro default__cdp_type_double() -%}
    double precision
{%- endmacro %}

{#- Also Databricks: dbt-databricks declares spark its parent adapter, so dispatch falls back to spark__. -#}
{% macro spark__cdp_type_double() -%}
    double
{%- endmacro %}

{% macro bigquery__cdp_type_double() -%}
    float64
{%- endmacro %}

{#- Text as the marts' contracts declare it (`varchar`). dbt.type_string() is `text` on
    Postgres, which an incremental model's on_schema_change check tells apart from the
    `character varying` its contract created; Spark spells it `string`. -#}
{% macro cdp_type_varchar() -%}
    {{ return(adapter.dispatch('cdp_type_varchar', 'cdp')()) }}
{%- endmacro %}

{% macro default__cdp_type_varchar() -%}
    varchar
{%- endmacro %}

{% macro spark__cdp_type_varchar() -%}
    string
{%- endmacro %}

{% macro bigquery__cdp_type_varchar() -%}
    string
{%- endmacro %}
