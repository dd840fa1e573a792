"""The same dbt project on PostgreSQL and on a local Spark: the raw tables the loader landed in
DuckDB are copied over, `cdp build` (dbt phases, with the Python models run by cdp) passes
every model and test, and the customers, their records' customer_ids and the segments are
exactly those of the DuckDB build of the same raw data."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import duckdb
import psycopg
import pyarrow as pa
import pytest
from psycopg import sql

from cdp.dbt_runner import run_dbt
from cdp.errors import CdpError
from cdp.generate import GenerationResult
from cdp.project import Project, postgres_settings
from cdp.python_models import build
from cdp.targets.postgres import PostgresTables
from cdp.targets.publish import publish_raw_in_child

from .conftest import PROJECT_ROOT, postgres_or_skip

# What must agree between engines: how many customers, which customer each record is, segments.
PARITY = {
    "customers": "select count(*) from customer.customer_360",
    "records": "select source_table, record_id, customer_id from identity.customer_records",
    "identifiers": "select identifier_key, customer_id, is_anchor from identity.customer_identifiers",
    "probabilistic pairs": (
        "select left_record_id, right_record_id from identity.int_identity__probabilistic_pairs"
    ),
    "segments": "select segment_name, customer_id from segments.segment_membership",
    "events": "select event_key, customer_id, journey_stage from customer.customer_events",
    # DuckDB picks the survivors by an aggregate, the others by a window (cdp_golden_survivors)
    "golden record": (
        "select customer_id, attribute_name, source_table, record_id"
        " from customer.int_customer__golden_attributes"
    ),
}


def duckdb_facts(warehouse: Path) -> dict[str, set[tuple]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {name: set(con.execute(query).fetchall()) for name, query in PARITY.items()}


def assert_same_as_duckdb(facts: dict[str, set[tuple]], expected: dict[str, set[tuple]]) -> None:
    for name, rows in expected.items():
        only_target, only_duckdb = len(facts[name] - rows), len(rows - facts[name])
        assert facts[name] == rows, f"{name}: {only_target} only on the target, {only_duckdb} only on DuckDB"
    assert len(expected["records"]) > 1000 and len(expected["probabilistic pairs"]) > 0  # not vacuous


@pytest.fixture
def pg_database() -> Iterator[str]:
    admin = postgres_or_skip("the project is NOT built and tested on PostgreSQL")
    database = f"cdp_target_{uuid.uuid4().hex[:8]}"
    admin.execute(sql.SQL("create database {}").format(sql.Identifier(database)))
    try:
        yield database
    finally:
        admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(database)))
        admin.close()


def test_an_empty_table_copied_out_of_postgres_and_back_keeps_its_column_types(pg_database: str) -> None:
    """cdp.python_models copies a Python model's tables out of Postgres and back on each build:
    an empty one (the pairs' removal log after a full scoring) has no values to infer types
    from, and must not come back as text (a later build compares its timestamps)."""
    empty = pa.table(
        {
            "left_source_table": pa.array([], pa.string()),
            "pairs": pa.array([], pa.int64()),
            "_removed_at": pa.array([], pa.timestamp("us")),
        }
    )
    with PostgresTables.connect({**postgres_settings(), "dbname": pg_database}) as tables:
        tables.write("identity", "pairs__removed", empty)
        read = tables.read("select * from identity.pairs__removed")
        assert read.schema == empty.schema
        tables.write("identity", "pairs__removed", read)
        types = tables.read(
            "select data_type from information_schema.columns"
            " where table_name = 'pairs__removed' order by ordinal_position"
        )
    assert types.column("data_type").to_pylist() == ["text", "bigint", "timestamp without time zone"]


def test_the_project_builds_on_postgres_with_duckdbs_customers(
    built: Project, sample: GenerationResult, pg_database: str, tmp_path: Path
) -> None:
    env = {"CDP_TARGET": "postgres", "CDP_PG_DATABASE": pg_database}
    landed = tmp_path / "landed.duckdb"  # `cdp load` lands in DuckDB, then copies raw to the target
    load = subprocess.run(
        [sys.executable, "-m", "cdp.cli", "load", str(sample.out_dir), "--warehouse", str(landed)],
        cwd=PROJECT_ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert load.returncode == 0, load.stderr
    assert "copying the raw tables to target postgres" in load.stdout
    assert "raw.crm_contacts:" in load.stdout
    project = Project(PROJECT_ROOT, landed)

    result = build(project, ["--target-path", str(tmp_path / "target")], capture=True, env=env)

    assert result.ok, result.output[-5000:]
    assert result.statuses["error"] == result.statuses["fail"] == 0
    assert result.statuses["success"] > 70 and result.statuses["pass"] > 300  # models and tests ran
    assert "python model int_identity__splink_model" in result.command
    with psycopg.connect(**{**postgres_settings(), "dbname": pg_database}) as pg:
        facts = {name: set(pg.execute(query).fetchall()) for name, query in PARITY.items()}
        # Marks the stored Splink model: a build without --full-refresh must score with it.
        pg.execute("update identity.int_identity__splink_model set trained_on = 'stored'")
    assert_same_as_duckdb(facts, duckdb_facts(built.warehouse))

    again = build(project, ["--target-path", str(tmp_path / "target")], capture=True, env=env)

    assert again.ok, again.output[-5000:]
    with psycopg.connect(**{**postgres_settings(), "dbname": pg_database}) as pg:
        assert pg.execute("select trained_on from identity.int_identity__splink_model").fetchall() == [
            ("stored",)
        ]
        # Splink scored no record again: the state table came back from Postgres and matched.
        scored = pg.execute(
            "select count(*), count(*) filter (where rescored) "
            "from identity.int_identity__probabilistic_pairs__scored_records"
        ).fetchall()
        assert (
            scored == pg.execute("select count(*), 0 from identity.int_identity__person_records").fetchall()
        )
        leftovers = (
            "select count(*) from information_schema.tables where table_name like '%cdp_next__cdp_next'"
        )
        assert pg.execute(leftovers).fetchall() == [(0,)]
        facts = {name: set(pg.execute(query).fetchall()) for name, query in PARITY.items()}
    assert_same_as_duckdb(facts, duckdb_facts(built.warehouse))  # incremental staging: same customers


def test_selecting_models_is_refused_where_cdp_runs_the_python_models() -> None:
    project = Project(PROJECT_ROOT, PROJECT_ROOT / "warehouse" / "unused.duckdb")
    with pytest.raises(CdpError, match="cdp builds the whole project on target 'postgres'"):
        build(project, ["--select", "staging"], env={"CDP_TARGET": "postgres"})


def spark_rows(root: Path, query: str) -> set[tuple]:
    """Rows of ``query`` on the project's local Spark, read in a child process (one metastore user)."""
    completed = subprocess.run(
        [sys.executable, "-m", "cdp.targets", str(root), "spark", query],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    return {tuple(json.loads(line).values()) for line in completed.stdout.splitlines()}


@pytest.mark.spark
def test_the_project_builds_on_spark_with_duckdbs_customers(built: Project, tmp_path: Path) -> None:
    """A copy of the project, so metastore_db/ and spark-warehouse/ live in the test's folder."""
    root = tmp_path / "project"
    root.mkdir()
    for name in ("dbt_project.yml", "profiles.yml"):
        shutil.copy(PROJECT_ROOT / name, root / name)
    for folder in ("macros", "models", "seeds"):
        shutil.copytree(PROJECT_ROOT / folder, root / folder)
    env = {"CDP_TARGET": "spark"}
    publish_raw_in_child(root, "spark", built.warehouse, {**built.dbt_env(), **env})

    result = build(Project(root, built.warehouse), capture=True, env=env)

    assert result.ok, result.output[-5000:]
    assert result.statuses["error"] == result.statuses["fail"] == 0
    assert result.statuses["success"] > 70 and result.statuses["pass"] > 300
    facts = {name: spark_rows(root, query) for name, query in PARITY.items()}
    assert_same_as_duckdb(facts, duckdb_facts(built.warehouse))

    # Again, incremental: the SQL models whose incremental strategies are rewrites on Spark
    # (a whole second build would double the test's 8 minutes).
    incremental = (
        "int_identity__record_identifiers int_identity__identifier_verdicts int_identity__record_nodes"
        " int_identity__edges int_identity__node_clusters customer_id_assignments customer_records"
        " customer_identifiers customer_events"
        " int_customer__golden_attributes segment_membership_history"
    )
    args = ["build", "--select", incremental, "--indirect-selection", "cautious"]
    again = run_dbt(Project(root, built.warehouse), args, capture=True, env=env)

    assert again.ok, again.output[-5000:]
    assert again.statuses["error"] == again.statuses["fail"] == 0 and again.statuses["pass"] > 10
    facts = {name: spark_rows(root, query) for name, query in PARITY.items()}
    assert_same_as_duckdb(facts, duckdb_facts(built.warehouse))

    # Logs are pruned on Spark too, where parquet takes no delete: a row older than the
    # retention (30 days) is gone after the next write, and one horizon row (null keys) says so.
    log = "identity.customer_records__removed"
    spark_rows(
        root,
        f"insert into {log} (source_table, record_id, customer_id, _removed_at)"
        " values ('crm_contacts', 'pruned-away', 'cus_pruned', timestamp '2000-01-01 00:00:00')",
    )
    old_rows = f"select count(*) from {log} where record_id = 'pruned-away'"
    horizons = f"select count(*) from {log} where source_table is null"
    assert spark_rows(root, old_rows) == {(1,)} and spark_rows(root, horizons) == {(0,)}
    pruned = run_dbt(Project(root, built.warehouse), ["run", "-s", "customer_records"], capture=True, env=env)

    assert pruned.ok, pruned.output[-5000:]
    assert spark_rows(root, old_rows) == {(0,)} and spark_rows(root, horizons) == {(1,)}
    assert spark_rows(root, PARITY["records"]) == duckdb_facts(built.warehouse)["records"]
