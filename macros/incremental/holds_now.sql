{#- Whether any of `conditions` (SQL boolean expressions, typically over stamps and logs)
    holds, asked in a query of its own before the model's: a model then leaves out the
    branches that would read every row, where a condition inside its query would still scan
    the tables it guards. One `when` per condition, in order. True when not executing
    (parsing, docs): the conservative answer. -#}
{% macro cdp_holds_now(conditions) -%}
    {%- if not execute -%}
        {{ return(true) }}
    {%- endif -%}
    {%- set check -%}
        select
            case
                {%- for condition in conditions %}
                when {{ condition }} then 1
                {%- endfor %}
                else 0
            end as holds
    {%- endset -%}
    {{ return(run_query(check).columns[0].values()[0] == 1) }}
{%- endmacro %}

{#- The condition, for cdp_holds_now, that this model holds a row whose rules_digest differs
    from `rules_digest` (a SQL expression): the rules its rows were built with changed, so an
    incremental build must rebuild every row. -#}
{% macro cdp_rules_changed_condition(rules_digest) -%}
    {{ return('(select count(*) from ' ~ this ~ ' where rules_digest <> ' ~ rules_digest ~ ') > 0') }}
{%- endmacro %}
