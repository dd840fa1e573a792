"""The `connected_components` materialization on hand-made graphs, in a throwaway dbt project
that uses this project's macros: passes grow with log(n), not with the graph's diameter."""

from __future__ import annotations

import itertools
import math
import random
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest

from cdp.dbt_runner import dbt_executable
from cdp.project import Project

from .conftest import PROJECT_ROOT

MODEL = """{{ config(materialized='connected_components', max_passes=var('max_passes', 40)) }}
select node_a, node_b from graph_input.edges
"""


class GraphProject:
    """A dbt project with one connected_components model over the table graph_input.edges."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "models").mkdir(parents=True)
        (root / "models" / "components.sql").write_text(MODEL)
        (root / "macros").symlink_to(PROJECT_ROOT / "macros")
        shutil.copy(PROJECT_ROOT / "profiles.yml", root / "profiles.yml")
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

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        dirs = ["--project-dir", str(self.root), "--profiles-dir", str(self.root)]
        return subprocess.run(
            [dbt_executable(), "run", *dirs, *args],
            env=Project(self.root, self.warehouse).dbt_env(),
            capture_output=True,
            text=True,
            check=False,
        )

    def build(self, *args: str) -> None:
        completed = self.run(*args)
        assert completed.returncode == 0, completed.stdout + completed.stderr

    def labels(self) -> dict[str, str]:
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            return dict(con.execute("select node_key, component_key from main.components").fetchall())

    def last_run(self) -> tuple[str, int, int]:
        """(mode, nodes in scope, passes) of the latest run."""
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            return con.execute(
                "select mode, nodes_in_scope, passes from main.components__runs "
                "order by finished_at desc limit 1"
            ).fetchall()[0]


@pytest.fixture
def graph(tmp_path: Path) -> GraphProject:
    return GraphProject(tmp_path / "graph_project")


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
    mode, nodes, passes = graph.last_run()
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


def test_max_passes_guard_fails_with_a_clear_error(graph: GraphProject) -> None:
    graph.set_edges(shuffled_chain(1024, seed=3))
    completed = graph.run("--vars", "{max_passes: 2}")
    assert completed.returncode != 0
    assert "did not converge after 2 passes" in completed.stdout
    assert "cdp_identity.max_passes" in completed.stdout


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
    mode, nodes, _passes = graph.last_run()
    assert (mode, nodes) == ("incremental", 3 + 3 + 3 + 2)  # components 1, 2, 3 and the new pair
    incremental = graph.labels()
    assert incremental["c002c"] == "c001a" and incremental["c003c"] == "c003c" and incremental["y"] == "x"
    assert incremental["c050b"] == "c050a"
    graph.build("--full-refresh")
    assert graph.last_run()[0] == "full"
    assert graph.labels() == incremental  # incremental and full rebuild agree exactly
