{{ config(materialized='connected_components') }}

{#- Connected components of the guarded identity graph (macros/identity/connected_components.sql).
    No `distinct` here: the materialization deduplicates the edges once. -#}

select
    node_a,
    node_b
from {{ ref('int_identity__edges') }}
