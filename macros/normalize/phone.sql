{#- Phone numbers to E.164 in two steps, so the heavy text work runs once per row:

      cleaned as (select {{ cdp_phone_dialable('phone') }} as phone_dialable, ... )
      typed as (select {{ cdp_e164('phone_dialable', 'country_code') }} as phone_e164, ...)

    Rules (var cdp_phone_rules, one entry per country):
      '+CC...' or '00CC...'   -> international; validated against CC's nsn_pattern when known
      national with trunk      -> '+' || calling_code || number without the trunk prefix
      national without trunk   -> '+' || calling_code || number
    The country is the row's country, else var cdp_default_country. -#}

{#- Digits only, prefixed '+' when dialled internationally ('+' or '00'); null for empty
    input and for placeholders of one repeated digit ('0000000000', '999-999-9999'). -#}
{% macro cdp_phone_dialable(expr) -%}
    {%- set digits = cdp_regexp_replace(expr, '[^0-9]', '') -%}
    case
        when {{ digits }} = '' or replace({{ digits }}, substr({{ digits }}, 1, 1), '') = '' then null
        when {{ cdp_regexp_like(expr, '^\\s*[+]') }} then '+' || {{ digits }}
        when {{ digits }} like '00%' then '+' || substr({{ digits }}, 3)
        else {{ digits }}
    end
{%- endmacro %}

{#- E.164 from a dialable number (cdp_phone_dialable) and an ISO country code column. -#}
{% macro cdp_e164(dialable, country_expr=none) -%}
    {%- set rules = var('cdp_phone_rules') -%}
    {%- set country = "upper(coalesce(" ~ (country_expr or "null") ~ ", '" ~ var('cdp_default_country') ~ "'))" -%}
    {%- set intl_digits = 'substr(' ~ dialable ~ ', 2)' -%}
    case
        when {{ dialable }} is null then null
        when {{ dialable }} like '+%' then {{ cdp_e164_from_international(intl_digits, rules) }}
        {%- for code, rule in rules.items() %}
        when {{ country }} = '{{ code }}' then {{ cdp_e164_from_national(dialable, rule) }}
        {%- endfor %}
    end
{%- endmacro %}

{#- '+' || digits when they start with a known calling code and a valid national number
    (also after a '(0)' trunk, as in '+44 (0)20 ...'), or with an unknown one of 8-15 digits. -#}
{% macro cdp_e164_from_international(digits, rules) -%}
    {%- set seen = [] -%}
    case
        {%- for code, rule in rules.items() if rule.calling_code not in seen %}
        {%- do seen.append(rule.calling_code) %}
        {%- set cc = rule.calling_code %}
        {%- set rest = 'substr(' ~ digits ~ ', ' ~ (cc | length + 1) ~ ')' %}
        when {{ digits }} like '{{ cc }}%' then
            case
                when {{ cdp_regexp_like(rest, rule.nsn_pattern) }} then '+' || {{ digits }}
                {%- if rule.trunk_prefix == '0' %}
                when {{ rest }} like '0%' and {{ cdp_regexp_like('substr(' ~ rest ~ ', 2)', rule.nsn_pattern) }}
                    then '+{{ cc }}' || substr({{ rest }}, 2)
                {%- endif %}
            end
        {%- endfor %}
        when {{ cdp_regexp_like(digits, '^[1-9][0-9]{7,14}$') }} then '+' || {{ digits }}
    end
{%- endmacro %}

{% macro cdp_e164_from_national(digits, rule) -%}
    {%- set trunk = rule.trunk_prefix -%}
    case
        {%- if trunk %}
        when {{ digits }} like '{{ trunk }}%'
            and {{ cdp_regexp_like('substr(' ~ digits ~ ', ' ~ (trunk | length + 1) ~ ')', rule.nsn_pattern) }}
            then '+{{ rule.calling_code }}' || substr({{ digits }}, {{ trunk | length + 1 }})
        {%- endif %}
        when {{ cdp_regexp_like(digits, rule.nsn_pattern) }} then '+{{ rule.calling_code }}' || {{ digits }}
    end
{%- endmacro %}
