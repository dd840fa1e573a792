{{ config(materialized='connected_components', incremental=false) }}

{#- Re-clusters the over-cap components of int_identity__components without their cut links.
    Small (only over-merged components), so always rebuilt in full. -#}

select
    node_a,
    node_b
from {{ ref('int_identity__capped_edges') }}
where not is_cut
union
-- Both ends declared, so that a node whose links were all cut is a component of its own.
select
    node_a,
    node_a as node_b
from {{ ref('int_identity__capped_edges') }}
union
select
    node_b as node_a,
    node_b
from {{ ref('int_identity__capped_edges') }}
