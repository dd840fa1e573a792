{{ config(materialized='incremental', full_refresh=false, on_schema_change='fail') }}

{#- Append-only log of which customer_id each graph node had, one row each time it changes
    (a first row when the node appears). Kept through --full-refresh: it is the memory that
    customer_id_history reads. On later runs only the nodes int_identity__node_clusters wrote
    since this log's newest row are compared (that model rewrites the components whose
    inputs changed), each with its own latest row. -#}

with current_assignments as (
    select
        node_key,
        customer_id
    from {{ ref('int_identity__node_clusters') }}
    {%- if is_incremental() %}
        where _built_at > {{ cdp_watermark_since('assigned_at') }}
    {%- endif %}
),

latest_assignments as (
    select
        node_key,
        customer_id
    from (
        select
            previous_assignments.node_key,
            previous_assignments.customer_id,
            row_number() over (
                partition by previous_assignments.node_key order by previous_assignments.assigned_at desc
            ) as recency
        from {{ cdp_previous_assignments() }} as previous_assignments
        where previous_assignments.node_key in (select current_assignments.node_key from current_assignments)
    ) as ordered_assignments
    where recency = 1
),

changed_assignments as (
    select
        current_assignments.node_key,
        current_assignments.customer_id,
        latest_assignments.customer_id as previous_customer_id
    from current_assignments
    left join latest_assignments
        on current_assignments.node_key = latest_assignments.node_key
    where
        latest_assignments.node_key is null
        or latest_assignments.customer_id <> current_assignments.customer_id
)

select
    cast(node_key as {{ cdp_type_varchar() }}) as node_key,
    cast(customer_id as {{ cdp_type_varchar() }}) as customer_id,
    cast(previous_customer_id as {{ cdp_type_varchar() }}) as previous_customer_id,
    {{ cdp_run_started_at() }} as assigned_at,
    cast('{{ invocation_id }}' as {{ cdp_type_varchar() }}) as invocation_id
from changed_assignments
