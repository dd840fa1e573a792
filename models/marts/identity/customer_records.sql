{#- Which customer each staged source record belongs to: the join key from any source table
    to its customer_id. -#}

select
    record_nodes.source_table,
    record_nodes.record_id,
    node_clusters.customer_id,
    record_nodes.node_key,
    record_nodes.observed_at
from {{ ref('int_identity__record_nodes') }} as record_nodes
inner join {{ ref('int_identity__node_clusters') }} as node_clusters
    on record_nodes.node_key = node_clusters.node_key
