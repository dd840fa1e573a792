{#- Lower-cased, trimmed email, or null when it is not a syntactically valid address. -#}
{% macro cdp_normalize_email(expr) -%}
    {%- set cleaned = 'lower(' ~ cdp_clean_text(expr) ~ ')' -%}
    case
        when {{ cdp_regexp_like(cleaned, "^[a-z0-9_%+-]+(\\.[a-z0-9_%+-]+)*@[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\\.[a-z]{2,}$") }}
            then {{ cleaned }}
    end
{%- endmacro %}

{#- The mailbox an address delivers to, for matching: sub-address tags ('+shop') removed
    everywhere; for Gmail also dots in the local part, and googlemail.com -> gmail.com.
    Takes an already normalised email (cdp_normalize_email). -#}
{% macro cdp_canonical_email(normalized_email) -%}
    {%- set local_part = dbt.split_part(normalized_email, "'@'", 1) -%}
    {%- set domain = dbt.split_part(normalized_email, "'@'", 2) -%}
    {%- set untagged = dbt.split_part(local_part, "'+'", 1) -%}
    case
        when {{ normalized_email }} is null then null
        when {{ domain }} in ('gmail.com', 'googlemail.com')
            then replace({{ untagged }}, '.', '') || '@gmail.com'
        else {{ untagged }} || '@' || {{ domain }}
    end
{%- endmacro %}
