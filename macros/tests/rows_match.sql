{#- Fails when the model and `other` differ in row count (e.g. every record got a customer). -#}
{% test cdp_rows_match(model, other) %}
with counts as (
    select
        (select count(*) from {{ model }}) as model_rows,
        (select count(*) from {{ other }}) as other_rows
)

select * from counts
where model_rows <> other_rows
{% endtest %}
