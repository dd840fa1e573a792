{#- Fails with the duplicated combinations of `columns` (dbt_utils' test, which cannot be
    installed here). -#}
{% test cdp_unique_combination(model, columns) %}
select
    {{ columns | join(', ') }},
    count(*) as occurrences
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
