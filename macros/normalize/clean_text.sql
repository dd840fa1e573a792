{#- Trimmed text (spaces, tabs, newlines), or null when empty or a placeholder people type
    for "nothing" ('null', 'N/A', '-': see var cdp_placeholder_text). -#}
{% macro cdp_clean_text(expr) -%}
    case
        when lower({{ cdp_trim_whitespace(expr) }}) in (
            {%- for value in var('cdp_placeholder_text') %}'{{ value }}'{{ ", " if not loop.last }}{% endfor -%}
        ) then null
        else {{ cdp_trim_whitespace(expr) }}
    end
{%- endmacro %}

{#- trim() only strips spaces on most engines; exports also carry tabs and newlines. -#}
{% macro cdp_trim_whitespace(expr) -%}
    {{ cdp_regexp_replace(expr, '^\\s+|\\s+$', '') }}
{%- endmacro %}
