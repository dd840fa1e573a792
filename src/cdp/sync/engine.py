"""Runs a sync: plan in the warehouse, send the changes batch by batch, record what the
destination acknowledged after each batch, so a run that stops loses nothing."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from cdp.activation import DEFAULT_EXPORT_DIR
from cdp.errors import SyncError
from cdp.project import Project, dbt_target
from cdp.sync.changes import Destination, DestinationUnavailable, RowChange
from cdp.sync.config import DeclaredSync, load_syncs
from cdp.sync.destinations import DESTINATION_TYPES
from cdp.sync.destinations.file import FileConfig
from cdp.sync.diff import PlannedRow, build_plan
from cdp.sync.state import SyncRun, ensure_tables, record_batch, record_run

PLAN_SAMPLE = 10  # keys a dry run shows
DestinationFactory = Callable[[DeclaredSync], Destination]


def make_destination(declared: DeclaredSync) -> Destination:
    kind = declared.sync.destination["type"]
    return DESTINATION_TYPES[kind].factory(declared.destination, declared.name)


def find_sync(root: Path, name: str) -> DeclaredSync:
    syncs = {declared.name: declared for declared in load_syncs(root)}
    if name not in syncs:
        known = ", ".join(syncs) or "none: add one to syncs/*.yml"
        raise SyncError(f"unknown sync '{name}' (declared: {known})")
    return syncs[name]


def run_sync(
    project: Project,
    declared: DeclaredSync,
    dry_run: bool = False,
    destination_factory: DestinationFactory = make_destination,
) -> SyncRun:
    """One run of ``declared``, appended to activation.sync_runs whatever its outcome."""
    target = dbt_target()
    if target != "duckdb":
        raise SyncError(
            f"syncs diff in the DuckDB warehouse only, but CDP_TARGET={target}: "
            "unset CDP_TARGET to run them on DuckDB"
        )
    if not project.warehouse.exists():
        raise SyncError(f"{project.warehouse} does not exist: build the warehouse first (`cdp build`)")
    run = SyncRun(uuid.uuid4().hex, declared.name, declared.sync.mode, _now())
    with duckdb.connect(str(project.warehouse)) as con:
        ensure_tables(con)
        plan = build_plan(con, declared)
        _count(run, plan)
        try:
            if dry_run:
                run.status = "dry_run"
            elif plan:
                _send(con, run, plan, destination_factory(declared), declared.key_field)
            else:
                run.status = "success"
        except Exception as exc:  # a bug or a setting error: still in the history, then raised
            run.status = "partial" if run.rows_acknowledged else "failed"
            run.error_sample = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            run.finished_at = _now()
            record_run(con, run)
    return run


def _send(
    con: duckdb.DuckDBPyConnection,
    run: SyncRun,
    plan: list[PlannedRow],
    destination: Destination,
    key_field: str,
) -> None:
    try:
        for start in range(0, len(plan), destination.batch_size):
            batch = [
                _change(row, run.mode, key_field) for row in plan[start : start + destination.batch_size]
            ]
            try:
                outcome = destination.apply(batch)
            except DestinationUnavailable as exc:
                run.status = "partial" if run.rows_acknowledged else "failed"
                run.error_sample = str(exc)
                return
            operations = {change.key: change.operation for change in batch}
            # Only keys of this batch count: a confused destination cannot ack rows it was not sent.
            acknowledged = [key for key in outcome.acknowledged if key in operations]
            rejected = {key: reason for key, reason in outcome.rejected.items() if key in operations}
            record_batch(con, run, acknowledged, rejected, operations)
            run.rows_acknowledged += len(acknowledged)
            run.rows_rejected += len(rejected)
            if rejected and run.error_sample is None:
                key, reason = next(iter(rejected.items()))
                run.error_sample = f"{key}: {reason}"
        run.status = "success" if run.rows_acknowledged == len(plan) else "partial"
    finally:
        destination.close()


def _change(row: PlannedRow, mode: str, key_field: str) -> RowChange:
    if row.operation == "delete":  # only the key: a deleted person's other data never leaves
        return RowChange(row.key, "delete", {key_field: row.key})
    payload = json.loads(row.payload or "{}")
    return RowChange(row.key, "insert" if mode == "insert" else "upsert", payload)


def _count(run: SyncRun, plan: list[PlannedRow]) -> None:
    run.rows_planned = len(plan)
    run.inserts = sum(row.operation == "insert" for row in plan)
    run.updates = sum(row.operation == "update" for row in plan)
    run.deletes = sum(row.operation == "delete" for row in plan)
    run.first_keys = [row.key for row in plan[:PLAN_SAMPLE]]


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def relocate_exports(declared: DeclaredSync, root: Path, exports: Path) -> DeclaredSync:
    """``declared`` with a file destination under data/exports moved to ``exports`` (Dagster's
    $CDP_EXPORT_DIR), so a private export folder keeps sync files with the segment files."""
    config = declared.destination
    default = root / DEFAULT_EXPORT_DIR
    if not isinstance(config, FileConfig) or not config.path.is_relative_to(default):
        return declared
    moved = config.model_copy(update={"path": exports / config.path.relative_to(default)})
    return replace(declared, destination=moved)
