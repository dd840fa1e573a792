"""Raw tables from the local DuckDB landing warehouse to another dbt target.

The loader (cdp.load) lands files in DuckDB on every target: it checks columns, records
lineage and withholds erased people there. On Postgres or Spark the loaded raw schema is then
copied table by table, so dbt's sources read the same rows on every engine.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb

from cdp.errors import CdpError
from cdp.targets import open_target

RAW_SCHEMA = "raw"


def raw_tables(warehouse: Path) -> list[str]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "select table_name from information_schema.tables where table_schema = ? order by table_name",
            [RAW_SCHEMA],
        ).fetchall()
    return [name for (name,) in rows]


def publish_raw(project_root: Path, target: str, warehouse: Path) -> dict[str, int]:
    """Copies every table of schema raw in ``warehouse`` to ``target``; rows per table."""
    names = raw_tables(warehouse)
    if not names:
        raise CdpError(f"{warehouse} has no tables in schema {RAW_SCHEMA}: run `cdp load` first")
    copied = {}
    with open_target(target, project_root) as tables, duckdb.connect(str(warehouse), read_only=True) as con:
        for name in names:
            table = con.sql(f'select * from {RAW_SCHEMA}."{name}"').to_arrow_table()
            tables.write(RAW_SCHEMA, name, table)
            copied[name] = table.num_rows
    return copied


def publish_raw_in_child(project_root: Path, target: str, warehouse: Path, env: dict[str, str]) -> str:
    """publish_raw in a process of its own (Spark's metastore admits one process at a time)."""
    command = [sys.executable, "-m", "cdp.targets.publish", str(project_root), target, str(warehouse)]
    completed = subprocess.run(
        command, cwd=project_root, env=env, capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        raise CdpError(f"copying raw tables to {target} failed:\n{completed.stderr[-3000:]}")
    return completed.stdout


def main(argv: list[str]) -> int:
    root, target, warehouse = argv
    for name, rows in publish_raw(Path(root), target, Path(warehouse)).items():
        print(f"{RAW_SCHEMA}.{name}: {rows:,} rows -> {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
