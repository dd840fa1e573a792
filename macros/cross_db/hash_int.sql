{#- A 40-bit non-negative integer hash (0 .. 2^40 - 1) of a row of values (`expressions`, a
    list of SQL expressions of any type), from each engine's own fast hash where it takes
    several values (no string is built: at 12M rows, building one took DuckDB 6.5 s of the
    7 s); elsewhere from md5 of cdp_row_text. cdp_customer_digest sums these per customer: 40
    bits keep a sum of millions of rows inside a bigint on every engine, and two different
    rows still collide only once in about 10^12. Not for security: a change fingerprint. -#}
{% macro cdp_hash_int(expressions) -%}
    {{ return(adapter.dispatch('cdp_hash_int', 'cdp')(expressions)) }}
{%- endmacro %}

{#- Postgres (and any engine with md5 and bit strings): the first 10 hex digits of md5. -#}
{% macro default__cdp_hash_int(expressions) -%}
    cast(cast(('x' || substr(md5({{ cdp_row_text(expressions) }}), 1, 10)) as bit(40)) as bigint)
{%- endmacro %}

{% macro duckdb__cdp_hash_int(expressions) -%}
    cast(hash({{ expressions | join(', ') }}) % 1099511627776 as bigint)
{%- endmacro %}

{#- Also Databricks: dbt-databricks declares spark its parent adapter, so dispatch falls back to spark__. -#}
{% macro spark__cdp_hash_int(expressions) -%}
    pmod(xxhash64({{ expressions | join(', ') }}), 1099511627776)
{%- endmacro %}

{% macro snowflake__cdp_hash_int(expressions) -%}
    bitand(hash({{ expressions | join(', ') }}), 1099511627775)
{%- endmacro %}

{% macro bigquery__cdp_hash_int(expressions) -%}
    (farm_fingerprint({{ cdp_row_text(expressions) }}) & 1099511627775)
{%- endmacro %}

{% macro trino__cdp_hash_int(expressions) -%}
    bitwise_and(from_big_endian_64(xxhash64(to_utf8({{ cdp_row_text(expressions) }}))), 1099511627775)
{%- endmacro %}

{#- The values as one string, for engines whose hash takes one: each value marked as present
    ('=' || value) or null ('~'), so null, '' and 'null' all differ. -#}
{% macro cdp_row_text(expressions) -%}
    {%- set parts = [] -%}
    {%- for expression in expressions -%}
        {%- do parts.append("coalesce(" ~ dbt.concat(["'='", "cast(" ~ expression ~ " as " ~ dbt.type_string() ~ ")"]) ~ ", '~')") -%}
        {%- if not loop.last %}{% do parts.append("'|'") %}{% endif -%}
    {%- endfor -%}
    {{ dbt.concat(parts) }}
{%- endmacro %}
