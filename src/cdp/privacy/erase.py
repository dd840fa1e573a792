"""An erasure request end to end (``cdp erase``): resolve the subject, record the request,
tombstone what identifies them, delete their raw rows, rebuild what dbt builds, then remove
them from what a rebuild keeps (append-only logs, incremental state, sync snapshots).

Order matters: raw rows and tombstones go in one transaction before the build, so a crash
leaves either nothing done or a state a rerun of the build finishes; the build then drops
the person from every table and view dbt rebuilds; only then are the logs the build appends
to cleaned, so the build cannot write the person back into them.

The request trail (``privacy.erasure_requests``) never holds the plaintext subject or the
customer ids: only their SHA-256, so a regulator can verify a given id was erased.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb

from cdp.dbt_runner import run_dbt
from cdp.errors import ErasureError, SubjectNotFound
from cdp.privacy.normalize import Normalizer, project_normalizer
from cdp.privacy.subject import IN_LIST, Subject, SubjectRef, resolve
from cdp.privacy.tombstones import (
    IDENTIFIER_KINDS,
    MATCHERS,
    SCHEMA,
    add_tombstones,
    ensure_tables,
    matches_sql,
    register_functions,
    sha256_text,
)
from cdp.project import Project, dbt_target
from cdp.sync.config import load_syncs
from cdp.sync.state import DEAD_LETTERS, STATE
from cdp.warehouse import table_exists

REQUESTS = f"{SCHEMA}.erasure_requests"
CUSTOMER_360 = "customer.customer_360"

# Tables a `dbt build` keeps rows in (incremental models, their run state, append-only logs):
# rows with any text column equal to one of the subject's ids, keys or values are deleted.
KEPT_BY_BUILD = (
    "identity.customer_id_assignments",
    "identity.customer_id_history",
    # the removal logs: a full refresh drops them; in case one is left
    "identity.customer_records__removed",
    "identity.customer_identifiers__removed",
    "identity.int_identity__record_identifiers__removed",
    "identity.int_identity__probabilistic_pairs__removed",
    "identity.int_identity__same_person_groups__reclustered",
    "identity.int_identity__components__reclustered",
    "identity.int_identity__node_clusters",
    "identity.int_identity__components",
    "identity.int_identity__components__edges",
    "identity.int_identity__capped_components",
    "identity.int_identity__capped_components__edges",
    "identity.int_identity__same_person_groups",
    "identity.int_identity__same_person_groups__edges",
    "segments.segment_membership_history",
)
# Audit tables whose rows stay (they describe runs, not people): values in text are redacted.
REDACTED = ("quality.validation_results", "activation.sync_runs")
REDACTION = "[erased]"

_REQUESTS_DDL = f"""create table if not exists {REQUESTS} (
    request_id varchar primary key, requested_at timestamp not null, subject_type varchar not null,
    subject_sha256 varchar not null, customer_ids_sha256 varchar[] not null, status varchar not null,
    completed_at timestamp, rows_removed json, syncs_not_deleted varchar[], reason varchar)"""


@dataclass
class ErasureResult:
    request_id: str
    status: str  # completed | not_found | ambiguous | build_failed
    customer_ids: list[str] = field(default_factory=list)  # returned to the caller, never stored
    rows_removed: dict[str, int] = field(default_factory=dict)
    tombstones_added: int = 0
    syncs_not_deleted: list[str] = field(default_factory=list)  # upsert/insert syncs: downstream keeps them

    def summary(self) -> str:
        removed = sum(self.rows_removed.values())
        tables = sum(1 for n in self.rows_removed.values() if n)
        line = (
            f"erasure {self.request_id}: {self.status}, {len(self.customer_ids)} customer(s), "
            f"{removed:,} rows removed from {tables} table(s), {self.tombstones_added} tombstone(s)"
        )
        if self.syncs_not_deleted:
            line += f"; not deleted downstream by non-mirror sync(s): {', '.join(self.syncs_not_deleted)}"
        return line


def erase(project: Project, ref: SubjectRef, reason: str | None = None) -> ErasureResult:
    """Erases the person ``ref`` names; raises SubjectNotFound (after recording the request)."""
    target = dbt_target()
    if target != "duckdb":  # the raw deletes and log clean-up below speak DuckDB
        raise ErasureError(f"erasure runs on the DuckDB warehouse only, but CDP_TARGET={target}")
    if not project.warehouse.exists():
        raise ErasureError(f"{project.warehouse} does not exist: nothing to erase from")
    normalizer = project_normalizer(project.root)
    result = ErasureResult(uuid.uuid4().hex, "in_progress")
    with duckdb.connect(str(project.warehouse)) as con:
        ensure_tables(con)
        con.execute(_REQUESTS_DDL)
        subject = _resolve_or_record(con, ref, normalizer, result, reason)
        sync_keys = _sync_keys(con, project, subject)
        _record_request(con, ref, normalizer, result, reason, subject)
        register_functions(con, normalizer)
        _remove_raw(con, subject, result)
    # --full-refresh: incremental staging only adds raw rows, so it would keep the deleted ones
    # (and refuses to run once rows are gone); the models dbt must never refresh keep theirs.
    build = run_dbt(project, ["build", "--full-refresh"], quiet=True)
    with duckdb.connect(str(project.warehouse)) as con:
        if not build.ok:
            result.status = "build_failed"
            _finish(con, result)
            raise ErasureError(
                f"erasure {result.request_id}: raw rows removed and tombstoned, but `dbt build` failed "
                f"({dict(build.statuses)}): fix it and run `cdp build --full-refresh`, then `cdp erase` again"
            )
        tokens = _tokens(subject, sync_keys)
        for table in KEPT_BY_BUILD:
            result.rows_removed[table] = _delete_matching(con, table, tokens)
        for table in REDACTED:
            result.rows_removed[table + " (redacted)"] = _redact(con, table, tokens)
        _scrub_sync_state(con, project, sync_keys, subject.customer_ids, result)
        result.status = "completed"
        _finish(con, result)
        con.execute("checkpoint")  # write the deletions into the database file now, not at some later close
    return result


def _resolve_or_record(
    con: duckdb.DuckDBPyConnection,
    ref: SubjectRef,
    normalizer: Normalizer,
    result: ErasureResult,
    reason: str | None,
) -> Subject:
    """The subject; an unknown or ambiguous one is still recorded (the request trail is kept)."""
    if not table_exists(con, "identity.customer_records"):
        raise ErasureError(
            "identity.customer_records does not exist: build the warehouse first (`cdp build`)"
        )
    try:
        return resolve(con, ref, normalizer)
    except ErasureError as exc:
        result.status = "not_found" if isinstance(exc, SubjectNotFound) else "ambiguous"
        _record_request(con, ref, normalizer, result, reason, Subject([]))
        _finish(con, result)
        raise type(exc)(f"{exc} (request {result.request_id} recorded as {result.status})") from exc


def _record_request(
    con: duckdb.DuckDBPyConnection,
    ref: SubjectRef,
    normalizer: Normalizer,
    result: ErasureResult,
    reason: str | None,
    subject: Subject,
) -> None:
    result.customer_ids = subject.customer_ids
    con.execute(
        f"""insert into {REQUESTS} (request_id, requested_at, subject_type, subject_sha256,
                customer_ids_sha256, status, reason) values (?, ?, ?, ?, ?, ?, ?)""",
        [
            result.request_id,
            _now(),
            ref.subject_type,
            ref.sha256(normalizer),
            [sha256_text(i) for i in subject.customer_ids],
            result.status,
            reason,
        ],
    )


def _finish(con: duckdb.DuckDBPyConnection, result: ErasureResult) -> None:
    con.execute(
        f"""update {REQUESTS} set status = ?, completed_at = ?, rows_removed = ?, syncs_not_deleted = ?
            where request_id = ?""",
        [result.status, _now(), json.dumps(result.rows_removed), result.syncs_not_deleted, result.request_id],
    )


def _tombstone_entries(subject: Subject) -> list[tuple[str, str]]:
    entries = [(f"record:{table}", record_id) for table, record_id in subject.records]
    entries += [
        (IDENTIFIER_KINDS[kind], value) for kind, value, _ in subject.identifiers if kind in IDENTIFIER_KINDS
    ]
    if subject.email:
        entries.append(("email", subject.email))
    return entries


def _remove_raw(con: duckdb.DuckDBPyConnection, subject: Subject, result: ErasureResult) -> None:
    """Tombstones, then every raw row matching one (by record key, email, phone...), atomically."""
    con.execute("begin transaction")
    try:
        result.tombstones_added = add_tombstones(con, result.request_id, _tombstone_entries(subject))
        for raw_table in MATCHERS:
            table = f"raw.{raw_table}"
            if table_exists(con, table):
                removed = con.execute(f"delete from {table} f where {matches_sql(raw_table, 'f')}")
                result.rows_removed[table] = removed.fetchall()[0][0]
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


def _sync_keys(con: duckdb.DuckDBPyConnection, project: Project, subject: Subject) -> dict[str, set[str]]:
    """Per declared sync, the subject's key values (read from customer_360 before the rebuild
    drops them), so their snapshot rows can be found afterwards."""
    keys: dict[str, set[str]] = {}
    if not subject.customer_ids or not table_exists(con, CUSTOMER_360):
        return keys
    for declared in load_syncs(project.root):
        column = declared.sync.key.replace('"', '""')
        rows = con.execute(
            f'select distinct cast("{column}" as varchar) from {CUSTOMER_360} where customer_id {IN_LIST}',
            [subject.customer_ids],
        ).fetchall()
        keys[declared.name] = {row[0] for row in rows if row[0] is not None}
    return keys


def _tokens(subject: Subject, sync_keys: dict[str, set[str]]) -> list[str]:
    """Every value that identifies the subject in a text column: ids, record keys, graph node keys."""
    tokens = set(subject.customer_ids)
    for table, record_id in subject.records:
        tokens |= {record_id, f"record:{table}:{record_id}"}
    for _, value, key in subject.identifiers:
        tokens |= {value, key}
    if subject.email:
        tokens.add(subject.email)
    for keys in sync_keys.values():
        tokens |= keys
    return sorted(tokens)


def _text_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    schema, name = table.split(".")
    return [
        row[0]
        for row in con.execute(
            """select column_name from information_schema.columns
               where table_schema = ? and table_name = ? and data_type in ('VARCHAR', 'JSON')""",
            [schema, name],
        ).fetchall()
    ]


def _delete_matching(con: duckdb.DuckDBPyConnection, table: str, tokens: list[str]) -> int:
    if not table_exists(con, table):
        return 0
    columns = _text_columns(con, table)
    if not columns:
        return 0
    condition = " or ".join(f'cast("{c}" as varchar) in (select unnest($tokens))' for c in columns)
    return con.execute(f"delete from {table} where {condition}", {"tokens": tokens}).fetchall()[0][0]


def _redact(con: duckdb.DuckDBPyConnection, table: str, tokens: list[str]) -> int:
    """Replaces the subject's values inside text columns; returns how many rows changed."""
    if not table_exists(con, table):
        return 0
    changed = 0
    for column in _text_columns(con, table):
        for token in tokens:
            changed += con.execute(
                f'update {table} set "{column}" = replace("{column}", ?, ?) where contains("{column}", ?)',
                [token, REDACTION, token],
            ).fetchall()[0][0]
    return changed


def _scrub_sync_state(
    con: duckdb.DuckDBPyConnection,
    project: Project,
    sync_keys: dict[str, set[str]],
    customer_ids: list[str],
    result: ErasureResult,
) -> None:
    """Mirror syncs: the subject's snapshot rows keep only their key, so the next run (the
    subject has left the source) sends a key-only delete and then drops the row. Other syncs
    cannot delete downstream: their rows go, and the request lists the sync."""
    if not table_exists(con, STATE):
        return
    declared = {d.name: d for d in load_syncs(project.root)}
    every_key = set(customer_ids).union(*sync_keys.values())
    rows = con.execute(
        f"select sync_name, key from {STATE} where key in (select unnest(?::varchar[]))", [sorted(every_key)]
    ).fetchall()
    for sync_name, key in rows:
        sync = declared.get(sync_name)
        if sync is not None and sync.sync.mode == "mirror" and key in sync_keys.get(sync_name, {key}):
            con.execute(
                f"""update {STATE} set payload = json_object(?, key), row_hash = ''
                    where sync_name = ? and key = ?""",
                [sync.key_field, sync_name, key],
            )
        else:
            con.execute(f"delete from {STATE} where sync_name = ? and key = ?", [sync_name, key])
            if sync_name not in result.syncs_not_deleted:
                result.syncs_not_deleted.append(sync_name)
    result.rows_removed[STATE + " (scrubbed or removed)"] = len(rows)
    result.rows_removed[DEAD_LETTERS] = con.execute(
        f"delete from {DEAD_LETTERS} where key in (select unnest(?::varchar[]))", [sorted(every_key)]
    ).fetchall()[0][0]


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
