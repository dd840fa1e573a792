{#- Edges of the identity graph, with their evidence: every usable identifier of a record
    links to the record's node (rule `same_record`), and a record's node links to itself so
    that every node exists even without neighbours. -#}

with record_nodes as (
    select * from {{ ref('int_identity__record_nodes') }}
),

usable_links as (
    select record_identifiers.*
    from {{ ref('int_identity__record_identifiers') }} as record_identifiers
    inner join {{ ref('int_identity__identifier_verdicts') }} as verdicts
        on record_identifiers.identifier_key = verdicts.identifier_key
    where verdicts.is_usable
),

same_record_edges as (
    select
        record_nodes.node_key as node_a,
        usable_links.identifier_key as node_b,
        record_nodes.source_table,
        record_nodes.record_id,
        cast('same_record' as {{ dbt.type_string() }}) as link_rule,
        cast(null as {{ dbt.type_float() }}) as match_probability
    from record_nodes
    inner join usable_links
        on
            record_nodes.source_table = usable_links.source_table
            and record_nodes.record_id = usable_links.record_id
    where usable_links.identifier_key <> record_nodes.node_key
),

node_declarations as (
    select
        node_key as node_a,
        node_key as node_b,
        source_table,
        record_id,
        cast('record_node' as {{ dbt.type_string() }}) as link_rule,
        cast(null as {{ dbt.type_float() }}) as match_probability
    from record_nodes
)

select * from same_record_edges
union all
select * from node_declarations
