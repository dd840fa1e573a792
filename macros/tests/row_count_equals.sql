{#- Fails (with the actual count) unless the model has exactly `rows` rows. -#}
{% test row_count_equals(model, rows) %}
select count(*) as actual_rows
from {{ model }}
having count(*) <> {{ rows }}
{% endtest %}
