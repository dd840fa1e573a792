{#- Edges of the identity graph, with their evidence, one row per record and link: every
    usable identifier of a record links to the record's node (rule `same_record`), and
    record pairs Splink scores at or above cdp_identity.probabilistic.match_probability link
    their nodes (rule `probabilistic`, the pair's left record). A record node without
    neighbours is declared by int_identity__components itself. -#}

{#- Incremental by record (strategy replace_keys, by record_key): a record's same-record
    edges change only when int_identity__record_nodes ranked it again (its node or its
    identifiers' usability changed), and its probabilistic edges when one of its pairs (it the
    left record) was scored or dropped or the pair's right record was ranked again. So a
    build without --full-refresh writes again the records ranked after this model's newest
    _built_at, the left records of the pairs the scoring stamped or logged as dropped since
    (_built_at and removal log, cdp.identity.pair_scoring), and those of the pairs whose
    right record was ranked since. A new match_probability scores every pair anew. When the
    pairs were scored in full since, their log is missing or was pruned since, the records
    of every pair and every stored probabilistic edge are written again. Each touched record
    also comes as a row with a null node_b, which deletes its stored edges and is not stored.
    The rows a build replaces go to int_identity__edges__removed (removal_log):
    int_identity__components compares only the edges written or removed since its last run. -#}
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
{%- set removed_pairs = none %}
{%- if probabilistic %}
{%- set pairs = ref('int_identity__probabilistic_pairs') %}
{%- if is_incremental() %}
{%- set removed_pairs = load_relation(cdp_removal_log_relation(pairs)) %}
{#- Whether the pairs' stamps and log may not tell every change since: every pair is then
    new. Asked before the query (cdp_holds_now), so the pairs' branches of the touched
    records are a plain stamp filter or every pair, not a scalar subquery inside them. #}
{%- set every_pair = cdp_holds_now([cdp_removal_log_lacks_rows_since_this(pairs)]) %}
{%- endif %}
{%- endif %}

with
{% if is_incremental() %}
{% call cdp_touched_records_ctes('_built_at') %}
        -- records ranked again since, and the left records whose probabilistic edges changed
        {{ cdp_records_ranked_since() }}
        union all
{%- if probabilistic %}
        select
            left_source_table as source_table,
            left_record_id as record_id
        from {{ pairs }}
        where {{ 'true' if every_pair else '_built_at > ' ~ cdp_watermark_since() }}
        union all
        select
            pairs.left_source_table as source_table,
            pairs.left_record_id as record_id
        from {{ pairs }} as pairs
        inner join {{ ref('int_identity__record_nodes') }} as right_nodes
            on
                pairs.right_source_table = right_nodes.source_table
                and pairs.right_record_id = right_nodes.record_id
        where right_nodes._built_at > {{ cdp_watermark_since() }}
{%- if every_pair %}
        union all
        select
            source_table,
            record_id
        from {{ this }}
        where link_rule = 'probabilistic'
{%- endif %}
{%- if removed_pairs is not none %}
        union all
        select
            left_source_table as source_table,
            left_record_id as record_id
        from {{ removed_pairs }}
        where
            _removed_at > {{ cdp_watermark_since() }}
            and left_source_table is not null
{%- endif %}
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

{%- if probabilistic %}

-- The pairs of the touched left records (every pair in a full build).
touched_pairs as (
    select pairs.*
    from {{ pairs }} as pairs
    {%- if is_incremental() %}
        inner join touched
            on
                pairs.left_source_table = touched.source_table
                and pairs.left_record_id = touched.record_id
    {%- endif %}
),
{%- endif %}

probabilistic_edges as (
    {%- if probabilistic %}
    select
        left_nodes.record_key,
        left_nodes.node_key as node_a,
        right_nodes.node_key as node_b,
        pairs.left_source_table as source_table,
        pairs.left_record_id as record_id,
        cast('probabilistic' as {{ dbt.type_string() }}) as link_rule,
        pairs.match_probability,
        {{ dbt.concat(["pairs.right_source_table", "':'", "pairs.right_record_id", "': '", "pairs.evidence"]) }} as evidence
    from touched_pairs as pairs
    -- the touched records' nodes: every left record of touched_pairs is touched. A full build
    -- reads the table: DuckDB would materialize a CTE read twice, all 12M records (0.6 s and
    -- 1.3 GB at 1M people).
    inner join {{ 'record_nodes' if is_incremental() else ref('int_identity__record_nodes') }} as left_nodes
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
