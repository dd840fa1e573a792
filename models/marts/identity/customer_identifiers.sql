{#- Every identifier value known for each customer, with how often and when it was seen.
    Identifiers a guard stopped (blocklist, shared) are in identity_edge_audit instead. -#}

select
    node_clusters.customer_id,
    verdicts.identifier_type,
    verdicts.identifier_value,
    verdicts.identifier_key,
    verdicts.priority,
    verdicts.records,
    verdicts.first_seen_at,
    verdicts.last_seen_at,
    node_clusters.is_anchor
from {{ ref('int_identity__node_clusters') }} as node_clusters
inner join {{ ref('int_identity__identifier_verdicts') }} as verdicts
    on node_clusters.node_key = verdicts.identifier_key
where verdicts.is_usable
