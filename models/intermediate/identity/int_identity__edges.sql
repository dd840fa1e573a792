{#- Edges of the identity graph, with their evidence, one row per record and link: every
    usable identifier of a record links to the record's node (rule `same_record`), and
    record pairs Splink scores at or above cdp_identity.probabilistic.match_probability link
    their nodes (rule `probabilistic`, the pair's left record). A record node without
    neighbours is declared by int_identity__components itself. -#}

{#- Incremental by record (strategy replace_keys, by record_key): a record's same-record
    edges change only when int_identity__record_nodes ranked it again (its node or its identifiers'
    usability changed), and its probabilistic edges when a pair was added, removed or
    rescored or a record's node moved; so a build without --full-refresh writes again the
    records ranked after this model's newest _built_at, plus the left records whose
    probabilistic edges differ from the stored ones (every pair's edge is computed, and
    compared by full join: cheaper than rewriting the edges of every paired record, which at
    1M people were a third of the table). Each touched record also comes as a row with a
    null node_b, which deletes its stored edges and is not stored. The rows a build replaces
    go to int_identity__edges__removed (removal_log): int_identity__components compares only
    the edges written or removed since its last run. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_keys',
    unique_key=['record_key', 'node_b'],
    removal_log=['source_table', 'record_id', 'node_a', 'node_b'],
    pre_hook="{{ cdp_drop_removal_log() }}",
    post_hook="{{ cdp_create_removal_log() }}",
    on_schema_change='fail',
) }}
{{ cdp_depends_on_identity_sources() }}
{%- set probabilistic = cdp_probabilistic_enabled() %}

with
{% if probabilistic %}
-- Every pair's edge as it is now: the right record need not be touched.
probabilistic_links as (
    select
        left_nodes.record_key,
        left_nodes.node_key as node_a,
        right_nodes.node_key as node_b,
        pairs.left_source_table as source_table,
        pairs.left_record_id as record_id,
        cast('probabilistic' as {{ dbt.type_string() }}) as link_rule,
        pairs.match_probability,
        {{ dbt.concat(["pairs.right_source_table", "':'", "pairs.right_record_id", "': '", "pairs.evidence"]) }} as evidence
    from {{ ref('int_identity__probabilistic_pairs') }} as pairs
    inner join {{ ref('int_identity__record_nodes') }} as left_nodes
        on
            pairs.left_source_table = left_nodes.source_table
            and pairs.left_record_id = left_nodes.record_id
    inner join {{ ref('int_identity__record_nodes') }} as right_nodes
        on
            pairs.right_source_table = right_nodes.source_table
            and pairs.right_record_id = right_nodes.record_id
    where
        left_nodes.node_key <> right_nodes.node_key
        and pairs.match_probability >= {{ cdp_identity_config().probabilistic.match_probability }}
),
{% endif %}
{% if is_incremental() %}
{% call cdp_touched_records_ctes('_built_at') %}
        -- records ranked again since, and the left records whose probabilistic edges changed
        {{ cdp_records_ranked_since() }}
        union all
{%- if probabilistic %}
        select
            coalesce(current_links.source_table, stored_links.source_table) as source_table,
            coalesce(current_links.record_id, stored_links.record_id) as record_id
        from probabilistic_links as current_links
        full outer join (
            select * from {{ this }}
            where link_rule = 'probabilistic'
        ) as stored_links
            on
                current_links.source_table = stored_links.source_table
                and current_links.record_id = stored_links.record_id
                and current_links.node_a = stored_links.node_a
                and current_links.node_b = stored_links.node_b
                and current_links.match_probability = stored_links.match_probability
                and current_links.evidence = stored_links.evidence
        where current_links.record_id is null or stored_links.record_id is null
{%- else %}
        -- probabilistic matching turned off: the stored probabilistic edges go
        select
            source_table,
            record_id
        from {{ this }}
        where link_rule = 'probabilistic'
{%- endif %}
    {% endcall %}
{% endif %}

record_nodes as (
    {{ cdp_rows_of_touched_records(ref('int_identity__record_nodes')) }}
),

record_identifiers as (
    {{ cdp_rows_of_touched_records(ref('int_identity__record_identifiers')) }}
),

usable_links as (
    select record_identifiers.*
    from record_identifiers
    inner join {{ ref('int_identity__identifier_verdicts') }} as verdicts
        on record_identifiers.identifier_key = verdicts.identifier_key
    where verdicts.is_usable
),

same_record_edges as (
    select
        record_nodes.record_key,
        record_nodes.node_key as node_a,
        usable_links.identifier_key as node_b,
        record_nodes.source_table,
        record_nodes.record_id,
        cast('same_record' as {{ dbt.type_string() }}) as link_rule,
        cast(null as {{ cdp_type_double() }}) as match_probability,
        cast(null as {{ dbt.type_string() }}) as evidence
    from record_nodes
    inner join usable_links
        on record_nodes.record_key = usable_links.record_key
    where usable_links.identifier_key <> record_nodes.node_key
),

probabilistic_edges as (
    {%- if probabilistic %}
    {#- Its touched records' links (every record's in a full build). -#}
    {{ cdp_rows_of_touched_records('probabilistic_links') }}
    {%- else %}
    select * from same_record_edges
    where 1 = 0
    {%- endif %}
)

select
    *,
    {{ cdp_run_started_at() }} as _built_at
from same_record_edges
union all
select
    *,
    {{ cdp_run_started_at() }} as _built_at
from probabilistic_edges
{%- if is_incremental() %}
union all
select
    record_key,
    cast(null as {{ dbt.type_string() }}) as node_a,
    cast(null as {{ dbt.type_string() }}) as node_b,
    source_table,
    record_id,
    cast(null as {{ dbt.type_string() }}) as link_rule,
    cast(null as {{ cdp_type_double() }}) as match_probability,
    cast(null as {{ dbt.type_string() }}) as evidence,
    cast(null as {{ dbt.type_timestamp() }}) as _built_at
from touched
{%- endif %}
