{#- Materialization `connected_components`: the model's SQL selects the edges of an
    undirected graph as (node_a, node_b) text keys (a row with node_a = node_b declares a
    node); the table built holds (node_key, component_key, _clustered_at) with component_key
    the smallest node_key of the component, so labels are the same however the graph was
    built, and _clustered_at the start of the dbt run that last wrote the row (every row in a
    full run, the touched nodes' in an incremental one): models downstream re-read only the
    nodes clustered since their own last build.

    Algorithm: a parent forest over integer node ids, in passes of plain SQL (any adapter,
    no recursion): each tree's root hooks onto the smallest neighbouring root, then every
    node jumps twice (pointer doubling), so path lengths halve each pass and a chain of n
    nodes converges in O(log n) passes, where label propagation needs its diameter. Passes
    stop when no parent changes; after `max_passes` the build fails.

    Incremental: on later runs (no --full-refresh) only components touched by added or
    removed edges are re-clustered; every other node keeps its row, and the stored table and
    the edge state are changed in place (cdp_cc_store_changes), not written anew. Each run
    appends its figures (mode, nodes, edges, passes, seconds) to `<model>__runs`.

    With config candidate_edges=true, the model's SQL selects two more columns, so an
    incremental run need not compare every edge with the stored ones: `is_edge` (the row is
    an edge of the graph now) and `is_candidate` (an edge whose presence may have changed
    since the last run: written since, or removed since, then with is_edge false). Only the
    candidates are looked up among the model's edges and the stored ones. The model finds
    them from its inputs' stamps and removal logs after its own newest _clustered_at, and
    selects every stored edge as a candidate when it cannot tell (int_identity__components).

    Node ids (config node_ids): 'hash' (default) numbers the nodes by a hash of their key
    where the adapter has a fast one (DuckDB), and by their rank where it has none or two
    keys share a hash; 'rank' always ranks them. The labels are the same either way.

    With config log_reclustered=true, each run also appends the nodes it re-clustered to
    `<model>__reclustered` (node_key, _reclustered_at), those that left every component
    included, which `_clustered_at` cannot tell; a full run empties it and leaves one row
    with a null node_key: every node. -#}

{% materialization connected_components, default %}
    {%- set target_relation = this.incorporate(type='table') -%}
    {%- set existing = adapter.get_relation(this.database, this.schema, this.identifier) -%}
    {%- set edges_state = cdp_cc_relation('edges') -%}
    {%- set previous_edges = adapter.get_relation(this.database, this.schema, edges_state.identifier) -%}
    {%- set max_passes = config.get('max_passes') or cdp_identity_config().get('max_passes', 40) -%}
    {%- set incremental = cdp_cc_is_incremental() -%}
    {%- set candidate_edges = config.get('candidate_edges', false) -%}
    {%- if config.get('node_ids', 'hash') not in ['hash', 'rank'] -%}
        {{ exceptions.raise_compiler_error("model " ~ this ~ ": config node_ids is '"
            ~ config.get('node_ids') ~ "'; use 'hash' (the default) or 'rank'") }}
    {%- endif -%}
    {%- set started = modules.datetime.datetime.now() -%}

    {{ run_hooks(pre_hooks) }}

    {#- The model's edges, each once and without nulls. -#}
    {%- set model_edges_sql = "select distinct node_a, node_b from (" ~ sql
        ~ ") as model_edges where node_a is not null and node_b is not null"
        ~ (" and is_edge" if candidate_edges else "") -%}
    {%- set current_edges = cdp_cc_relation('edges_next') -%}
    {%- set changed_edges = cdp_cc_scratch_relation('changed') -%}
    {%- set touched = cdp_cc_scratch_relation('touched') -%}
    {%- set touched_edges = cdp_cc_scratch_relation('scope_edges') -%}
    {#- A full run's result becomes the table: it cannot be a scratch one. -#}
    {%- set components = cdp_cc_scratch_relation('components') if incremental else cdp_cc_relation('components') -%}
    {%- set candidates = cdp_cc_scratch_relation('candidates') -%}
    {%- if incremental -%}
        {#- The edges added and removed since: the candidates' (config candidate_edges), else
            one pass over the model's edges against the stored ones. -#}
        {%- if candidate_edges -%}
            {%- do cdp_cc_create(candidates, cdp_cc_candidates_sql(sql)) -%}
            {%- do cdp_cc_create(changed_edges, cdp_cc_changed_candidates_sql(sql, candidates, previous_edges)) -%}
        {%- else -%}
            {%- do cdp_cc_create(changed_edges, cdp_cc_changed_edges_sql(model_edges_sql, previous_edges)) -%}
        {%- endif -%}
        {%- do cdp_cc_create(touched, cdp_cc_touched_nodes_sql(changed_edges, target_relation)) -%}
        {%- do cdp_cc_create(touched_edges, cdp_cc_touched_edges_sql(previous_edges, changed_edges, touched)) -%}
        {%- set figures = cdp_cc_run(touched_edges, components, max_passes) -%}
        {%- do cdp_cc_log_reclustered(touched) -%}
        {#- In place (Spark: rewritten), last, so a failed run leaves both as they were. -#}
        {%- do adapter.dispatch('cdp_cc_store_changes')(
            target_relation, touched, components, previous_edges, changed_edges) -%}
    {%- else -%}
        {#- A full run clusters every edge; its result becomes the table, and its edges the
            state the next run diffs against. -#}
        {%- do cdp_cc_create(current_edges, model_edges_sql) -%}
        {%- set figures = cdp_cc_run(current_edges, components, max_passes) -%}
        {%- for stored in [existing, previous_edges] if stored is not none -%}
            {%- do adapter.drop_relation(stored) -%}
        {%- endfor -%}
        {%- do adapter.rename_relation(components, target_relation) -%}
        {%- do adapter.rename_relation(current_edges, edges_state) -%}
        {%- do cdp_cc_log_reclustered(none) -%}
    {%- endif -%}
    {%- for leftover in [candidates, changed_edges, touched_edges, touched, components, current_edges] -%}
        {%- do adapter.drop_relation(leftover) -%}
    {%- endfor -%}

    {%- set seconds = (modules.datetime.datetime.now() - started).total_seconds() -%}
    {%- do cdp_cc_record_run(incremental, figures, seconds) -%}
    {{ log("connected components " ~ this ~ ": " ~ ("incremental" if incremental else "full") ~ ", "
        ~ figures.nodes ~ " nodes, " ~ figures.edges ~ " edges in scope, " ~ figures.passes
        ~ " passes, " ~ figures.ids ~ " node ids, " ~ "%.1f" | format(seconds) ~ " s", info=true) }}

    {% call statement('main') -%}
        select count(*) as node_count from {{ target_relation }}
    {%- endcall %}

    {{ run_hooks(post_hooks) }}
    {% do persist_docs(target_relation, model) %}
    {{ adapter.commit() }}
    {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}

{% macro cdp_cc_relation(suffix) %}
    {{ return(api.Relation.create(
        database=this.database, schema=this.schema, identifier=this.identifier ~ '__' ~ suffix, type='table')) }}
{% endmacro %}

{#- A table needed only while this run lasts (the passes' forests, an incremental run's
    changed edges and touched nodes): by default a table beside the model, dropped at the end. -#}
{% macro cdp_cc_scratch_relation(suffix) %}
    {{ return(adapter.dispatch('cdp_cc_scratch_relation', 'cdp')(suffix)) }}
{% endmacro %}

{% macro default__cdp_cc_scratch_relation(suffix) %}
    {{ return(cdp_cc_relation(suffix)) }}
{% endmacro %}

{#- DuckDB: a temporary table, kept in memory (spilled when it must be) and never compressed
    into the database file: at 1M people a replay of a full run of the components took
    13.0 s with every table temporary against 17.6 s in the file (README, Clustering).
    Temporary tables have no schema, which tells cdp_cc_create to make one. -#}
{% macro duckdb__cdp_cc_scratch_relation(suffix) %}
    {{ return(api.Relation.create(identifier=this.identifier ~ '__' ~ suffix, type='table')) }}
{% endmacro %}

{#- Drop-if-exists then create-table-as, through the adapter's own DDL; temporary for a
    scratch relation without a schema. -#}
{% macro cdp_cc_create(relation, select_sql) %}
    {%- do adapter.drop_relation(relation) -%}
    {%- do run_query(create_table_as(relation.schema is none, relation, select_sql)) -%}
{% endmacro %}

{% macro cdp_cc_scalar(select_sql) %}
    {%- set result = run_query(select_sql) -%}
    {{ return(result.columns[0].values()[0]) }}
{% endmacro %}

{#- The edges added since the last run (is_removed false) and those gone (true): the model's
    edges (`model_edges_sql`, distinct) against the stored state, in one full join. -#}
{% macro cdp_cc_changed_edges_sql(model_edges_sql, edges_state) %}
    select
        coalesce(model_edges.node_a, stored.node_a) as node_a,
        coalesce(model_edges.node_b, stored.node_b) as node_b,
        model_edges.node_a is null as is_removed
    from ({{ model_edges_sql }}) as model_edges
    full outer join {{ edges_state }} as stored
        on
            model_edges.node_a = stored.node_a
            and model_edges.node_b = stored.node_b
    where model_edges.node_a is null or stored.node_a is null
{% endmacro %}

{#- The candidates of a model with candidate_edges (each once), then those that changed:
    only they are looked up among the model's edges and the stored ones. Two statements, so
    the model's edges are scanned, not materialized, for the lookup. -#}
{% macro cdp_cc_candidates_sql(model_sql) %}
    select distinct node_a, node_b
    from ({{ model_sql }}) as model_rows
    where is_candidate and node_a is not null and node_b is not null
{% endmacro %}

{% macro cdp_cc_changed_candidates_sql(model_sql, candidates, edges_state) %}
    with current_candidates as (
        select distinct model_rows.node_a, model_rows.node_b
        from ({{ model_sql }}) as model_rows
        inner join {{ candidates }} as candidates
            on
                model_rows.node_a = candidates.node_a
                and model_rows.node_b = candidates.node_b
        where model_rows.is_edge
    )

    select
        candidates.node_a,
        candidates.node_b,
        current_candidates.node_a is null as is_removed
    from {{ candidates }} as candidates
    left join current_candidates
        on
            candidates.node_a = current_candidates.node_a
            and candidates.node_b = current_candidates.node_b
    left join {{ edges_state }} as stored
        on
            candidates.node_a = stored.node_a
            and candidates.node_b = stored.node_b
    where (current_candidates.node_a is null) <> (stored.node_a is null)
{% endmacro %}

{#- Whether this run of a connected_components model is incremental: its table and edge state
    exist, no --full-refresh, and config incremental is not false. For the model's SQL too
    (rendered just before the materialization runs). -#}
{% macro cdp_cc_is_incremental() %}
    {%- if not execute -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set existing = adapter.get_relation(this.database, this.schema, this.identifier) -%}
    {%- set state = adapter.get_relation(this.database, this.schema, cdp_cc_relation('edges').identifier) -%}
    {{ return(existing is not none and state is not none
        and not should_full_refresh() and config.get('incremental', true)) }}
{% endmacro %}

{#- Nodes to re-cluster: endpoints of added or removed edges, plus every node of the
    components those endpoints belonged to. -#}
{% macro cdp_cc_touched_nodes_sql(changed_edges, target_relation) %}
    with touched_nodes as (
        select node_a as node_key from {{ changed_edges }}
        union
        select node_b as node_key from {{ changed_edges }}
    ),

    touched_components as (
        select distinct previous.component_key
        from {{ target_relation }} as previous
        inner join touched_nodes
            on previous.node_key = touched_nodes.node_key
    )

    select node_key from touched_nodes
    union
    select previous.node_key
    from {{ target_relation }} as previous
    inner join touched_components
        on previous.component_key = touched_components.component_key
{% endmacro %}

{#- The current edges of the touched nodes: the stored ones not removed, plus the added ones.
    Touched nodes' components are closed (an edge's ends share a component, old or new), so
    matching on node_a is enough. -#}
{% macro cdp_cc_touched_edges_sql(edges_state, changed_edges, touched) %}
    select stored.node_a, stored.node_b
    from {{ edges_state }} as stored
    inner join {{ touched }} as touched
        on stored.node_a = touched.node_key
    where not {{ cdp_cc_edge_was_removed('stored', changed_edges) }}
    union all
    select node_a, node_b
    from {{ changed_edges }}
    where not is_removed
{% endmacro %}

{#- Predicate: the stored edge `alias` is among the removed ones of `changed_edges`. -#}
{% macro cdp_cc_edge_was_removed(alias, changed_edges) -%}
    exists (
        select 1
        from {{ changed_edges }} as removed
        where
            removed.is_removed
            and removed.node_a = {{ alias }}.node_a
            and removed.node_b = {{ alias }}.node_b
    )
{%- endmacro %}

{#- An incremental run's result into the stored table and edge state, in place: the touched
    nodes' rows are replaced by the re-clustered ones, and the removed and added edges are
    deleted from and inserted into the state, so a run writes what changed rather than the
    millions of rows that did not. -#}
{% macro default__cdp_cc_store_changes(target, touched, components, edges_state, changed_edges) %}
    {%- do run_query(
        "delete from " ~ target ~ " where node_key in (select node_key from " ~ touched ~ ")") -%}
    {%- do run_query(
        "insert into " ~ target ~ " (node_key, component_key, _clustered_at)"
        ~ " select node_key, component_key, _clustered_at from " ~ components) -%}
    {%- do run_query("delete from " ~ edges_state ~ " as stored where "
        ~ cdp_cc_edge_was_removed('stored', changed_edges)) -%}
    {%- do run_query(
        "insert into " ~ edges_state ~ " (node_a, node_b) select node_a, node_b from "
        ~ changed_edges ~ " where not is_removed") -%}
{% endmacro %}

{#- Spark's plain parquet tables have no DELETE: the kept rows and the new ones are written to
    new tables that replace the stored ones. -#}
{% macro spark__cdp_cc_store_changes(target, touched, components, edges_state, changed_edges) %}
    {%- set kept_nodes_sql -%}
        select kept.node_key, kept.component_key, kept._clustered_at
        from {{ target }} as kept
        left join {{ touched }} as touched
            on kept.node_key = touched.node_key
        where touched.node_key is null
        union all
        select node_key, component_key, _clustered_at from {{ components }}
    {%- endset -%}
    {%- set kept_edges_sql -%}
        select kept.node_a, kept.node_b
        from {{ edges_state }} as kept
        where not {{ cdp_cc_edge_was_removed('kept', changed_edges) }}
        union all
        select node_a, node_b from {{ changed_edges }} where not is_removed
    {%- endset -%}
    {%- for relation, rows_sql in [(target, kept_nodes_sql), (edges_state, kept_edges_sql)] -%}
        {%- set next_relation = cdp_cc_relation('next') -%}
        {%- do cdp_cc_create(next_relation, rows_sql) -%}
        {%- do adapter.drop_relation(relation) -%}
        {%- do adapter.rename_relation(next_relation, relation) -%}
    {%- endfor -%}
{% endmacro %}

{#- Clusters `edges_relation` into `result_relation` (node_key, component_key, _clustered_at). Returns the
    figures {ids ('hashed' or 'ranked'), nodes, edges, passes}. -#}
{% macro cdp_cc_run(edges_relation, result_relation, max_passes) %}
    {%- set nodes = cdp_cc_scratch_relation('nodes') -%}
    {%- set links = cdp_cc_scratch_relation('links') -%}
    {%- set parents = cdp_cc_scratch_relation('parents') -%}
    {%- set hooked = cdp_cc_scratch_relation('hooked') -%}
    {%- set jumped = cdp_cc_scratch_relation('jumped') -%}
    {%- set next_parents = cdp_cc_scratch_relation('parents_next') -%}
    {%- set all_nodes_sql = "select node_a as node_key from " ~ edges_relation
        ~ " union select node_b as node_key from " ~ edges_relation -%}

    {#- Node ids: a hash of the key where the adapter has a fast one (no sort of the keys, and
        the edges need no join to get their ids), unless two keys share a hash; else the
        keys' rank, also with config node_ids='rank'. -#}
    {%- set hashed = cdp_cc_hash_id('node_key') if config.get('node_ids', 'hash') == 'hash' else none -%}
    {%- if hashed -%}
        {%- do cdp_cc_create(nodes, "select node_key, " ~ hashed ~ " as node_id from (" ~ all_nodes_sql ~ ") as all_nodes") -%}
        {%- set hashed = cdp_cc_scalar("select count(*) - count(distinct node_id) from " ~ nodes) == 0 -%}
    {%- endif -%}
    {%- if hashed -%}
        {%- set id_edges_sql -%}
            select {{ cdp_cc_hash_id('node_a') }} as node_a, {{ cdp_cc_hash_id('node_b') }} as node_b
            from {{ edges_relation }}
            where node_a <> node_b
        {%- endset -%}
    {%- else -%}
        {%- do cdp_cc_create(nodes,
            "select node_key, row_number() over (order by node_key) as node_id from ("
            ~ all_nodes_sql ~ ") as all_nodes") -%}
        {%- set id_edges_sql -%}
            select a.node_id as node_a, b.node_id as node_b
            from {{ edges_relation }} as edges
            inner join {{ nodes }} as a on edges.node_a = a.node_key
            inner join {{ nodes }} as b on edges.node_b = b.node_key
            where edges.node_a <> edges.node_b
        {%- endset -%}
    {%- endif -%}
    {%- set link_sql -%}
        with id_edges as (
            {{ id_edges_sql }}
        )
        select node_a as source_id, node_b as target_id from id_edges
        union
        select node_b as source_id, node_a as target_id from id_edges
    {%- endset -%}
    {%- do cdp_cc_create(links, link_sql) -%}
    {%- set start_sql -%}
        select nodes.node_id, least(nodes.node_id, coalesce(min(links.target_id), nodes.node_id)) as parent_id
        from {{ nodes }} as nodes
        left join {{ links }} as links on nodes.node_id = links.source_id
        group by nodes.node_id
    {%- endset -%}
    {%- do cdp_cc_create(parents, start_sql) -%}

    {%- set figures = {
        'ids': 'hashed' if hashed else 'ranked',
        'nodes': cdp_cc_scalar("select count(*) from " ~ nodes),
        'edges': cdp_cc_scalar("select count(*) from " ~ links) // 2,
        'passes': 0} -%}
    {%- set previous_sum = {'value': cdp_cc_scalar("select sum(parent_id) from " ~ parents)} -%}
    {%- for pass in range(1, max_passes + 1) -%}
        {%- do cdp_cc_create(hooked, cdp_cc_hook_sql(parents, links)) -%}
        {%- set jump_sql -%}
            select parents.node_id, least(own.parent_id, parents_hook.parent_id) as parent_id
            from {{ parents }} as parents
            inner join {{ hooked }} as own on parents.node_id = own.node_id
            inner join {{ hooked }} as parents_hook on parents.parent_id = parents_hook.node_id
        {%- endset -%}
        {%- do cdp_cc_create(jumped, jump_sql) -%}
        {%- set double_jump_sql -%}
            select jumped.node_id, grand.parent_id
            from {{ jumped }} as jumped
            inner join {{ jumped }} as grand on jumped.parent_id = grand.node_id
        {%- endset -%}
        {%- do cdp_cc_create(next_parents, double_jump_sql) -%}
        {#- Parents only ever decrease, so an unchanged sum means no parent changed: a scan
            instead of a join of old and new per pass. -#}
        {%- set parent_sum = cdp_cc_scalar("select sum(parent_id) from " ~ next_parents) -%}
        {%- set changed = parent_sum != previous_sum.value -%}
        {%- do previous_sum.update({'value': parent_sum}) -%}
        {%- do adapter.drop_relation(parents) -%}
        {%- do adapter.rename_relation(next_parents, parents) -%}
        {%- do figures.update({'passes': pass}) -%}
        {%- if not changed -%}
            {%- break -%}
        {%- elif pass == max_passes -%}
            {{ exceptions.raise_compiler_error(
                "connected components of " ~ this ~ " did not converge after " ~ max_passes
                ~ " passes (labels still changed in the last pass); raise "
                ~ "cdp_identity.max_passes in dbt_project.yml if the graph is that deep") }}
        {%- endif -%}
    {%- endfor -%}

    {#- Each root is its tree's smallest id: with ranked ids its key is the smallest key of the
        component; with hashed ids that key is looked for among the members. -#}
    {%- set result_sql -%}
        {%- if hashed %}
        select
            member.node_key,
            min(member.node_key) over (partition by parents.parent_id) as component_key,
            {{ cdp_run_started_at() }} as _clustered_at
        from {{ parents }} as parents
        inner join {{ nodes }} as member on parents.node_id = member.node_id
        {%- else %}
        select member.node_key, root.node_key as component_key, {{ cdp_run_started_at() }} as _clustered_at
        from {{ parents }} as parents
        inner join {{ nodes }} as member on parents.node_id = member.node_id
        inner join {{ nodes }} as root on parents.parent_id = root.node_id
        {%- endif %}
    {%- endset -%}
    {%- do cdp_cc_create(result_relation, result_sql) -%}
    {%- for leftover in [nodes, links, parents, hooked, jumped] -%}
        {%- do adapter.drop_relation(leftover) -%}
    {%- endfor -%}
    {{ return(figures) }}
{% endmacro %}

{#- A 63-bit hash of a node key as SQL, or none where the adapter has no fast one (the
    keys are then ranked). DuckDB's hash() is not the same across its versions, which does not
    matter: ids live for one run. -#}
{% macro cdp_cc_hash_id(node_key) %}
    {{ return(adapter.dispatch('cdp_cc_hash_id', 'cdp')(node_key)) }}
{% endmacro %}

{% macro default__cdp_cc_hash_id(node_key) %}
    {{ return(none) }}
{% endmacro %}

{% macro duckdb__cdp_cc_hash_id(node_key) %}
    {{ return('cast(hash(' ~ node_key ~ ') >> 1 as bigint)') }}
{% endmacro %}

{#- One hooking step: every tree root adopts the smallest root across its edges (roots only
    ever move to smaller ids, so the forest never gets a cycle). -#}
{% macro cdp_cc_hook_sql(parents, links) %}
    with linked_roots as (
        select source_parent.parent_id as root_id, min(target_parent.parent_id) as candidate_id
        from {{ links }} as links
        inner join {{ parents }} as source_parent on links.source_id = source_parent.node_id
        inner join {{ parents }} as target_parent on links.target_id = target_parent.node_id
        where target_parent.parent_id < source_parent.parent_id
        group by source_parent.parent_id
    )

    select
        parents.node_id,
        case
            when linked_roots.candidate_id < parents.parent_id then linked_roots.candidate_id
            else parents.parent_id
        end as parent_id
    from {{ parents }} as parents
    left join linked_roots on parents.node_id = linked_roots.root_id
{% endmacro %}

{#- With config log_reclustered: appends the nodes of `touched` to `<model>__reclustered`
    (created on first use) and prunes it (macros/incremental/log_pruning.sql), or, for a
    full run (`touched` none), replaces it by one row with a null node_key. -#}
{% macro cdp_cc_log_reclustered(touched) %}
    {%- if not config.get('log_reclustered') -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set log = cdp_reclustered_log_relation(this) -%}
    {%- set stamp = cdp_run_started_at() ~ ' as _reclustered_at' -%}
    {%- if touched is none -%}
        {%- set rows_sql = 'select cast(null as ' ~ dbt.type_string() ~ ') as node_key, ' ~ stamp -%}
        {%- do cdp_cc_create(log, rows_sql) -%}
    {%- else -%}
        {%- do cdp_append_rows(log, 'select node_key, ' ~ stamp ~ ' from ' ~ touched) -%}
        {%- for statement in cdp_prune_log_sql(log, '_reclustered_at') -%}
            {%- do run_query(statement) -%}
        {%- endfor -%}
    {%- endif -%}
{% endmacro %}

{% macro cdp_reclustered_log_relation(relation) -%}
    {{ return(relation.incorporate(path={'identifier': relation.identifier ~ '__reclustered'}, type='table')) }}
{%- endmacro %}

{#- SQL condition: the __reclustered log `log` may lack nodes re-clustered after `since` (an
    SQL expression): it holds a full run (its row with a null node_key) or was pruned since. -#}
{% macro cdp_reclustered_log_lacks_rows_since(log, since) -%}
    {{ cdp_log_lacks_rows_since(log, 'node_key', '_reclustered_at', since) }}
{%- endmacro %}

{#- Appends this run's figures to `<model>__runs` (created on first use). -#}
{% macro cdp_cc_record_run(incremental, figures, seconds) %}
    {%- set runs = cdp_cc_relation('runs') -%}
    {%- set row_sql -%}
        select
            cast('{{ invocation_id }}' as {{ dbt.type_string() }}) as invocation_id,
            {{ dbt.current_timestamp() }} as finished_at,
            cast('{{ "incremental" if incremental else "full" }}' as {{ dbt.type_string() }}) as mode,
            cast({{ figures.nodes }} as {{ dbt.type_bigint() }}) as nodes_in_scope,
            cast({{ figures.edges }} as {{ dbt.type_bigint() }}) as edges_in_scope,
            cast({{ figures.passes }} as {{ dbt.type_int() }}) as passes,
            cast({{ seconds }} as {{ dbt.type_float() }}) as seconds
    {%- endset -%}
    {%- do cdp_append_rows(runs, row_sql) -%}
{% endmacro %}
