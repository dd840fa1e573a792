{#- Cluster cap (cdp_identity.identifier_types.*.max_per_cluster): a component holding more
    distinct values of a type than one customer may is an over-merge. Inside it, links to
    identifiers of the lowest-priority type present are cut (listed in identity_edge_audit),
    and int_identity__capped_components re-clusters what is left. -#}

with components as (
    select * from {{ ref('int_identity__components') }}
),

verdicts as (
    select * from {{ ref('int_identity__identifier_verdicts') }}
),

identifier_types as (
    {{ cdp_identifier_type_rows() }}
),

values_held as (
    select
        components.component_key,
        verdicts.identifier_type,
        count(*) as held
    from components
    inner join verdicts
        on components.node_key = verdicts.identifier_key
    group by components.component_key, verdicts.identifier_type
),

over_cap as (
    select
        values_held.component_key,
        identifier_types.priority,
        {{ dbt.concat([
            "cast(values_held.held as " ~ dbt.type_string() ~ ")", "' '", "values_held.identifier_type",
            "' (max '", "cast(identifier_types.max_per_cluster as " ~ dbt.type_string() ~ ")", "')'"
        ]) }} as excess
    from values_held
    inner join identifier_types
        on values_held.identifier_type = identifier_types.identifier_type
    where values_held.held > identifier_types.max_per_cluster
),

oversized_components as (
    select
        component_key,
        {{ dbt.concat(["'cluster_cap: component held '", dbt.listagg("excess", "', '", "order by priority")]) }}
            as cap_reason
    from over_cap
    group by component_key
),

edges_in_oversized as (
    select
        edges.*,
        oversized_components.component_key,
        oversized_components.cap_reason,
        linked.priority as linked_priority
    from {{ ref('int_identity__edges') }} as edges
    inner join components
        on edges.node_a = components.node_key
    inner join oversized_components
        on components.component_key = oversized_components.component_key
    left join verdicts as linked
        on edges.node_b = linked.identifier_key
),

cut_priorities as (
    select
        component_key,
        max(linked_priority) as cut_priority
    from edges_in_oversized
    where node_a <> node_b
    group by component_key
)

select
    edges_in_oversized.node_a,
    edges_in_oversized.node_b,
    edges_in_oversized.source_table,
    edges_in_oversized.record_id,
    edges_in_oversized.link_rule,
    edges_in_oversized.component_key,
    edges_in_oversized.cap_reason,
    edges_in_oversized.node_a <> edges_in_oversized.node_b
    and edges_in_oversized.linked_priority = cut_priorities.cut_priority as is_cut
from edges_in_oversized
inner join cut_priorities
    on edges_in_oversized.component_key = cut_priorities.component_key
