{#- A 1-5 score from the percent rank of `column` over the rows: 1 + floor(5 * rank), capped
    at 5. Equal values share a score. descending=true scores small values high (recency). -#}
{% macro cdp_quintile_score(column, descending=false) -%}
    least(
        5,
        1 + cast(floor(5 * percent_rank() over (order by {{ column }}{% if descending %} desc{% endif %})) as integer)
    )
{%- endmacro %}
