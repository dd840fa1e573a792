{#- Warns with the customers still holding more values of an identifier type than its
    max_per_cluster after the cap's one re-clustering round. -#}
{% test cdp_customers_within_cap(model) %}
with identifier_types as (
    {{ cdp_identifier_type_rows() }}
),

held as (
    select
        customer_id,
        identifier_type,
        count(*) as values_held
    from {{ model }}
    group by customer_id, identifier_type
)

select
    held.customer_id,
    held.identifier_type,
    held.values_held,
    identifier_types.max_per_cluster
from held
inner join identifier_types
    on held.identifier_type = identifier_types.identifier_type
where held.values_held > identifier_types.max_per_cluster
{% endtest %}
