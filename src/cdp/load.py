"""Lands Parquet files as raw source tables in the DuckDB warehouse.

Layout: ``<landing>/<raw table identifier>/*.parquet``. Every row gets lineage columns
(``_source_file``, ``_source_row``, ``_loaded_at``). Loading is idempotent per file content:
a file whose SHA-256 is in ``raw._load_log`` is skipped, so re-running a load adds nothing.
Rows of people erased with ``cdp erase`` are withheld (cdp.privacy.tombstones explains how)
and counted per file in ``privacy.withheld_rows``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from cdp.errors import LoadError
from cdp.privacy.normalize import project_normalizer
from cdp.privacy.tombstones import has_tombstones, matches_sql, record_withheld, register_functions
from cdp.source_config import RAW_SCHEMA, RawTable

LOAD_LOG = f"{RAW_SCHEMA}._load_log"


@dataclass
class FileLoad:
    table: str
    file: Path
    rows: int
    skipped: bool  # already loaded before
    withheld: int = 0  # rows of erased people not loaded (privacy.withheld_rows)


@dataclass
class LoadReport:
    files: list[FileLoad] = field(default_factory=list)

    @property
    def rows_loaded(self) -> int:
        return sum(f.rows for f in self.files if not f.skipped)

    @property
    def rows_withheld(self) -> int:
        return sum(f.withheld for f in self.files)

    @property
    def files_skipped(self) -> int:
        return sum(f.skipped for f in self.files)


def landing_files(landing_dir: Path, tables: dict[str, RawTable]) -> list[tuple[RawTable, Path]]:
    """The Parquet files to load, per declared table; errors on anything unexpected."""
    if not landing_dir.is_dir():
        raise LoadError(
            f"landing folder {landing_dir} does not exist "
            "(create it with `cdp generate --out DIR` or point to your exports)"
        )
    found: list[tuple[RawTable, Path]] = []
    for folder in sorted(p for p in landing_dir.iterdir() if p.is_dir()):
        if folder.name.startswith(("_", ".")):  # ground truth and other side files
            continue
        if folder.name not in tables:
            raise LoadError(
                f"{folder}: no raw table '{folder.name}' is declared; known tables: "
                f"{', '.join(sorted(tables))} (declare new ones in a _sources.yml)"
            )
        files = sorted(folder.glob("*.parquet"))
        others = sorted(p.name for p in folder.iterdir() if p.is_file() and p.suffix != ".parquet")
        if others:
            raise LoadError(f"{folder}: only .parquet files can be loaded, found {', '.join(others)}")
        found += [(tables[folder.name], f) for f in files]
    if not found:
        raise LoadError(
            f"{landing_dir}: no .parquet files under <table>/ folders "
            f"(expected e.g. {landing_dir / next(iter(sorted(tables)))}/part-00000.parquet)"
        )
    return found


def load_landing(
    landing_dir: Path,
    warehouse: Path,
    tables: dict[str, RawTable],
    on_file: Callable[[FileLoad], None] | None = None,
) -> LoadReport:
    """Load every new landing file; each file in one transaction, so a failure loads none of it."""
    files = landing_files(landing_dir, tables)
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    report = LoadReport()
    with duckdb.connect(str(warehouse)) as con:
        _ensure_log(con)
        screening = has_tombstones(con)
        if screening:
            register_functions(con, project_normalizer(_project_root(files[0][0])))
        for table, path in files:
            result = _load_file(con, table, path, screening)
            report.files.append(result)
            if on_file:
                on_file(result)
    return report


def _project_root(table: RawTable) -> Path:
    """The dbt project declaring ``table`` (its vars say how staging normalises values)."""
    for folder in table.declared_in.resolve().parents:
        if (folder / "dbt_project.yml").is_file():
            return folder
    raise LoadError(f"{table.declared_in}: no dbt_project.yml above it to read normalisation settings from")


def _ensure_log(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"create schema if not exists {RAW_SCHEMA}")
    con.execute(f"""create table if not exists {LOAD_LOG} (
        sha256 varchar not null, raw_table varchar not null, file_path varchar not null,
        rows bigint not null, loaded_at timestamp not null, primary key (raw_table, sha256))""")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _file_columns(con: duckdb.DuckDBPyConnection, path: Path) -> list[str]:
    try:
        return [
            row[0]
            for row in con.execute(
                "select name from parquet_schema(?) where num_children is null", [str(path)]
            ).fetchall()
        ]
    except duckdb.Error as exc:
        raise LoadError(
            f"{path}: not a readable Parquet file ({exc.__class__.__name__}: {str(exc).splitlines()[0]})"
        ) from exc


def _check_columns(table: RawTable, path: Path, columns: list[str]) -> None:
    missing = [c for c in table.columns if c not in columns]
    extra = [c for c in columns if c not in table.columns]
    if missing:
        raise LoadError(
            f"{path}: missing column(s) {', '.join(missing)} of raw table "
            f"'{table.identifier}' (declared in {table.declared_in})"
        )
    if extra:
        raise LoadError(
            f"{path}: column(s) {', '.join(extra)} are not declared for raw table "
            f"'{table.identifier}'; add them to {table.declared_in} to load them"
        )


def _load_file(con: duckdb.DuckDBPyConnection, table: RawTable, path: Path, screening: bool) -> FileLoad:
    sha = _sha256(path)
    seen = con.execute(
        f"select rows from {LOAD_LOG} where raw_table = ? and sha256 = ?", [table.identifier, sha]
    ).fetchone()
    if seen:
        return FileLoad(table.identifier, path, seen[0], skipped=True)
    _check_columns(table, path, _file_columns(con, path))
    target = f"{RAW_SCHEMA}.{table.identifier}"
    columns = ", ".join(f'"{c}"' for c in table.columns)
    casts = ", ".join(f'cast("{c}" as varchar) as "{c}"' for c in table.columns)
    source_file = f"{table.identifier}/{path.name}@{sha[:16]}"  # unique per file content
    loaded_at = datetime.now(UTC).replace(tzinfo=None)
    erased = matches_sql(table.identifier, "f") if screening else "false"
    con.execute("begin transaction")
    try:
        con.execute(f"""create table if not exists {target} (
            {", ".join(f'"{c}" varchar' for c in table.columns)},
            _source_file varchar not null, _source_row bigint not null, _loaded_at timestamp not null)""")
        rows = con.execute(
            f"""insert into {target} ({columns}, _source_file, _source_row, _loaded_at)
                select {casts}, ?, file_row_number, ?
                from read_parquet(?, file_row_number = true) f
                where not {erased}""",
            [source_file, loaded_at, str(path)],
        ).fetchone()[0]
        withheld = _withheld(con, table, path, sha, rows) if screening else 0
        con.execute(
            f"insert into {LOAD_LOG} values (?, ?, ?, ?, ?)",
            [sha, table.identifier, str(path), rows, loaded_at],
        )
        con.execute("commit")
    except duckdb.Error as exc:
        con.execute("rollback")
        raise LoadError(
            f"{path}: loading into {target} failed, nothing of it was loaded: {str(exc).splitlines()[0]}"
        ) from exc
    return FileLoad(table.identifier, path, rows, skipped=False, withheld=withheld)


def _withheld(con: duckdb.DuckDBPyConnection, table: RawTable, path: Path, sha: str, loaded: int) -> int:
    """Rows of the file not loaded because they match an erasure tombstone; recorded (a count,
    no values) so nothing goes missing silently."""
    total = con.execute("select count(*) from read_parquet(?)", [str(path)]).fetchall()[0][0]
    if total > loaded:
        record_withheld(con, table.identifier, sha, str(path), total - loaded)
    return total - loaded
