"""The engine's tables in the warehouse (schema ``activation``): what each destination holds
(sync_state), every run (sync_runs) and every row a destination refused (sync_dead_letters)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from cdp.warehouse import table_exists

SCHEMA = "activation"
STATE = f"{SCHEMA}.sync_state"
RUNS = f"{SCHEMA}.sync_runs"
DEAD_LETTERS = f"{SCHEMA}.sync_dead_letters"

_DDL = (
    f"create schema if not exists {SCHEMA}",
    f"""create table if not exists {STATE} (
        sync_name varchar not null, key varchar not null, row_hash varchar not null,
        payload json not null, synced_at timestamp not null, primary key (sync_name, key))""",
    f"""create table if not exists {RUNS} (
        run_id varchar primary key, sync_name varchar not null, mode varchar not null,
        started_at timestamp not null, finished_at timestamp not null, status varchar not null,
        rows_planned bigint not null, inserts bigint not null, updates bigint not null,
        deletes bigint not null, rows_acknowledged bigint not null, rows_rejected bigint not null,
        error_sample varchar)""",
    f"""create table if not exists {DEAD_LETTERS} (
        run_id varchar not null, sync_name varchar not null, key varchar not null,
        operation varchar not null, reason varchar not null, failed_at timestamp not null)""",
)


@dataclass
class SyncRun:
    run_id: str
    sync_name: str
    mode: str
    started_at: datetime
    finished_at: datetime | None = None
    status: str = "failed"  # success | partial | failed | dry_run
    rows_planned: int = 0
    inserts: int = 0
    updates: int = 0
    deletes: int = 0
    rows_acknowledged: int = 0
    rows_rejected: int = 0
    error_sample: str | None = None
    first_keys: list[str] = field(default_factory=list)  # of the plan, for dry runs; not stored

    def to_dict(self) -> dict[str, object]:
        row = asdict(self)
        for name in ("started_at", "finished_at"):
            row[name] = row[name].isoformat() if row[name] else None
        return row


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    for statement in _DDL:
        con.execute(statement)


def record_batch(
    con: duckdb.DuckDBPyConnection,
    run: SyncRun,
    acknowledged: Sequence[str],
    rejected: Mapping[str, str],
    operations: Mapping[str, str],
) -> None:
    """In one transaction: acknowledged upserts take their planned hash and payload from the
    plan table, acknowledged deletes leave the snapshot, rejected rows become dead letters."""
    con.execute("begin transaction")
    try:
        con.execute(
            f"delete from {STATE} where sync_name = ? and key in (select unnest(?::varchar[]))",
            [run.sync_name, list(acknowledged)],
        )
        con.execute(
            f"""insert into {STATE} select ?, key, row_hash, payload, now()::timestamp from sync_plan
                where operation <> 'delete' and key in (select unnest(?::varchar[]))""",
            [run.sync_name, list(acknowledged)],
        )
        if rejected:
            con.executemany(
                f"insert into {DEAD_LETTERS} values (?, ?, ?, ?, ?, now()::timestamp)",
                [
                    [run.run_id, run.sync_name, key, operations[key], reason]
                    for key, reason in rejected.items()
                ],
            )
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


def record_run(con: duckdb.DuckDBPyConnection, run: SyncRun) -> None:
    row = run.to_dict()
    del row["first_keys"]
    marks = ", ".join("?" for _ in row)
    con.execute(f"insert into {RUNS} ({', '.join(row)}) values ({marks})", list(row.values()))


def last_runs(warehouse: Path) -> dict[str, tuple[datetime, str]]:
    """sync name -> (finished_at, status) of its latest run (none before the first run)."""
    if not warehouse.exists():
        return {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        if not table_exists(con, RUNS):
            return {}
        rows = con.execute(
            f"select sync_name, max(finished_at), arg_max(status, finished_at) from {RUNS} group by 1"
        ).fetchall()
    return {name: (finished, status) for name, finished, status in rows}
