{#- Every link a guard cut, and why: blocklisted or shared identifiers (per record) and
    links cut by the cluster cap; and every probabilistic link made, with its score. Nothing
    the graph does beyond "two identifiers on one record" is invisible. -#}

with guarded_identifiers as (
    select
        record_identifiers.source_table,
        record_identifiers.record_id,
        record_identifiers.identifier_key,
        verdicts.guard,
        verdicts.guard_reason
    from {{ ref('int_identity__record_identifiers') }} as record_identifiers
    inner join {{ ref('int_identity__identifier_verdicts') }} as verdicts
        on record_identifiers.identifier_key = verdicts.identifier_key
    where not verdicts.is_usable
)

select
    guarded_identifiers.source_table,
    guarded_identifiers.record_id,
    record_nodes.node_key as node_a,
    guarded_identifiers.identifier_key as node_b,
    cast('cut' as {{ dbt.type_string() }}) as decision,
    guarded_identifiers.guard,
    guarded_identifiers.guard_reason as reason,
    cast(null as {{ cdp_type_double() }}) as match_probability
from guarded_identifiers
inner join {{ ref('int_identity__record_nodes') }} as record_nodes
    on
        guarded_identifiers.source_table = record_nodes.source_table
        and guarded_identifiers.record_id = record_nodes.record_id
union all
select
    source_table,
    record_id,
    node_a,
    node_b,
    cast('cut' as {{ dbt.type_string() }}) as decision,
    cast('cluster_cap' as {{ dbt.type_string() }}) as guard,
    cap_reason as reason,
    cast(null as {{ cdp_type_double() }}) as match_probability
from {{ ref('int_identity__capped_edges') }}
where is_cut
union all
select
    source_table,
    record_id,
    node_a,
    node_b,
    cast('linked' as {{ dbt.type_string() }}) as decision,
    cast('probabilistic' as {{ dbt.type_string() }}) as guard,
    evidence as reason,
    cast(match_probability as {{ cdp_type_double() }}) as match_probability
from {{ ref('int_identity__edges') }}
where link_rule = 'probabilistic'
