{#- Cluster cap (cdp_identity.identifier_types.*.max_per_cluster): a component holding more
    distinct values of a type than one customer may is an over-merge. Inside it, links to
    identifiers of the lowest-priority type present are cut (listed in identity_edge_audit),
    and int_identity__capped_components re-clusters what is left.

    Incremental by component (strategy replace_keys): whether a component is over a cap
    depends only on its nodes and their verdicts, so a build without --full-refresh
    recounts only the components (cte `touched`) with a node clustered since this model's
    newest _built_at (a node joined, or the component's key changed), with an identifier
    whose verdict was rewritten since (a new priority or cap rewrites every verdict: their
    rules digest), and those capped before (few; rewritten on every build, also when their
    key is gone). A component that lost a node without any node re-clustered was not over
    a cap unless stored, so it stays under. Each touched key also comes as a row with a
    null node_a, which deletes its stored rows and is not stored. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_keys',
    unique_key=['component_key', 'node_a'],
    on_schema_change='fail',
) }}
{%- set components = ref('int_identity__components') %}
{%- set verdicts = ref('int_identity__identifier_verdicts') %}

with
{% if is_incremental() %}
    touched as (
        select clustered.component_key
        from {{ components }} as clustered
        where clustered._clustered_at > {{ cdp_watermark_since() }}
        union
        select with_new_verdict.component_key
        from {{ components }} as with_new_verdict
        inner join {{ verdicts }} as rewritten
            on with_new_verdict.node_key = rewritten.identifier_key
        where rewritten._built_at > {{ cdp_watermark_since() }}
        union
        select capped_before.component_key
        from {{ this }} as capped_before
    ),
{% endif %}

component_nodes as (
    select
        components.node_key,
        components.component_key
    from {{ components }} as components
    {%- if is_incremental() %}
    where components.component_key in (select touched.component_key from touched)
    {%- endif %}
),

identifier_types as (
    {{ cdp_identifier_type_rows() }}
),

values_held as (
    select
        component_nodes.component_key,
        verdicts.identifier_type,
        count(*) as held
    from component_nodes
    inner join {{ verdicts }} as verdicts
        on component_nodes.node_key = verdicts.identifier_key
    group by component_nodes.component_key, verdicts.identifier_type
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

-- The few nodes of over-cap components first: the edges are then read for them only.
oversized_nodes as (
    select
        component_nodes.node_key,
        oversized_components.component_key,
        oversized_components.cap_reason
    from component_nodes
    inner join oversized_components
        on component_nodes.component_key = oversized_components.component_key
),

edges_in_oversized as (
    select
        edges.node_a,
        edges.node_b,
        edges.source_table,
        edges.record_id,
        edges.link_rule,
        oversized_nodes.component_key,
        oversized_nodes.cap_reason,
        linked.priority as linked_priority
    from {{ ref('int_identity__edges') }} as edges
    inner join oversized_nodes
        on edges.node_a = oversized_nodes.node_key
    left join {{ verdicts }} as linked
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
    and edges_in_oversized.linked_priority = cut_priorities.cut_priority as is_cut,
    {{ cdp_run_started_at() }} as _built_at
from edges_in_oversized
inner join cut_priorities
    on edges_in_oversized.component_key = cut_priorities.component_key
{%- if is_incremental() %}
union all
select
    cast(null as {{ dbt.type_string() }}) as node_a,
    cast(null as {{ dbt.type_string() }}) as node_b,
    cast(null as {{ dbt.type_string() }}) as source_table,
    cast(null as {{ dbt.type_string() }}) as record_id,
    cast(null as {{ dbt.type_string() }}) as link_rule,
    touched.component_key,
    cast(null as {{ dbt.type_string() }}) as cap_reason,
    cast(null as {{ dbt.type_boolean() }}) as is_cut,
    cast(null as {{ dbt.type_timestamp() }}) as _built_at
from touched
{%- endif %}
