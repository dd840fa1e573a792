"""The `connected_components` materialization on hand-made graphs, in a throwaway dbt project
that uses this project's macros: passes grow with log(n), not with the graph's diameter."""

from __future__ import annotations

import itertools
import math
import os
import random
from pathlib import Path

import duckdb
import psycopg
import pytest

from cdp.clustering_bench import GraphProject, benchmark

from .conftest import PROJECT_ROOT, postgres_or_skip


@pytest.fixture
def graph(tmp_path: Path) -> GraphProject:
    return GraphProject(tmp_path / "graph_project", PROJECT_ROOT)


def shuffled_chain(n: int, seed: int) -> list[tuple[str, str]]:
    """A path of n nodes whose labels are in random order along the path (diameter n - 1)."""
    labels = [f"n{i:07d}" for i in random.Random(seed).sample(range(n), n)]
    return list(itertools.pairwise(labels))


@pytest.mark.parametrize("n", [64, 4096])
def test_chain_converges_in_logarithmic_passes(graph: GraphProject, n: int) -> None:
    graph.set_edges(shuffled_chain(n, seed=n))
    graph.build()
    labels = graph.labels()
    assert len(labels) == n
    assert set(labels.values()) == {"n0000000"}  # one component, labelled by its smallest key
    mode, nodes, passes, _seconds = graph.last_run()
    assert (mode, nodes) == ("full", n)
    # Label propagation would need n - 1 passes; pointer doubling needs about log2(n).
    assert passes <= math.ceil(math.log2(n)) + 1, passes


def test_forest_with_isolated_nodes_and_cycles(graph: GraphProject) -> None:
    graph.set_edges([("b", "c"), ("c", "a"), ("a", "b"), ("e", "d"), ("f", "f"), ("g", "h"), ("h", "g")])
    graph.build()
    assert graph.labels() == {"a": "a", "b": "a", "c": "a", "d": "d", "e": "d", "f": "f", "g": "g", "h": "g"}


def test_star_converges_in_one_pass(graph: GraphProject) -> None:
    graph.set_edges([("hub", f"leaf{i:04d}") for i in range(2000)])
    graph.build()
    assert set(graph.labels().values()) == {"hub"}
    assert graph.last_run()[2] <= 2


def random_forest_with_cycles(nodes: int, seed: int) -> list[tuple[str, str]]:
    """Random trees over shuffled labels, with a cycle closed in every tenth of them and
    isolated nodes declared (node_a = node_b)."""
    rng = random.Random(seed)
    labels = [f"k{value:06d}" for value in rng.sample(range(10 * nodes), nodes)]
    edges, start = [], 0
    while start < nodes:
        size = rng.randint(1, 12)
        tree = labels[start : start + size]
        edges += [(tree[i], tree[rng.randrange(i)]) for i in range(1, len(tree))] or [(tree[0], tree[0])]
        if len(tree) > 2 and rng.random() < 0.1:
            edges.append((tree[0], tree[-1]))
        start += size
    return edges


def test_hashed_and_ranked_node_ids_give_the_same_labels(graph: GraphProject) -> None:
    """DuckDB numbers the nodes by a hash of their key (no sort of the keys); config
    node_ids='rank' ranks them as other adapters do. Labels are the smallest key of each
    component either way, in full and incremental runs."""
    edges = random_forest_with_cycles(3000, seed=11)
    graph.set_edges(edges)
    hashed_run = graph.run()
    assert hashed_run.ok and "hashed node ids" in hashed_run.output
    hashed = graph.labels()
    ranked_run = graph.run("--full-refresh", "--vars", "{node_ids: rank}")
    assert ranked_run.ok and "ranked node ids" in ranked_run.output
    assert graph.labels() == hashed
    components: dict[str, set[str]] = {}
    for node, label in hashed.items():
        components.setdefault(label, set()).add(node)
    assert all(label == min(members) for label, members in components.items())
    assert len(components) > 300  # not one blob: the labels are tested per component
    # An incremental run with hashed ids joins two components as the ranked full run does.
    joined = [*edges, (edges[0][0], edges[-1][0])]
    graph.set_edges(joined)
    graph.build()
    assert graph.last_run()[0] == "incremental"
    incremental = graph.labels()
    graph.build("--full-refresh", "--vars", "{node_ids: rank}")
    assert graph.labels() == incremental != hashed


def test_an_unknown_node_ids_config_fails_with_a_clear_error(graph: GraphProject) -> None:
    graph.set_edges([("a", "b")])
    result = graph.run("--vars", "{node_ids: md5}")
    assert not result.ok
    assert "config node_ids is 'md5'; use 'hash' (the default) or 'rank'" in result.output


def test_max_passes_guard_fails_with_a_clear_error(graph: GraphProject) -> None:
    graph.set_edges(shuffled_chain(1024, seed=3))
    result = graph.run("--vars", "{max_passes: 2}")
    assert result.returncode != 0
    assert "did not converge after 2 passes" in result.output
    assert "cdp_identity.max_passes" in result.output


def test_incremental_run_reclusters_only_touched_components(graph: GraphProject) -> None:
    triangles = [
        edge
        for c in range(100)
        for edge in ((f"c{c:03d}a", f"c{c:03d}b"), (f"c{c:03d}b", f"c{c:03d}c"), (f"c{c:03d}a", f"c{c:03d}c"))
    ]
    graph.set_edges(triangles)
    graph.build()
    # Join components 1 and 2; cut component 3's node c003c off; add a new pair x-y.
    kept = [e for e in triangles if "c003c" not in e]
    changed = [*kept, ("c001a", "c002b"), ("c003c", "c003c"), ("x", "y")]
    graph.set_edges(changed)
    graph.build()
    mode, nodes, _passes, _seconds = graph.last_run()
    assert (mode, nodes) == ("incremental", 3 + 3 + 3 + 2)  # components 1, 2, 3 and the new pair
    incremental = graph.labels()
    assert incremental["c002c"] == "c001a" and incremental["c003c"] == "c003c" and incremental["y"] == "x"
    assert incremental["c050b"] == "c050a"
    assert graph.main_tables() == KEPT_TABLES  # the incremental run's scratch tables are gone
    # The edge state was changed in place into exactly this run's edges: the next run diffs
    # against it, so a second change re-clusters only what it touches.
    assert graph.edge_state() == set(changed)
    graph.set_edges([*changed, ("y", "z")])
    graph.build()
    assert graph.last_run()[:2] == ("incremental", 3)  # x, y and the new z
    incremental = graph.labels()
    assert incremental["z"] == "x"
    graph.build("--full-refresh")
    assert graph.last_run()[0] == "full"
    assert graph.labels() == incremental  # incremental and full rebuild agree exactly
    assert graph.main_tables() == KEPT_TABLES  # a full run clusters its edge state in place


# What a run leaves: the components, the edges the next run diffs against, the run figures.
KEPT_TABLES = ["components", "components__edges", "components__runs"]


# A model with candidate_edges: its edges flagged as candidates or not, and logged removals.
CANDIDATE_MODEL = """{{ config(materialized='connected_components', candidate_edges=true, max_passes=40) }}
select node_a, node_b, true as is_edge, is_candidate from graph_input.flagged_edges
union all
select node_a, node_b, false as is_edge, true as is_candidate from graph_input.removed_edges
"""


def set_flagged_edges(
    graph: GraphProject,
    edges: list[tuple[str, str]],
    candidates: set[tuple[str, str]],
    removed: list[tuple[str, str]],
) -> None:
    with duckdb.connect(str(graph.warehouse)) as con:
        con.execute("create schema if not exists graph_input")
        con.execute(
            "create or replace table graph_input.flagged_edges"
            " (node_a varchar, node_b varchar, is_candidate boolean)"
        )
        con.executemany(
            "insert into graph_input.flagged_edges values (?, ?, ?)", [(*e, e in candidates) for e in edges]
        )
        con.execute("create or replace table graph_input.removed_edges (node_a varchar, node_b varchar)")
        if removed:
            con.executemany("insert into graph_input.removed_edges values (?, ?)", removed)


def test_an_incremental_run_with_candidate_edges_compares_only_the_candidates(graph: GraphProject) -> None:
    """With config candidate_edges, an incremental run looks only at the candidate edges: a
    new one not flagged is not seen, a removed candidate goes unless it is still an edge; a
    full run clusters every edge."""
    (graph.root / "models" / "components.sql").write_text(CANDIDATE_MODEL)
    set_flagged_edges(graph, [("a", "b"), ("c", "d"), ("e", "f")], set(), [])
    graph.build()
    assert graph.labels() == {"a": "a", "b": "a", "c": "c", "d": "c", "e": "e", "f": "e"}
    # c-d removed, b-c and the nodes c and d added, a-b logged as removed yet still an edge,
    # x-y added without the flag.
    added = {("b", "c"), ("c", "c"), ("d", "d")}
    edges = [("a", "b"), *sorted(added), ("e", "f"), ("x", "y")]
    set_flagged_edges(graph, edges, added, [("c", "d"), ("a", "b")])
    graph.build()
    assert graph.last_run()[:2] == ("incremental", 4)  # a, b, c and d
    assert graph.labels() == {"a": "a", "b": "a", "c": "a", "d": "d", "e": "e", "f": "e"}
    assert graph.edge_state() == {("a", "b"), *added, ("e", "f")}
    graph.build("--full-refresh")
    assert graph.labels() == {"a": "a", "b": "a", "c": "a", "d": "d", "e": "e", "f": "e", "x": "x", "y": "x"}


def test_a_run_logs_the_nodes_it_reclustered(graph: GraphProject) -> None:
    """With log_reclustered, an incremental run appends the nodes it re-clustered, those
    that left every component included; a full run leaves one row with a null node_key."""
    logging = ("--vars", "{log_reclustered: true}")

    def log() -> list[tuple]:
        with duckdb.connect(str(graph.warehouse), read_only=True) as con:
            return con.execute(
                "select node_key, _reclustered_at from main.components__reclustered order by 2, 1"
            ).fetchall()

    graph.set_edges([("a", "b"), ("c", "d"), ("e", "f"), ("g", "h")])
    graph.build(*logging)
    ((node, full_run_at),) = log()
    assert node is None
    # c and d part; e and f leave every component; a-b and g-h stay as they were.
    graph.set_edges([("a", "b"), ("c", "c"), ("d", "d"), ("g", "h")])
    graph.build(*logging)
    assert graph.last_run()[:2] == ("incremental", 2)  # clusters c and d; e and f have no edge left
    first, *logged = log()
    assert first == (None, full_run_at)
    assert sorted(node for node, _ in logged) == ["c", "d", "e", "f"]
    assert len({at for _, at in logged}) == 1 and logged[0][1] > full_run_at
    assert "e" not in graph.labels()
    graph.build("--full-refresh", *logging)
    assert [node for node, _ in log()] == [None]
    graph.set_edges([("a", "b"), ("c", "d"), ("g", "h")])
    graph.build()  # without the config, a run that re-clusters c and d logs nothing
    assert graph.last_run()[:2] == ("incremental", 2)
    assert [node for node, _ in log()] == [None]


def test_benchmark_reports_figures_of_a_synthetic_identity_graph(tmp_path: Path) -> None:
    figures = benchmark(20_000, PROJECT_ROOT, work_dir=tmp_path)
    assert figures.identifiers == 20_000
    # 200 chained nodes in one chain of 1,000 at most; random trees of mean size 4 for the rest.
    assert 19_800 // 8 < figures.components < 19_800 // 2
    assert 1 <= figures.passes <= math.ceil(math.log2(1_000)) + 1


def test_the_materialization_runs_on_postgres(tmp_path: Path) -> None:
    """Same SQL on another adapter: chains, forests and an incremental run on PostgreSQL."""
    pg = postgres_or_skip("the Postgres run of connected_components is NOT tested")
    schema = f"cc_test_{os.getpid()}"
    graph = GraphProject(
        tmp_path / "pg_graph", PROJECT_ROOT, {"CDP_TARGET": "postgres", "CDP_PG_SCHEMA": schema}
    )
    chain = shuffled_chain(512, seed=5)
    with pg:
        pg.execute(f"drop schema if exists {schema} cascade")
        pg.execute(f"create schema {schema}")
        pg.execute("create schema if not exists graph_input")
        try:
            _load_pg_edges(pg, [*chain, ("x", "y"), ("z", "z")])
            graph.build()
            labels = dict(pg.execute(f"select node_key, component_key from {schema}.components").fetchall())
            assert set(labels[key] for key, _ in chain) == {"n0000000"}
            assert (labels["y"], labels["z"]) == ("x", "z")
            passes = pg.execute(f"select passes from {schema}.components__runs").fetchall()[0][0]
            assert passes <= math.ceil(math.log2(512)) + 1
            _load_pg_edges(pg, [*chain, ("x", "y"), ("z", "x")])
            graph.build()
            mode, nodes = pg.execute(
                f"select mode, nodes_in_scope from {schema}.components__runs "
                "order by finished_at desc limit 1"
            ).fetchall()[0]
            assert (mode, nodes) == ("incremental", 3)
            assert pg.execute(
                f"select component_key from {schema}.components where node_key = 'z'"
            ).fetchall() == [("x",)]
        finally:
            pg.execute(f"drop schema if exists {schema} cascade")
            pg.execute("drop table if exists graph_input.edges")


def _load_pg_edges(pg: psycopg.Connection, edges: list[tuple[str, str]]) -> None:
    pg.execute("drop table if exists graph_input.edges")
    pg.execute("create table graph_input.edges (node_a text, node_b text)")
    with pg.cursor() as cursor:
        cursor.executemany("insert into graph_input.edges values (%s, %s)", edges)
