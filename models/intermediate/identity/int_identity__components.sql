{{ config(materialized='connected_components') }}

{#- Connected components of the guarded identity graph (macros/identity/connected_components.sql):
    its edges, and every record node declared (node_a = node_b), so that a node without
    neighbours is a component too. No `distinct` here: the materialization deduplicates the
    edges once. -#}

select
    node_a,
    node_b
from {{ ref('int_identity__edges') }}
union all
select
    node_key as node_a,
    node_key as node_b
from {{ ref('int_identity__record_nodes') }}
