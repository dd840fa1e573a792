"""Benchmark of the `connected_components` materialization on synthetic identity-like graphs:
prints passes, seconds and peak memory per graph size (the issue's targets live here, not in
timed tests).

The graph: N identifier nodes with random keys, in components of geometric size (mean 4: a
person's emails, phones, devices, accounts) wired as random trees, plus 1% of the nodes in
chains of 1,000 (the deep components that make label propagation slow).
"""

from __future__ import annotations

import resource
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb

from cdp.dbt_runner import DbtResult, run_dbt
from cdp.errors import CdpError
from cdp.project import Project

MODEL = """{{ config(
    materialized='connected_components',
    max_passes=var('max_passes', 40),
    log_reclustered=var('log_reclustered', false),
    node_ids=var('node_ids', 'hash'),
) }}
select node_a, node_b from graph_input.edges
"""


class GraphProject:
    """A throwaway dbt project with one connected_components model over graph_input.edges,
    using this project's macros and profiles."""

    def __init__(self, root: Path, project_root: Path, env: dict[str, str] | None = None) -> None:
        self.root = root
        self.env = env or {}  # e.g. CDP_TARGET=postgres
        (root / "models").mkdir(parents=True)
        (root / "models" / "components.sql").write_text(MODEL)
        (root / "macros").symlink_to(project_root / "macros")
        shutil.copy(project_root / "profiles.yml", root / "profiles.yml")
        (root / "dbt_project.yml").write_text(
            "name: cc_graph\nversion: '1.0'\nconfig-version: 2\nprofile: cdp\n"
            "model-paths: [models]\nmacro-paths: [macros]\n"
        )
        self.warehouse = root / "graph.duckdb"

    def set_edges(self, edges: list[tuple[str, str]]) -> None:
        with duckdb.connect(str(self.warehouse)) as con:
            con.execute("create schema if not exists graph_input")
            con.execute("create or replace table graph_input.edges (node_a varchar, node_b varchar)")
            con.executemany("insert into graph_input.edges values (?, ?)", edges)

    def run(self, *args: str) -> DbtResult:
        return run_dbt(Project(self.root, self.warehouse), ["run", *args], capture=True, env=self.env)

    def build(self, *args: str) -> None:
        result = self.run(*args)
        if not result.ok:
            raise CdpError(f"dbt run of {self.root} failed:\n{result.output[-3000:]}")

    def labels(self) -> dict[str, str]:
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            return dict(con.execute("select node_key, component_key from main.components").fetchall())

    def edge_state(self) -> set[tuple[str, str]]:
        """The edges the next incremental run diffs against."""
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            return set(con.execute("select node_a, node_b from main.components__edges").fetchall())

    def main_tables(self) -> list[str]:
        """Tables of schema main, sorted: the model's and any scratch table it left behind."""
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            rows = con.execute(
                "select table_name from information_schema.tables where table_schema = 'main' order by 1"
            ).fetchall()
        return [name for (name,) in rows]

    def last_run(self) -> tuple[str, int, int, float]:
        """(mode, nodes in scope, passes, seconds) of the latest run."""
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            return con.execute(
                "select mode, nodes_in_scope, passes, seconds from main.components__runs "
                "order by finished_at desc limit 1"
            ).fetchall()[0]


@dataclass(frozen=True)
class ClusteringFigures:
    identifiers: int
    edges: int
    components: int
    passes: int
    clustering_seconds: float  # inside the materialization
    dbt_seconds: float  # the whole `dbt run`
    identifiers_per_second: float
    peak_rss_mb: float  # of the dbt process


def synthetic_identity_graph(warehouse: Path, identifiers: int, seed: float = 0.42) -> None:
    """Writes graph_input.edges with ``identifiers`` nodes (see the module docstring)."""
    chained = identifiers // 100
    with duckdb.connect(str(warehouse)) as con:
        con.execute(f"select setseed({seed})")
        con.execute("create schema if not exists graph_input")
        con.execute(f"""
            create or replace table graph_input.nodes as
            select i, md5(cast(i as varchar)) as node_key, random() as roll, random() as pick
            from range({identifiers}) as t(i)
        """)
        con.execute(f"""
            create or replace table graph_input.edges as
            with trees as (
                select *, sum(case when roll < 0.25 then 1 else 0 end) over (order by i) as component
                from graph_input.nodes where i < {identifiers - chained}
            ),
            starts as (select component, min(i) as first_i from trees group by component),
            wired as (
                select trees.i, trees.node_key,
                    starts.first_i + cast(floor(trees.pick * (trees.i - starts.first_i)) as bigint)
                        as parent_i
                from trees join starts using (component)
            ),
            chains as (
                select node_key, lag(node_key) over (partition by (i - {identifiers - chained}) // 1000
                    order by node_key) as previous_key
                from graph_input.nodes where i >= {identifiers - chained}
            )
            select wired.node_key as node_a, parents.node_key as node_b
            from wired join graph_input.nodes as parents on parents.i = wired.parent_i
            union all
            select node_key, coalesce(previous_key, node_key) from chains
        """)
        con.execute("drop table graph_input.nodes")


def benchmark(identifiers: int, project_root: Path, work_dir: Path | None = None) -> ClusteringFigures:
    with tempfile.TemporaryDirectory(dir=work_dir) as tmp:
        graph = GraphProject(Path(tmp) / "bench", project_root)
        synthetic_identity_graph(graph.warehouse, identifiers)
        started = time.perf_counter()
        graph.build()
        dbt_seconds = time.perf_counter() - started
        _mode, nodes, passes, seconds = graph.last_run()
        with duckdb.connect(str(graph.warehouse), read_only=True) as con:
            edges, components = con.execute(
                "select (select count(*) from graph_input.edges), "
                "(select count(distinct component_key) from main.components)"
            ).fetchall()[0]
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # KiB on Linux
    return ClusteringFigures(
        identifiers=nodes,
        edges=edges,
        components=components,
        passes=passes,
        clustering_seconds=round(seconds, 2),
        dbt_seconds=round(dbt_seconds, 2),
        identifiers_per_second=round(nodes / seconds),
        peak_rss_mb=round(peak),
    )


def as_dict(figures: ClusteringFigures) -> dict[str, float | int]:
    return asdict(figures)
