"""Shared fixtures: a small generated landing folder and a warehouse built from it by dbt."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pytest_httpserver import HTTPServer

from cdp.dbt_runner import run_dbt
from cdp.generate import GenerationResult, generate
from cdp.generate.run import sample_as_of_env
from cdp.load import load_landing
from cdp.project import Project, postgres_settings
from cdp.source_config import raw_tables

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SAMPLE_PEOPLE = 1_500
SAMPLE_SEED = 7
FIRST_SHARE = 0.7  # the first delivery holds this share of every file's rows; the rest come later


@pytest.fixture(scope="session")
def project_root() -> Path:
    return PROJECT_ROOT


@pytest.fixture(scope="session", autouse=True)
def sample_as_of() -> Iterator[None]:
    """Every dbt run scores as of the sample's date (CDP_AS_OF), not the day the suite runs:
    the sample's last purchases are as of DEFAULT_AS_OF, and a month later the BG/NBD fit on
    it no longer converged (1-2 December 2026)."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in sample_as_of_env().items():
            patch.setenv(name, value)
        yield


@pytest.fixture(scope="session")
def sample(tmp_path_factory: pytest.TempPathFactory) -> GenerationResult:
    """Raw files for SAMPLE_PEOPLE people, generated once per test session."""
    return generate(tmp_path_factory.mktemp("landing"), SAMPLE_PEOPLE, SAMPLE_SEED)


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory, sample: GenerationResult) -> Project:
    """A DuckDB warehouse with the sample loaded and `dbt build` passed on it."""
    project = Project(PROJECT_ROOT, tmp_path_factory.mktemp("warehouse") / "cdp.duckdb")
    load_landing(sample.out_dir, project.warehouse, raw_tables(PROJECT_ROOT))
    result = run_dbt(project, ["build"], quiet=True)
    assert result.ok, f"dbt build failed on the sample: {dict(result.statuses)}"
    return project


@dataclass
class Deliveries:
    first: Path
    second: Path


@pytest.fixture(scope="session")
def deliveries(sample: GenerationResult, tmp_path_factory: pytest.TempPathFactory) -> Deliveries:
    """The sample split in two deliveries: the first 70% of each file's rows, then the rest as
    files of their own. Later versions, duplicates, and orders of lines already landed arrive
    in the second."""
    root = tmp_path_factory.mktemp("deliveries")
    split = Deliveries(root / "first", root / "second")
    for path in sorted(sample.out_dir.glob("*/*.parquet")):
        if path.parent.name.startswith("_"):
            continue
        rows = pq.read_table(path)
        cut = int(rows.num_rows * FIRST_SHARE)
        for folder, part, name in (
            (split.first, rows.slice(0, cut), path.name),
            (split.second, rows.slice(cut), f"later-{path.name}"),
        ):
            (folder / path.parent.name).mkdir(parents=True, exist_ok=True)
            pq.write_table(part, folder / path.parent.name / name)
    redeliver(split, "crm_contacts", {"city": "Redelivered"})  # new versions of contacts
    redeliver(split, "shop_customers", {})  # the same accounts again
    return split


def redeliver(split: Deliveries, table: str, changes: dict[str, str]) -> None:
    """Adds to the second delivery 20 rows of the first, with ``changes``: the newer load wins,
    so rows staged after the first delivery become superseded or duplicates."""
    rows = pq.read_table(sorted((split.first / table).glob("*.parquet"))[0]).slice(0, 20)
    for column, value in changes.items():
        rows = rows.set_column(rows.schema.get_field_index(column), column, pa.array([value] * rows.num_rows))
    pq.write_table(rows, split.second / table / "later-redelivery.parquet")


def compile_inline(sql: str, warehouse: Path, dbt_vars: dict | None = None) -> str:
    """SQL with the project's macros expanded by `dbt compile --inline` (with ``dbt_vars``
    passed as --vars)."""
    vars_args = ["--vars", json.dumps(dbt_vars)] if dbt_vars else []
    result = run_dbt(
        Project(PROJECT_ROOT, warehouse),
        ["--quiet", "compile", "--inline", sql, "--output", "json", *vars_args],
        capture=True,
    )
    assert result.ok, result.output
    return json.loads(result.output)["compiled"]


def postgres_or_skip(untested: str) -> psycopg.Connection:
    """An autocommit connection to the test PostgreSQL (CDP_PG_*, default postgres@127.0.0.1:5432/test).
    Unreachable: the test is skipped with a reason ending in ``untested`` (what goes untested),
    or fails when $CI is set, where Postgres must be there."""
    settings = postgres_settings()
    where = f"{settings['host']}:{settings['port']}"
    try:
        return psycopg.connect(**settings, autocommit=True)
    except psycopg.OperationalError as exc:
        if os.environ.get("CI"):
            raise AssertionError(f"CI is set but PostgreSQL at {where} is unreachable: {exc}") from exc
        pytest.skip(f"PostgreSQL at {where} is unreachable: {untested}")


@pytest.fixture
def threaded_httpserver() -> Iterator[HTTPServer]:
    """A server that answers requests in parallel: the resend after a timeout must not queue
    behind the still-sleeping first request (which would time out the resend too)."""
    server = HTTPServer(threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()
