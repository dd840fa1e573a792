"""`cdp bench` on a small sample: every stage timed, rows counted, JSON written, the sample
cached, and --incremental landing new people. What is checked is the bookkeeping, not speed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest

from cdp.bench import node_stage, run_bench
from cdp.errors import CdpError
from cdp.project import DEFAULT_WAREHOUSE, Project

PEOPLE = 300
SEED = 3
STAGES = [
    "generate",
    "load",
    "dbt start-up",
    "staging",
    "identity",
    "marts",
    "predictions",
    "quality",
    "sync",
]


def bench(project_root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "cdp.cli", "bench", "--customers", str(PEOPLE), "--seed", str(SEED), *args],
        cwd=project_root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("bench")


@pytest.fixture(scope="module")
def first(work: Path, project_root: Path) -> dict[str, Any]:
    """A full run with --incremental, figures written to a JSON file."""
    out = work / "figures" / "bench.json"
    shown = bench(
        project_root,
        "--incremental",
        "--data-dir",
        str(work / "data"),
        "--warehouse",
        str(work / "first.duckdb"),
        "--json",
        str(out),
    )
    assert "cdp bench: 300 people" in shown.stdout
    return json.loads(out.read_text())


@pytest.fixture(scope="module")
def second(work: Path, project_root: Path, first: dict[str, Any]) -> dict[str, Any]:
    """A second run on the same data folder, JSON on stdout."""
    shown = bench(
        project_root,
        "--data-dir",
        str(work / "data"),
        "--warehouse",
        str(work / "second.duckdb"),
        "--json",
        "-",
    )
    return json.loads(shown.stdout)


def raw_rows(con: duckdb.DuckDBPyConnection) -> int:
    tables = con.execute(
        "select table_name from information_schema.tables "
        "where table_schema = 'raw' and not starts_with(table_name, '_')"
    ).fetchall()
    return sum(con.execute(f"select count(*) from raw.{name}").fetchall()[0][0] for (name,) in tables)


def test_every_stage_is_timed(first: dict[str, Any]) -> None:
    stages = {stage["name"]: stage for stage in first["stages"]}
    assert list(stages) == STAGES
    assert all(stage["seconds"] > 0 for stage in stages.values()), stages
    for name in ("staging", "identity", "marts", "predictions"):
        assert stages[name]["nodes"] > 0 and stages[name]["busy"] > 0, stages[name]
    assert stages["generate"]["note"] == "generated"
    assert first["build"]["clustering"]["passes"] >= 1
    assert first["build"]["statuses"].get("error", 0) == 0


def test_rows_are_the_raw_rows_loaded(first: dict[str, Any], work: Path) -> None:
    manifest = json.loads((work / "data" / str(PEOPLE) / "landing" / "_manifest.json").read_text())
    assert first["rows"] == sum(manifest["row_counts"].values()) > 0
    with duckdb.connect(str(work / "first.duckdb"), read_only=True) as con:
        assert raw_rows(con) == first["rows"] + first["incremental"]["rows"]
    load = next(stage for stage in first["stages"] if stage["name"] == "load")
    assert load["rows_per_second"] == pytest.approx(first["rows"] / load["seconds"])


def test_json_has_the_figures(first: dict[str, Any]) -> None:
    assert first["people"] == PEOPLE and first["seed"] == SEED
    assert first["total_seconds"] > 0 and first["rows_per_second"] > 0
    assert first["peak_rss_mb"]["cdp"] > 0 and first["peak_rss_mb"]["children"] > 0
    assert first["machine"]["cores"] >= 1
    assert set(first["machine"]["versions"]) >= {"dbt-core", "duckdb"}
    # the profile's variables as the run had them: figures say which settings they were taken with
    assert first["machine"]["settings"] == {
        name: os.environ.get(name, "") for name in ("CDP_DBT_THREADS", "CDP_DUCKDB_DISABLED_COMPRESSION")
    }
    assert first["build"]["seconds"] >= max(s["seconds"] for s in first["stages"] if s["nodes"])
    # The critical path of each build: the chain of nodes, ending where the build's last node ends.
    for figures in (first["build"], first["incremental"]["build"], first["incremental"]["idle_build"]):
        path = figures["critical_path"]
        assert path["steps"] and path["steps"][-1]["resource_type"] in ("model", "test")
        assert path["seconds"] == pytest.approx(
            path["model_seconds"] + path["test_seconds"] + path["between_nodes"], abs=0.01
        )
        assert figures["seconds"] >= path["seconds"] > 0


def test_second_run_reuses_the_sample(first: dict[str, Any], second: dict[str, Any]) -> None:
    generated = next(stage for stage in second["stages"] if stage["name"] == "generate")
    assert generated["note"] == "cached"
    assert second["rows"] == first["rows"]
    assert second["customers"] == first["customers"]  # same data, fresh warehouse: same result
    assert second["incremental"] is None


def test_incremental_lands_new_people_and_keeps_customers_consistent(
    first: dict[str, Any], work: Path
) -> None:
    more = first["incremental"]
    assert more["people"] == 3 and more["rows"] > 0
    assert more["build"]["clustering"]["mode"] == "incremental"
    assert more["customers_after"] > more["customers_before"] == first["customers"]
    folder = work / "data" / str(PEOPLE)
    old = pq.read_table(folder / "landing" / "_truth" / "record_truth").to_pydict()
    new = pq.read_table(folder / "increment" / "_truth" / "record_truth").to_pydict()
    assert min(new["person_id"]) == f"P{PEOPLE:09d}"  # the generator's next people
    old_records = set(zip(old["source_table"], old["record_id"], strict=True))
    assert old_records.isdisjoint(zip(new["source_table"], new["record_id"], strict=True))
    with duckdb.connect(str(work / "first.duckdb"), read_only=True) as con:
        customers, assigned = con.execute(
            "select (select count(*) from customer.customer_360), "
            "(select count(distinct customer_id) from identity.customer_records)"
        ).fetchall()[0]
    assert customers == assigned == more["customers_after"]
    # The full build scored every person record; the incremental one only the new people's.
    assert first["build"]["splink_scoring"]["scored"] == first["build"]["splink_scoring"]["records"]
    with duckdb.connect(str(work / "first.duckdb"), read_only=True) as con:
        people = set(
            con.execute(
                "select source_table, record_id from identity.int_identity__person_records"
            ).fetchall()
        )
    scoring = more["build"]["splink_scoring"]
    new_people = people & set(zip(new["source_table"], new["record_id"], strict=True))
    assert 0 < scoring["scored"] == len(new_people) < scoring["records"] == len(people)


def test_idle_build_finds_nothing_to_do(first: dict[str, Any]) -> None:
    """The build after the incremental one, nothing new landed: timed, and it re-clusters
    and re-scores nothing (the customers the test above counts are after it)."""
    idle = first["incremental"]["idle_build"]
    assert idle["seconds"] > 0 and idle["statuses"].get("error", 0) == 0
    assert first["incremental"]["idle_ratio_to_full_build"] == pytest.approx(
        idle["seconds"] / first["build"]["seconds"]
    )
    assert idle["splink_scoring"]["scored"] == 0
    assert idle["clustering"]["mode"] == "incremental" and idle["clustering"]["nodes_in_scope"] == 0


def test_build_nodes_are_timed_in_their_stage(first: dict[str, Any], work: Path) -> None:
    nodes = json.loads((work / "data" / str(PEOPLE) / "target" / "manifest.json").read_text())["nodes"]
    assert node_stage("model.cdp.stg_crm__contacts", nodes) == "staging"
    assert node_stage("model.cdp.int_identity__edges", nodes) == "identity"
    assert node_stage("model.cdp.customer_id_assignments", nodes) == "identity"
    assert node_stage("model.cdp.customer_predictions", nodes) == "predictions"
    assert node_stage("model.cdp.customer_360", nodes) == "marts"
    tests = [uid for uid, node in nodes.items() if node.get("attached_node") == "model.cdp.customer_360"]
    assert tests and {node_stage(uid, nodes) for uid in tests} == {"marts"}
    # The build's timings by node are kept beside it, for finding what is slow.
    kept = json.loads((work / "data" / str(PEOPLE) / "run_results.full.json").read_text())["results"]
    assert {"model.cdp.customer_360", *tests} <= {result["unique_id"] for result in kept}


def test_never_on_the_demo_warehouse(project_root: Path, tmp_path: Path) -> None:
    with pytest.raises(CdpError, match="demo's warehouse"):
        run_bench(Project(project_root, project_root / DEFAULT_WAREHOUSE), PEOPLE, SEED, tmp_path)
