{#- Masking for the bi schema (models/marts/bi): what BI users see instead of PII. Each
    macro is null-safe (null or blank in, null out) and built from portable SQL and
    cdp_sha256_hex, so it compiles on every target. -#}

{#- The text hashed for an email or phone: trimmed, lower-cased, null when blank. -#}
{% macro cdp_hash_input(expr) -%}
    nullif(lower(trim({{ expr }})), '')
{%- endmacro %}

{#- Lowercase hex SHA-256 of the normalised (trimmed, lower-cased) email: the same person's
    address hashes to the same value everywhere, so BI can count and join on it, and it is
    the form ad platforms match hashed emails in. -#}
{% macro cdp_email_sha256(expr) -%}
    {{ cdp_sha256_hex(cdp_hash_input(expr)) }}
{%- endmacro %}

{#- The part of an email after the @ (lower-cased), null without one. -#}
{% macro cdp_email_domain(expr) -%}
    case
        when {{ cdp_hash_input(expr) }} like '%_@_%'
            then {{ dbt.split_part(cdp_hash_input(expr), "'@'", -1) }}
    end
{%- endmacro %}

{#- Lowercase hex SHA-256 of an E.164 phone number as stored ('+14155552671'). -#}
{% macro cdp_phone_sha256(expr) -%}
    {{ cdp_sha256_hex(cdp_hash_input(expr)) }}
{%- endmacro %}

{#- The international calling code of an E.164 number ('44' for +447700900123), from the
    calling codes of var cdp_phone_rules (longest first); null for a code not configured. -#}
{% macro cdp_phone_calling_code(expr) -%}
    {%- set codes = [] -%}
    {%- for rule in var('cdp_phone_rules').values() -%}
        {%- if rule.calling_code not in codes %}{% do codes.append(rule.calling_code) %}{% endif -%}
    {%- endfor -%}
    case
        {%- for size in [3, 2, 1] %}{% for code in codes if code | length == size %}
        when trim({{ expr }}) like '+{{ code }}%' then '{{ code }}'
        {%- endfor %}{% endfor %}
    end
{%- endmacro %}

{#- The first `length` characters of a postcode, spaces removed and upper-cased: the area
    (US ZIP3, 'SW1' of 'SW1A 1AA'), not the street. -#}
{% macro cdp_postcode_prefix(expr, length=3) -%}
    nullif(substr(upper(replace(trim({{ expr }}), ' ', '')), 1, {{ length }}), '')
{%- endmacro %}

{#- The year of a date, as an integer. -#}
{% macro cdp_birth_year(expr) -%}
    cast(extract(year from {{ expr }}) as {{ dbt.type_int() }})
{%- endmacro %}
