{#- Merges and splits of customers across runs: old_customer_id -> new_customer_id, when,
    and why. `merge`: the old id is gone, its identifiers now belong to the surviving id
    (the cluster seen first). `split`: the old id lives on and some identifiers left it. -#}

with moves as (
    select * from {{ ref('customer_id_assignments') }}
    where previous_customer_id is not null
),

live_customers as (
    select distinct customer_id from {{ ref('int_identity__node_clusters') }}
),

grouped_moves as (
    select
        previous_customer_id as old_customer_id,
        customer_id as new_customer_id,
        assigned_at as changed_at,
        invocation_id,
        count(*) as identifiers_moved,
        min(node_key) as example_identifier
    from moves
    group by previous_customer_id, customer_id, assigned_at, invocation_id
)

select
    grouped_moves.old_customer_id,
    grouped_moves.new_customer_id,
    grouped_moves.changed_at,
    case when live_customers.customer_id is null then 'merge' else 'split' end as change_type,
    grouped_moves.identifiers_moved,
    grouped_moves.example_identifier,
    {{ dbt.concat([
        "case when live_customers.customer_id is null then 'merged into ' else 'split off to ' end",
        "grouped_moves.new_customer_id", "': '",
        "cast(grouped_moves.identifiers_moved as " ~ dbt.type_string() ~ ")",
        "' identifier(s) moved, e.g. '", "grouped_moves.example_identifier"
    ]) }} as reason,
    grouped_moves.invocation_id
from grouped_moves
left join live_customers
    on grouped_moves.old_customer_id = live_customers.customer_id
