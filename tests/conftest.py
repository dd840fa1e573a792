"""Shared fixtures: a small generated landing folder and a warehouse built from it by dbt."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from pytest_httpserver import HTTPServer

from cdp.dbt_runner import run_dbt
from cdp.generate import GenerationResult, generate
from cdp.load import load_landing
from cdp.project import Project, postgres_settings
from cdp.source_config import raw_tables

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SAMPLE_PEOPLE = 1_500
SAMPLE_SEED = 7


@pytest.fixture(scope="session")
def project_root() -> Path:
    return PROJECT_ROOT


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
