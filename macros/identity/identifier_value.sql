{#- The value of an identifier, out of its key '<type>:<value>' (the type holds no ':'):
    int_identity__record_identifiers stores the key only. -#}
{% macro cdp_identifier_value(identifier_key, identifier_type) -%}
    substr({{ identifier_key }}, length({{ identifier_type }}) + 2)
{%- endmacro %}
