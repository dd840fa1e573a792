{{ config(materialized='connected_components') }}

{#- Connected components of the guarded identity graph (macros/identity/connected_components.sql). -#}

select distinct
    node_a,
    node_b
from {{ ref('int_identity__edges') }}
