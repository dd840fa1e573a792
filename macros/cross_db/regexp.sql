{#- Regular expressions differ per engine: DuckDB and Postgres replace only the first match
    unless given the 'g' flag, Spark and Snowflake replace every match. -#}

{% macro cdp_regexp_replace(expr, pattern, replacement) -%}
    {{ return(adapter.dispatch('cdp_regexp_replace', 'cdp')(expr, pattern, replacement)) }}
{%- endmacro %}

{% macro default__cdp_regexp_replace(expr, pattern, replacement) -%}
    regexp_replace({{ expr }}, '{{ pattern }}', '{{ replacement }}')
{%- endmacro %}

{% macro duckdb__cdp_regexp_replace(expr, pattern, replacement) -%}
    regexp_replace({{ expr }}, '{{ pattern }}', '{{ replacement }}', 'g')
{%- endmacro %}

{% macro postgres__cdp_regexp_replace(expr, pattern, replacement) -%}
    regexp_replace({{ expr }}, '{{ pattern }}', '{{ replacement }}', 'g')
{%- endmacro %}

{% macro spark__cdp_regexp_replace(expr, pattern, replacement) -%}
    regexp_replace({{ expr }}, '{{ cdp_spark_regex_literal(pattern) }}', '{{ replacement }}')
{%- endmacro %}

{#- Spark reads backslash escapes in string literals ('\s' is the letter s), so a regex's
    backslashes are doubled to reach the regex engine. -#}
{% macro cdp_spark_regex_literal(pattern) -%}
    {{ pattern | replace('\\', '\\\\') }}
{%- endmacro %}

{#- True when expr contains a match of pattern (anchor with ^ and $ for a full match). -#}
{% macro cdp_regexp_like(expr, pattern) -%}
    {{ return(adapter.dispatch('cdp_regexp_like', 'cdp')(expr, pattern)) }}
{%- endmacro %}

{% macro default__cdp_regexp_like(expr, pattern) -%}
    regexp_like({{ expr }}, '{{ pattern }}')
{%- endmacro %}

{% macro duckdb__cdp_regexp_like(expr, pattern) -%}
    regexp_matches({{ expr }}, '{{ pattern }}')
{%- endmacro %}

{% macro postgres__cdp_regexp_like(expr, pattern) -%}
    ({{ expr }} ~ '{{ pattern }}')
{%- endmacro %}

{% macro spark__cdp_regexp_like(expr, pattern) -%}
    ({{ expr }} rlike '{{ cdp_spark_regex_literal(pattern) }}')
{%- endmacro %}

{% macro bigquery__cdp_regexp_like(expr, pattern) -%}
    regexp_contains({{ expr }}, r'{{ pattern }}')
{%- endmacro %}

{#- As cdp_regexp_like, with the pattern a SQL expression (e.g. a seed column). -#}
{% macro cdp_regexp_like_expr(expr, pattern_expr) -%}
    {{ return(adapter.dispatch('cdp_regexp_like_expr', 'cdp')(expr, pattern_expr)) }}
{%- endmacro %}

{% macro default__cdp_regexp_like_expr(expr, pattern_expr) -%}
    regexp_like({{ expr }}, {{ pattern_expr }})
{%- endmacro %}

{% macro duckdb__cdp_regexp_like_expr(expr, pattern_expr) -%}
    regexp_matches({{ expr }}, {{ pattern_expr }})
{%- endmacro %}

{% macro postgres__cdp_regexp_like_expr(expr, pattern_expr) -%}
    ({{ expr }} ~ {{ pattern_expr }})
{%- endmacro %}

{% macro spark__cdp_regexp_like_expr(expr, pattern_expr) -%}
    ({{ expr }} rlike {{ pattern_expr }})
{%- endmacro %}

{% macro bigquery__cdp_regexp_like_expr(expr, pattern_expr) -%}
    regexp_contains({{ expr }}, {{ pattern_expr }})
{%- endmacro %}
