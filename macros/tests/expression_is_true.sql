{#- Fails with every row where the SQL expression is not true. On a column, the expression
    continues the column (e.g. `between 0.99 and 1`); on a model, it stands alone. -#}
{% test expression_is_true(model, expression, column_name=none) %}
select *
from {{ model }}
where not coalesce(({{ column_name ~ ' ' if column_name else '' }}{{ expression }}), false)
{% endtest %}
