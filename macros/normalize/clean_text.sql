{#- Trimmed text (spaces, tabs, newlines), or null when empty or a placeholder people type
    for "nothing" ('null', 'N/A', '-': see var cdp_placeholder_text).

    A value that cannot need either is returned first (cdp_needs_no_cleaning). The rest is
    written so each value is scanned by two cheap regular expressions: one that matches the
    whole value when it is a placeholder (case-insensitively, whitespace around allowed), and
    one that finds whitespace at either end, the regex that strips it running only then.
    Trimming first and comparing the trimmed value ran the stripping regex twice per value,
    which made cleaning half of a staging model's time (at 1M people: web events' cleaning
    15.5 s against 7.5 s). -#}
{% macro cdp_clean_text(expr) -%}
    case
        when {{ cdp_needs_no_cleaning(expr) }} then {{ expr }}
        when {{ cdp_regexp_like('lower(' ~ expr ~ ')', '^\\s*(' ~ cdp_placeholder_alternation() ~ ')?\\s*$') }} then null
        else {{ cdp_trim_whitespace(expr) }}
    end
{%- endmacro %}

{#- True for a value neither regex can change: longer than every placeholder, and neither
    its first nor its last character a space or control character (code point 32 or less:
    all that `\s` matches on DuckDB and Spark; Postgres's also takes Unicode spaces, left
    at a long value's ends as DuckDB leaves them). Such a value can only be a placeholder
    if it is one exactly, which its length rules out, and has no whitespace to strip. Most
    values (ids, addresses, URLs, timestamps) are of this kind and skip both regexes: the
    unanchored `\s$` scans the whole value. At 1M people base_web__events took 7.8 to 8.1 s
    alone against 9.1 to 9.7 s. Anything else takes the regexes, which decide as before. -#}
{% macro cdp_needs_no_cleaning(expr) -%}
    {%- set longest_placeholder = var('cdp_placeholder_text') | map('length') | max -%}
    {{ dbt.length(expr) }} > {{ longest_placeholder }}
    and {{ cdp_code_point(expr) }} > 32
    and {{ cdp_code_point(dbt.right(expr, '1')) }} > 32
{%- endmacro %}

{#- trim() only strips spaces on most engines; exports also carry tabs and newlines. -#}
{% macro cdp_trim_whitespace(expr) -%}
    case
        when {{ cdp_regexp_like(expr, '^\\s|\\s$') }} then {{ cdp_regexp_replace(expr, '^\\s+|\\s+$', '') }}
        else {{ expr }}
    end
{%- endmacro %}

{#- var cdp_placeholder_text as a regex alternation ('null|n/a|\?' ...), lower-cased as the
    values it is matched against (and as cdp.privacy.normalize does), regex metacharacters
    escaped so each placeholder matches only itself. -#}
{% macro cdp_placeholder_alternation() -%}
    {%- set alternatives = [] -%}
    {%- for value in var('cdp_placeholder_text') -%}
        {%- set characters = [] -%}
        {%- for character in value | lower -%}
            {%- do characters.append('\\' ~ character if character in '\\.^$|?*+()[]{}' else character) -%}
        {%- endfor -%}
        {%- do alternatives.append(characters | join) -%}
    {%- endfor -%}
    {{ return(alternatives | join('|')) }}
{%- endmacro %}
