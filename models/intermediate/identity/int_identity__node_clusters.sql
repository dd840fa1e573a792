{#- Every graph node with its final cluster and stable customer_id. The customer_id is a
    hash of the cluster's anchor: its earliest-seen node (then best priority, then key). New
    records never change an anchor seen earlier, so a person keeps their id across runs and
    a full rebuild yields the ids an incremental run does; when clusters merge, the id of the
    one seen first survives (customer_id_history records the other). -#}

{#- Incremental by component (strategy replace_keys, by node): a build without --full-refresh
    recomputes only the components holding a node whose inputs changed since this model's
    newest _built_at: re-clustered (the components' _clustered_at), in a capped component
    now or before (the cap is recomputed in full), whose verdict's first_seen_at or priority
    (the anchor order) changed, or a record node ranked since. A cluster lies inside one
    component, so every anchor is taken over all of its cluster's nodes. Nodes gone from the
    graph come as rows with a null cluster_key, which delete them. The components log every
    node they re-cluster (log_reclustered), those that left the graph included, so a node is
    looked for among the components only if logged since (at 1M people, +1%: 0.3 s against
    0.7 to 1.1 s for all 4.6M stored nodes); every stored node is, after a full run of the
    components (the log's row with a null node_key) or without the log. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_keys',
    unique_key=['node_key', 'cluster_key'],
    on_schema_change='fail',
) }}
{%- set reclustered = none %}
{%- if is_incremental() %}
    {%- set log = load_relation(cdp_reclustered_log_relation(ref('int_identity__components'))) %}
    {%- if log is not none and not cdp_holds_now([cdp_reclustered_log_lacks_rows_since(log, cdp_watermark_since())]) %}
        {%- set reclustered = log %}
    {%- endif %}
{%- endif %}

{#- The small sets (what changed since) are always the probe's other side, the side of an
    `in (...)` that a big table is filtered by: DuckDB then hashes the small set and skips
    the big table's rows it lacks, where a left join or a correlated `not exists` hashed all
    4.6M stored nodes or components (at 1M people a build with nothing new took the query
    1.4 to 1.9 s before, see the benchmark history). -#}
with
{% if is_incremental() %}
    verdicts_since as (
        select
            identifier_key,
            first_seen_at,
            priority
        from {{ ref('int_identity__identifier_verdicts') }}
        where _built_at > {{ cdp_watermark_since() }}
    ),

    changed_nodes as (
        select node_key from {{ ref('int_identity__components') }}
        where _clustered_at > {{ cdp_watermark_since() }}
        union all
        select node_key from {{ ref('int_identity__capped_components') }}
        union all
        -- capped before: cluster and component differ
        select node_key from {{ this }}
        where cluster_key <> component_key
        union all
        -- verdicts written since whose anchor order changed (not only their counts)
        select verdicts.identifier_key as node_key
        from verdicts_since as verdicts
        left join (
            select
                node_key,
                first_seen_at,
                priority
            from {{ this }}
            where node_key in (select verdicts_since.identifier_key from verdicts_since)
        ) as stored
            on verdicts.identifier_key = stored.node_key
        where
            (
                stored.node_key is null
                or verdicts.first_seen_at is distinct from stored.first_seen_at
                or verdicts.priority <> stored.priority
            )
        union all
        select node_key from {{ ref('int_identity__record_nodes') }}
        where has_no_usable_identifier and _built_at > {{ cdp_watermark_since() }}
    ),

    changed_components as (
        select distinct all_components.component_key
        from {{ ref('int_identity__components') }} as all_components
        inner join changed_nodes
            on all_components.node_key = changed_nodes.node_key
    ),
{% endif %}

components as (
    select
        all_components.node_key,
        all_components.component_key
    from {{ ref('int_identity__components') }} as all_components
    {%- if is_incremental() %}
        inner join changed_components
            on all_components.component_key = changed_components.component_key
    {%- endif %}
),

capped as (
    select * from {{ ref('int_identity__capped_components') }}
),

record_nodes as (
    select
        node_key,
        min(observed_at) as first_seen_at
    from {{ ref('int_identity__record_nodes') }}
    where has_no_usable_identifier
    {%- if is_incremental() %}
        and node_key in (select components.node_key from components)
    {%- endif %}
    group by node_key
),

verdicts as (
    select * from {{ ref('int_identity__identifier_verdicts') }}
),

clustered as (
    select
        components.node_key,
        components.component_key,
        coalesce(capped.component_key, components.component_key) as cluster_key,
        coalesce(verdicts.first_seen_at, record_nodes.first_seen_at) as first_seen_at,
        coalesce(verdicts.priority, 999) as priority
    from components
    left join capped
        on components.node_key = capped.node_key
    left join verdicts
        on components.node_key = verdicts.identifier_key
    left join record_nodes
        on components.node_key = record_nodes.node_key
),

anchored as (
    {#- One window, no join back: each node gets its cluster's anchor beside it. #}
    select
        clustered.*,
        first_value(clustered.node_key) over (
            partition by clustered.cluster_key
            order by case when clustered.first_seen_at is null then 1 else 0 end, clustered.first_seen_at, clustered.priority, clustered.node_key
            rows between unbounded preceding and unbounded following
        ) as anchor_node_key
    from clustered
)

select
    node_key,
    cluster_key,
    {{ dbt.concat(["'cus_'", "substr(" ~ dbt.hash("anchor_node_key") ~ ", 1, 16)"]) }} as customer_id,
    anchor_node_key,
    node_key = anchor_node_key as is_anchor,
    first_seen_at,
    priority,
    component_key,
    {{ cdp_run_started_at() }} as _built_at
from anchored
{%- if is_incremental() %}
union all
select
    stored.node_key,
    null as cluster_key,
    null as customer_id,
    null as anchor_node_key,
    null as is_anchor,
    null as first_seen_at,
    null as priority,
    null as component_key,
    null as _built_at
from {{ this }} as stored
{%- if reclustered is not none %}
where
    stored.node_key in (
        select reclustered.node_key from {{ reclustered }} as reclustered
        where reclustered._reclustered_at > {{ cdp_watermark_since() }}
    )
    and stored.node_key not in (
        select all_components.node_key
        from {{ ref('int_identity__components') }} as all_components
        where all_components.node_key in (
            select reclustered.node_key from {{ reclustered }} as reclustered
            where reclustered._reclustered_at > {{ cdp_watermark_since() }}
        )
    )
{%- else %}
where not exists (
    select 1
    from {{ ref('int_identity__components') }} as all_components
    where all_components.node_key = stored.node_key
)
{%- endif %}
{%- endif %}
