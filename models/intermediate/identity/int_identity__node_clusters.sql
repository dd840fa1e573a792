{#- Every graph node with its final cluster and stable customer_id. The customer_id is a
    hash of the cluster's anchor: its earliest-seen node (then best priority, then key). New
    records never change an anchor seen earlier, so a person keeps their id across runs and
    a full rebuild yields the ids an incremental run does; when clusters merge, the id of the
    one seen first survives (customer_id_history records the other). -#}

with components as (
    select * from {{ ref('int_identity__components') }}
),

capped as (
    select * from {{ ref('int_identity__capped_components') }}
),

record_nodes as (
    select
        node_key,
        min(observed_at) as first_seen_at
    from {{ ref('int_identity__record_nodes') }}
    where has_no_usable_identifier
    group by node_key
),

verdicts as (
    select * from {{ ref('int_identity__identifier_verdicts') }}
),

clustered as (
    select
        components.node_key,
        coalesce(capped.component_key, components.component_key) as cluster_key,
        coalesce(verdicts.first_seen_at, record_nodes.first_seen_at) as first_seen_at,
        coalesce(verdicts.priority, 999) as priority
    from components
    left join capped
        on components.node_key = capped.node_key
    left join verdicts
        on components.node_key = verdicts.identifier_key
    left join record_nodes
        on components.node_key = record_nodes.node_key
),

anchored as (
    {#- One window, no join back: each node gets its cluster's anchor beside it. #}
    select
        clustered.*,
        first_value(clustered.node_key) over (
            partition by clustered.cluster_key
            order by case when clustered.first_seen_at is null then 1 else 0 end, clustered.first_seen_at, clustered.priority, clustered.node_key
            rows between unbounded preceding and unbounded following
        ) as anchor_node_key
    from clustered
)

select
    node_key,
    cluster_key,
    {{ dbt.concat(["'cus_'", "substr(" ~ dbt.hash("anchor_node_key") ~ ", 1, 16)"]) }} as customer_id,
    anchor_node_key,
    node_key = anchor_node_key as is_anchor,
    first_seen_at
from anchored
