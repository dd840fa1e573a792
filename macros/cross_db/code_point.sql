{#- The Unicode code point of a string's first character (0 for an empty string, null for
    null). Trino has no ascii(); its codepoint() takes exactly one character and fails on an
    empty string, hence the case. -#}
{% macro cdp_code_point(expr) -%}
    {{ return(adapter.dispatch('cdp_code_point', 'cdp')(expr)) }}
{%- endmacro %}

{% macro default__cdp_code_point(expr) -%}
    ascii({{ expr }})
{%- endmacro %}

{% macro trino__cdp_code_point(expr) -%}
    case when {{ expr }} = '' then 0 else codepoint(cast(substr({{ expr }}, 1, 1) as varchar(1))) end
{%- endmacro %}
