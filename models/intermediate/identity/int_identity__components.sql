{{ config(materialized='connected_components', candidate_edges=true, log_reclustered=true) }}

{#- Connected components of the guarded identity graph (macros/identity/connected_components.sql):
    its edges, and every record node declared (node_a = node_b), so that a node without
    neighbours is a component too. No `distinct` here: the materialization deduplicates the
    edges once.

    Candidate edges (config candidate_edges): an incremental run compares with the stored
    edges only the rows written since the last clustering (_built_at of the edges and the
    record nodes, after this model's newest _clustered_at) and those their removal logs say
    were replaced or deleted since. When an input was rebuilt in full since (or is empty), or
    its removal log is missing or was pruned since, every stored edge is a candidate too: what
    left it is not logged. -#}
{%- set incremental = cdp_cc_is_incremental() %}
{%- set edges = ref('int_identity__edges') %}
{%- set record_nodes = ref('int_identity__record_nodes') %}
{%- set removed_edges = load_relation(cdp_removal_log_relation(edges)) if incremental else none %}
{%- set removed_nodes = load_relation(cdp_removal_log_relation(record_nodes)) if incremental else none %}
{%- set written_since = '_built_at > ' ~ cdp_watermark_since('_clustered_at') if incremental else 'true' %}

select
    node_a,
    node_b,
    true as is_edge,
    {{ written_since }} as is_candidate
from {{ edges }}
union all
select
    node_key as node_a,
    node_key as node_b,
    true as is_edge,
    {{ written_since }} as is_candidate
from {{ record_nodes }}
{%- if incremental %}
{%- if removed_edges is not none %}
union all
select
    node_a,
    node_b,
    false as is_edge,
    true as is_candidate
from {{ removed_edges }}
where _removed_at > {{ cdp_watermark_since('_clustered_at') }}
{%- endif %}
{%- if removed_nodes is not none %}
union all
select
    node_key as node_a,
    node_key as node_b,
    false as is_edge,
    true as is_candidate
from {{ removed_nodes }}
where _removed_at > {{ cdp_watermark_since('_clustered_at') }}
{%- endif %}
union all
select
    node_a,
    node_b,
    false as is_edge,
    true as is_candidate
from {{ cdp_cc_relation('edges') }}
where
    {{ cdp_removal_log_lacks_rows_since_this(edges, '_clustered_at') }}
    or {{ cdp_removal_log_lacks_rows_since_this(record_nodes, '_clustered_at') }}
{%- endif %}
