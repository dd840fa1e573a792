{#- A 64-bit float. dbt.type_float() is a 4-byte FLOAT on DuckDB, too coarse for
    probabilities and rates, and the mart contracts declare `double precision`. -#}
{% macro cdp_type_double() -%}
    {{ return(adapter.dispatch('cdp_type_double', 'cdp')()) }}
{%- endmacro %}

{% macro default__cdp_type_double() -%}double precision{%- endmacro %}

{% macro spark__cdp_type_double() -%}double{%- endmacro %}

{% macro bigquery__cdp_type_double() -%}float64{%- endmacro %}
