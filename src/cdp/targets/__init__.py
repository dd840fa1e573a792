"""Whole tables in and out of a dbt target from Python, for the steps dbt's adapter cannot do
there: loading raw tables and running Python models on Postgres and Spark.

DuckDB needs none of this (the loader writes it, dbt-duckdb runs Python models in-process).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

import pyarrow as pa

from cdp.errors import CdpError
from cdp.project import postgres_settings

# dbt adapters that run this project's Python models themselves (dbt-duckdb, in-process).
PYTHON_MODEL_TARGETS = frozenset({"duckdb"})
# Targets whose tables cdp reads and writes from Python (profiles.yml names = adapter types).
TABLE_TARGETS = ("postgres", "spark")


class TargetTables(Protocol):
    """Reads query results and writes whole tables on one dbt target."""

    def read(self, sql: str) -> pa.Table:
        """The rows of ``sql`` (written in the target's dialect) as an Arrow table."""
        ...

    def write(self, schema: str, name: str, table: pa.Table) -> None:
        """Replaces ``schema.name`` with ``table`` (schema created if missing)."""
        ...

    def table_names(self, schema: str, prefix: str) -> list[str]:
        """Names of the tables in ``schema`` that start with ``prefix`` (none if no schema)."""
        ...


@contextmanager
def open_target(target: str, project_root: Path, env: dict[str, str] | None = None) -> Iterator[TargetTables]:
    """Tables of the dbt ``target`` (postgres or spark) that profiles.yml describes."""
    if target == "postgres":
        from cdp.targets.postgres import PostgresTables

        with PostgresTables.connect(postgres_settings(env)) as tables:
            yield tables
    elif target == "spark":
        from cdp.targets.spark import SparkTables

        with SparkTables.start(project_root) as tables:
            yield tables
    else:
        raise CdpError(
            f"cdp cannot read or write tables of target {target!r} from Python: "
            f"supported are {', '.join(TABLE_TARGETS)} (and duckdb, natively)"
        )
