"""The plan of one sync run, computed in the warehouse: the rows the destination should hold
(source, consent filter, field mapping, row hash) compared with the snapshot of what it holds."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from cdp.errors import SyncError
from cdp.sync.config import DeclaredSync
from cdp.sync.state import STATE
from cdp.warehouse import table_exists

CUSTOMER_360 = "customer.customer_360"


@dataclass(frozen=True)
class PlannedRow:
    key: str
    operation: str  # insert | update | delete: what the diff found (the engine maps it to a RowChange)
    payload: str | None  # JSON of the mapped fields; null for deletes


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def desired_sql(declared: DeclaredSync) -> str:
    """One row per customer the destination should hold: key, payload (JSON), row_hash."""
    sync = declared.sync
    mapped = ", ".join(f"{_literal(field)}, c.{_quote(column)}" for field, column in sync.fields.items())
    join = (
        f"join segments.{_quote('segment__' + sync.source.segment)} s on s.customer_id = c.customer_id"
        if sync.source.segment
        else ""
    )
    return f"""
        select cast(c.{_quote(sync.key)} as varchar) as key, json_object({mapped}) as payload,
               md5(cast(json_object({mapped}) as varchar)) as row_hash
        from {CUSTOMER_360} c {join}
        where c.{_quote("consent_" + sync.purpose)} = 'granted' and c.{_quote(sync.key)} is not null"""


def build_plan(con: duckdb.DuckDBPyConnection, declared: DeclaredSync) -> list[PlannedRow]:
    """Fills the temp table ``sync_plan`` (key, operation, payload, row_hash) and returns its rows
    in key order. insert mode: new keys only; upsert: new and changed; mirror: also deletes."""
    _require_sources(con, declared)
    mode = declared.sync.mode
    changed = "" if mode == "insert" else "or s.row_hash <> d.row_hash"
    deletes = (
        f"""union all
            select s.key, 'delete', null, null from {STATE} s
            where s.sync_name = $name and s.key not in (select key from desired)"""
        if mode == "mirror"
        else ""
    )
    con.execute(
        f"""create or replace temp table sync_plan as
            with desired as ({desired_sql(declared)}),
            state as (select key, row_hash from {STATE} where sync_name = $name)
            select d.key, case when s.key is null then 'insert' else 'update' end as operation,
                   d.payload, d.row_hash
            from desired d left join state s on s.key = d.key
            where s.key is null {changed}
            {deletes}""",
        {"name": declared.name},
    )
    rows = con.execute(
        "select key, operation, cast(payload as varchar) from sync_plan order by key"
    ).fetchall()
    return [PlannedRow(key, operation, payload) for key, operation, payload in rows]


def _require_sources(con: duckdb.DuckDBPyConnection, declared: DeclaredSync) -> None:
    needed = [CUSTOMER_360]
    if declared.sync.source.segment:
        needed.append(f"segments.segment__{declared.sync.source.segment}")
    for relation in needed:
        if not table_exists(con, relation):
            raise SyncError(
                f"sync '{declared.name}': {relation} does not exist in the warehouse: build it first "
                "(`cdp build`; after adding a segment run `cdp segments compile` too)"
            )
