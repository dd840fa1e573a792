{#- A person's name for display: whitespace collapsed, placeholders nulled, capitalised. -#}
{% macro cdp_normalize_name(expr) -%}
    {{ cdp_initcap(cdp_regexp_replace(cdp_clean_text(expr), '\\s+', ' ')) }}
{%- endmacro %}

{% macro cdp_initcap(expr) -%}
    {{ return(adapter.dispatch('cdp_initcap', 'cdp')(expr)) }}
{%- endmacro %}

{% macro default__cdp_initcap(expr) -%}
    initcap({{ expr }})
{%- endmacro %}

{#- Spark's initcap splits words on spaces only ('Jean-pierre'): capitalise each space- and
    hyphen-separated part, as duckdb__cdp_initcap does. -#}
{% macro spark__cdp_initcap(expr) -%}
    array_join(
        transform(
            split(lower({{ expr }}), ' '),
            word -> array_join(
                transform(split(word, '-'), part -> concat(upper(left(part, 1)), substr(part, 2))), '-'
            )
        ),
        ' '
    )
{%- endmacro %}

{#- DuckDB has no initcap: capitalise each space- and hyphen-separated part, as Postgres does. -#}
{% macro duckdb__cdp_initcap(expr) -%}
    array_to_string(
        list_transform(
            string_split(lower({{ expr }}), ' '),
            lambda word: array_to_string(
                list_transform(string_split(word, '-'), lambda part: upper(left(part, 1)) || substr(part, 2)),
                '-'
            )
        ),
        ' '
    )
{%- endmacro %}
