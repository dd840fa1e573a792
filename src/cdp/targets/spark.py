"""Arrow tables in and out of the local Spark that dbt-spark's `session` method uses.

The session is built as dbt-spark builds it (Hive support, metastore_db/ and
spark-warehouse/ in the project folder) so both see the same tables. The embedded Derby
metastore admits one JVM at a time: use this in a process that is not running dbt.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa
import yaml

from cdp.errors import CdpError


def spark_parameters(project_root: Path) -> dict[str, str]:
    """server_side_parameters of profiles.yml's spark target: the session settings dbt uses."""
    profiles = yaml.safe_load((project_root / "profiles.yml").read_text())
    output = profiles["cdp"]["outputs"].get("spark")
    if output is None:
        raise CdpError(f"{project_root / 'profiles.yml'} has no `spark` output under cdp.outputs")
    return {str(key): str(value) for key, value in (output.get("server_side_parameters") or {}).items()}


class SparkTables:
    def __init__(self, session: object) -> None:
        self.session = session

    @classmethod
    @contextmanager
    def start(cls, project_root: Path) -> Iterator[SparkTables]:
        try:
            from pyspark.sql import SparkSession
        except ImportError as exc:
            raise CdpError("the spark target needs pyspark: install warehouse-cdp[spark]") from exc
        previous = Path.cwd()
        os.chdir(project_root)  # metastore_db/ and spark-warehouse/ are relative, as for dbt
        try:
            builder = SparkSession.builder.enableHiveSupport()
            for key, value in spark_parameters(project_root).items():
                builder = builder.config(key, value)
            session = builder.config("spark.ui.showConsoleProgress", "false").getOrCreate()
            session.sparkContext.setLogLevel("ERROR")
            try:
                yield cls(session)
            finally:
                session.stop()
        finally:
            os.chdir(previous)

    def read(self, query: str) -> pa.Table:
        return self.session.sql(query).toArrow()  # type: ignore[attr-defined]

    def table_names(self, schema: str, prefix: str) -> list[str]:
        if not self.session.catalog.databaseExists(schema):  # type: ignore[attr-defined]
            return []
        tables = self.session.catalog.listTables(schema)  # type: ignore[attr-defined]
        return sorted(table.name for table in tables if table.name.startswith(prefix))

    def write(self, schema: str, name: str, table: pa.Table) -> None:
        if not self.session.catalog.databaseExists(schema):  # type: ignore[attr-defined]
            self.session.sql(f"create database `{schema}`")  # type: ignore[attr-defined]
        frame = self.session.createDataFrame(table)  # type: ignore[attr-defined]
        frame.write.mode("overwrite").saveAsTable(f"`{schema}`.`{name}`")
