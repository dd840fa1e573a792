"""Reverse-ETL syncs: declarations, the warehouse diff, the engine's bookkeeping, the file and
Postgres destinations, and the CLI, on hand-made DuckDB warehouses."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml
from pytest_httpserver import HTTPServer
from werkzeug import Response

from cdp.errors import SyncConfigError, SyncError
from cdp.project import Project
from cdp.sync.changes import BatchOutcome, DestinationUnavailable, RowChange
from cdp.sync.config import CUSTOMER_MODELS_YAML, load_syncs
from cdp.sync.destinations.file import FileConfig, FileDestination, read_rows
from cdp.sync.destinations.postgres import PostgresConfig, PostgresDestination
from cdp.sync.engine import find_sync, relocate_exports, run_sync
from tests.http_peer import FakePeer

from .conftest import postgres_or_skip

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SKELETON = [
    Path("dbt_project.yml"),
    CUSTOMER_MODELS_YAML,
    Path("models/marts/segments/_models.yml"),
    Path("segments/customer_segments.yml"),
]


def contract_columns() -> list[tuple[str, str]]:
    models = yaml.safe_load((PROJECT_ROOT / CUSTOMER_MODELS_YAML).read_text())["models"]
    return next(
        [(c["name"], c["data_type"]) for c in m["columns"]] for m in models if m["name"] == "customer_360"
    )


def sync_entry(**overrides: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": "champs",
        "description": "champions for tests",
        "source": {"segment": "champions"},
        "fields": {"customer_id": "customer_id", "email": "email", "first_name": "first_name"},
        "mode": "mirror",
        "purpose": "email_marketing",
        "destination": {"type": "file", "path": "out/champs.jsonl", "format": "jsonl"},
    }
    entry.update(overrides)
    return entry


@dataclass
class Warehouse:
    """A project skeleton with syncs/test.yml and a hand-made customer_360 and champions segment."""

    project: Project

    @property
    def root(self) -> Path:
        return self.project.root

    def write_syncs(self, *entries: dict[str, Any]) -> None:
        (self.root / "syncs").mkdir(exist_ok=True)
        (self.root / "syncs" / "test.yml").write_text(
            yaml.safe_dump({"syncs": list(entries)}, sort_keys=False)
        )

    def execute(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(self.project.warehouse)) as con:
            cursor = con.execute(sql, params or [])
            return cursor.fetchall() if cursor.description else []

    def customer(
        self, customer_id: str, consent: str = "granted", champion: bool = True, **values: Any
    ) -> None:
        row = {
            "customer_id": customer_id,
            "email": f"{customer_id}@example.com",
            "first_name": customer_id.title(),
            "order_count": 3,
            "consent_email_marketing": consent,
            **values,
        }
        self.execute("delete from customer.customer_360 where customer_id = ?", [customer_id])
        marks = ", ".join("?" for _ in row)
        self.execute(
            f"insert into customer.customer_360 ({', '.join(row)}) values ({marks})", list(row.values())
        )
        self.execute("delete from segments.segment__champions where customer_id = ?", [customer_id])
        if champion:
            self.execute("insert into segments.segment__champions values (?)", [customer_id])

    def update(self, customer_id: str, **values: Any) -> None:
        sets = ", ".join(f"{name} = ?" for name in values)
        self.execute(
            f"update customer.customer_360 set {sets} where customer_id = ?", [*values.values(), customer_id]
        )

    def run(self, name: str = "champs", **kwargs: Any) -> Any:
        return run_sync(self.project, find_sync(self.root, name), **kwargs)


@pytest.fixture
def wh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Warehouse:
    monkeypatch.delenv("CDP_TARGET", raising=False)
    for path in SKELETON:
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(PROJECT_ROOT / path, tmp_path / path)
    warehouse = Warehouse(Project(tmp_path, tmp_path / "cdp.duckdb"))
    ddl = ", ".join(f"{name} {data_type}" for name, data_type in contract_columns())
    warehouse.execute("create schema customer")
    warehouse.execute(f"create table customer.customer_360 ({ddl})")
    warehouse.execute("create schema segments")
    warehouse.execute("create table segments.segment__champions (customer_id varchar)")
    warehouse.write_syncs(sync_entry())
    return warehouse


def destination_rows(wh: Warehouse, path: str = "out/champs.jsonl", fmt: str = "jsonl") -> dict[str, dict]:
    return {row["customer_id"]: row for row in read_rows(wh.root / path, fmt)}


# --- declarations -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"purpose": "carrier_pigeons"},
            "sync 'champs': purpose: 'carrier_pigeons' is not a consent purpose",
        ),
        (
            {"fields": {"customer_id": "customer_id", "mail": "emial"}},
            "sync 'champs': fields.mail: unknown column 'emial' of customer_360 (did you mean email",
        ),
        (
            {"source": {"segment": "champignons"}},
            "source.segment: unknown segment 'champignons' (did you mean champions?)",
        ),
        (
            {"destination": {"type": "carrier"}},
            "destination.type: unknown type 'carrier' (known: ad_audience, file, http, postgres)",
        ),
        (
            {"destination": {"type": "file", "path": "x.csv", "format": "xls"}},
            "destination.format: Input should be",
        ),
        ({"mode": "replace"}, "sync 'champs': mode: Input should be 'upsert', 'insert' or 'mirror'"),
        ({"source": {"model": "customer_360", "segment": "champions"}}, "source: give exactly one of"),
        ({"fields": {"mail": "email"}}, "fields: map the key column 'customer_id'"),
        ({"schedule": "every day"}, "schedule: 'every day' has 2 field(s)"),
        ({"name": "Champs"}, "name: must be lowercase snake_case"),
    ],
)
def test_declaration_errors_name_file_sync_and_field(wh: Warehouse, overrides: dict, message: str) -> None:
    entry = sync_entry(**overrides)
    wh.write_syncs(entry)
    with pytest.raises(SyncConfigError) as raised:
        load_syncs(wh.root)
    assert str(raised.value).startswith("syncs/test.yml: sync ")
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_purpose_is_required_and_names_are_unique(wh: Warehouse) -> None:
    entry = sync_entry()
    del entry["purpose"]
    wh.write_syncs(entry)
    with pytest.raises(SyncConfigError, match="sync 'champs': purpose: Field required"):
        load_syncs(wh.root)
    wh.write_syncs(sync_entry(), sync_entry())
    with pytest.raises(SyncConfigError, match=r"name: already declared in syncs/test\.yml"):
        load_syncs(wh.root)


def test_the_shipped_example_is_valid() -> None:
    (declared,) = load_syncs(PROJECT_ROOT)
    assert declared.name == "champions"
    assert declared.sync.source.segment == "champions" and declared.sync.mode == "mirror"
    assert isinstance(declared.destination, FileConfig)
    assert declared.destination.path == PROJECT_ROOT / "data/exports/syncs/champions.csv"


def test_dagster_moves_file_syncs_under_data_exports_to_its_export_dir(tmp_path: Path) -> None:
    (declared,) = load_syncs(PROJECT_ROOT)
    moved = relocate_exports(declared, PROJECT_ROOT, tmp_path)
    assert isinstance(moved.destination, FileConfig)
    assert moved.destination.path == tmp_path / "syncs/champions.csv"
    elsewhere = declared.destination.model_copy(update={"path": tmp_path / "mine.csv"})
    kept = relocate_exports(replace(declared, destination=elsewhere), PROJECT_ROOT, tmp_path / "x")
    assert kept.destination == elsewhere


# --- diff, consent and modes with the real file destination --------------------------------------


def test_first_run_sends_all_consenting_members_and_a_rerun_sends_nothing(wh: Warehouse) -> None:
    wh.customer("ann")
    wh.customer("bob")
    wh.customer("cid", consent="denied")
    wh.customer("dee", consent="unknown")
    wh.customer("eve", champion=False)
    first = wh.run()
    assert (first.status, first.inserts, first.rows_acknowledged) == ("success", 2, 2)
    assert destination_rows(wh) == {
        "ann": {"customer_id": "ann", "email": "ann@example.com", "first_name": "Ann"},
        "bob": {"customer_id": "bob", "email": "bob@example.com", "first_name": "Bob"},
    }
    again = wh.run()
    assert (again.status, again.rows_planned) == ("success", 0)
    state = wh.execute(
        "select key, json_extract_string(payload, '$.email') from activation.sync_state order by 1"
    )
    assert state == [("ann", "ann@example.com"), ("bob", "bob@example.com")]


def test_a_changed_field_sends_one_update_and_mirror_deletes_leavers(wh: Warehouse) -> None:
    for name in ("ann", "bob", "cid"):
        wh.customer(name)
    wh.run()
    wh.update("ann", email="ann@new.example")
    wh.update("bob", order_count=99)  # not a synced field: nothing to send
    wh.customer("cid", champion=False)  # left the segment
    run = wh.run()
    assert (run.inserts, run.updates, run.deletes, run.rows_acknowledged) == (0, 1, 1, 2)
    assert set(destination_rows(wh)) == {"ann", "bob"}
    assert destination_rows(wh)["ann"]["email"] == "ann@new.example"


def test_withdrawn_consent_is_deleted_by_mirror_but_not_by_upsert(wh: Warehouse) -> None:
    wh.write_syncs(
        sync_entry(),
        sync_entry(name="champs_upsert", mode="upsert", destination={"type": "file", "path": "out/up.csv"}),
    )
    wh.customer("ann")
    wh.customer("bob")
    wh.run()
    wh.run("champs_upsert")
    wh.update("bob", consent_email_marketing="denied")
    mirror, upsert = wh.run(), wh.run("champs_upsert")
    assert (mirror.deletes, upsert.deletes, upsert.rows_planned) == (1, 0, 0)
    assert set(destination_rows(wh)) == {"ann"}
    assert set(destination_rows(wh, "out/up.csv", "csv")) == {"ann", "bob"}


def test_insert_mode_sends_new_keys_only(wh: Warehouse) -> None:
    wh.write_syncs(sync_entry(mode="insert"))
    wh.customer("ann")
    wh.run()
    wh.update("ann", email="changed@example.com")
    wh.customer("bob")
    run = wh.run()
    assert (run.inserts, run.updates, run.rows_planned) == (1, 0, 1)
    assert destination_rows(wh)["ann"]["email"] == "ann@example.com"


def test_whole_customer_360_as_source(wh: Warehouse) -> None:
    wh.write_syncs(
        sync_entry(source={"model": "customer_360"}, fields={"id": "customer_id", "orders": "order_count"})
    )
    wh.customer("ann", champion=False)
    wh.customer("bob", consent="denied")
    assert wh.run().rows_acknowledged == 1
    assert read_rows(wh.root / "out/champs.jsonl", "jsonl") == [{"id": "ann", "orders": 3}]


def test_dry_run_sends_nothing_and_is_recorded(wh: Warehouse) -> None:
    wh.customer("ann")
    wh.customer("bob")
    run = wh.run(dry_run=True)
    assert (run.status, run.inserts, run.first_keys) == ("dry_run", 2, ["ann", "bob"])
    assert not (wh.root / "out/champs.jsonl").exists()
    assert wh.execute("select count(*) from activation.sync_state") == [(0,)]
    assert wh.execute("select status, rows_planned from activation.sync_runs") == [("dry_run", 2)]


def test_a_missing_source_table_or_other_target_is_a_clear_error(
    wh: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    wh.execute("drop table segments.segment__champions")
    with pytest.raises(SyncError, match=r"segments\.segment__champions does not exist in the warehouse"):
        wh.run()
    monkeypatch.setenv("CDP_TARGET", "postgres")
    with pytest.raises(SyncError, match="CDP_TARGET=postgres"):
        wh.run()


# --- engine bookkeeping, with a test double standing in for a peer ------------------------------


@dataclass
class FlakyPeer:
    """Holds rows like a remote API would; rejects some keys; goes down after ``up_for`` batches."""

    rows: dict[str, dict] = field(default_factory=dict)
    received: list[str] = field(default_factory=list)
    reject: set[str] = field(default_factory=set)
    up_for: int | None = None
    batch_size: int = 2
    name: str = "test peer"

    def apply(self, changes: Sequence[RowChange]) -> BatchOutcome:
        if self.up_for is not None:
            if self.up_for == 0:
                raise DestinationUnavailable("test peer: connection refused")
            self.up_for -= 1
        outcome = BatchOutcome()
        for change in changes:
            if change.key in self.reject:
                outcome.rejected[change.key] = "invalid email"
                continue
            self.received.append(change.key)
            if change.operation == "delete":
                assert dict(change.payload) == {"customer_id": change.key}
                self.rows.pop(change.key, None)
            else:
                self.rows[change.key] = dict(change.payload)
            outcome.acknowledged.append(change.key)
        return outcome

    def close(self) -> None:
        pass


def test_rejected_rows_become_dead_letters_and_are_resent(wh: Warehouse) -> None:
    for name in ("ann", "bob", "cid"):
        wh.customer(name)
    peer = FlakyPeer(reject={"bob"})
    run = wh.run(destination_factory=lambda _: peer)
    assert (run.status, run.rows_acknowledged, run.rows_rejected) == ("partial", 2, 1)
    assert run.error_sample == "bob: invalid email"
    letters = wh.execute("select key, operation, reason from activation.sync_dead_letters")
    assert letters == [("bob", "upsert", "invalid email")]
    peer.reject.clear()
    retry = wh.run(destination_factory=lambda _: peer)
    assert (retry.status, retry.rows_planned, retry.rows_acknowledged) == ("success", 1, 1)
    assert sorted(peer.rows) == ["ann", "bob", "cid"]


def test_unavailable_peer_stops_the_run_and_the_next_run_completes(wh: Warehouse) -> None:
    for name in ("ann", "bob", "cid", "dee", "eve"):
        wh.customer(name)
    peer = FlakyPeer(up_for=1)  # one batch of 2 gets through
    run = wh.run(destination_factory=lambda _: peer)
    assert (run.status, run.rows_acknowledged) == ("partial", 2)
    assert run.error_sample == "test peer: connection refused"
    peer.up_for = 0
    assert wh.run(destination_factory=lambda _: peer).status == "failed"
    peer.up_for = None
    final = wh.run(destination_factory=lambda _: peer)
    assert (final.status, final.rows_planned) == ("success", 3)
    assert sorted(peer.received) == ["ann", "bob", "cid", "dee", "eve"]  # each exactly once
    assert wh.run(destination_factory=lambda _: peer).rows_planned == 0
    statuses = wh.execute("select status from activation.sync_runs order by started_at")
    assert [s for (s,) in statuses] == ["partial", "failed", "success", "success"]


def test_sync_over_http_delivers_every_row_exactly_once_through_429_500_timeouts_and_an_outage(
    wh: Warehouse, threaded_httpserver: HTTPServer
) -> None:
    """The whole engine against a real HTTP server: failures are injected per request, and the
    peer (idempotent by key, as the protocol requires) must end up with every row once."""
    names = [f"p{i:02d}" for i in range(25)]
    for name in names:
        wh.customer(name)
    peer = FakePeer(
        failures=[
            Response("busy", status=429, headers={"Retry-After": "0"}),
            Response("oops", status=500),
            0.5,  # applied by the peer, answered after the client's 0.3 s timeout: resent
        ]
    )
    threaded_httpserver.expect_request("/contacts").respond_with_handler(peer)
    destination = {
        "type": "http",
        "url": threaded_httpserver.url_for("/contacts"),
        "batch_size": 10,
        "max_retries": 3,
        "backoff_seconds": 0.01,
        "timeout_seconds": 0.3,
    }
    wh.write_syncs(sync_entry(destination=destination))
    first = wh.run()
    assert (first.status, first.rows_acknowledged) == ("success", 25)
    assert sorted(peer.store) == names
    assert len(peer.requests) == 3 + 3, first.error_sample  # three batches + a retry per failure

    # An outage mid-run: the 2nd batch of changes never gets through, nothing is lost.
    for name in names:
        wh.update(name, email=f"{name}@new.example")
    peer.failures = [None] + [Response("down", status=503)] * 4  # 1 try + 3 retries
    applied_before = len(peer.processed)
    outage = wh.run()
    assert (outage.status, outage.rows_acknowledged) == ("partial", 10)
    assert "503" in (outage.error_sample or "")
    recovered = wh.run()
    assert (recovered.status, recovered.rows_planned, recovered.rows_acknowledged) == ("success", 15, 15)
    assert {row["email"] for row in peer.store.values()} == {f"{name}@new.example" for name in names}
    # Each changed row was applied exactly once: 10 in the outage run, 15 after it.
    applied = [row["key"] for body in peer.processed[applied_before:] for row in body["rows"]]
    assert sorted(applied) == names
    assert wh.run().rows_planned == 0


def test_a_destination_bug_is_recorded_as_a_failed_run_and_raised(wh: Warehouse) -> None:
    wh.customer("ann")

    class Broken(FlakyPeer):
        def apply(self, changes: Sequence[RowChange]) -> BatchOutcome:
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        wh.run(destination_factory=lambda _: Broken())
    runs = wh.execute("select status, error_sample from activation.sync_runs")
    assert runs == [("failed", "RuntimeError: boom")]
    assert wh.run().rows_acknowledged == 1  # nothing was taken as delivered


def test_mirror_deletes_send_only_the_key(wh: Warehouse) -> None:
    wh.customer("ann")
    peer = FlakyPeer()
    wh.run(destination_factory=lambda _: peer)
    wh.customer("ann", champion=False)
    assert wh.run(destination_factory=lambda _: peer).deletes == 1  # FlakyPeer asserts the payload
    assert peer.rows == {}


# --- the file destination -------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "parquet", "jsonl"])
def test_file_destination_round_trip_is_idempotent(tmp_path: Path, fmt: str) -> None:
    config = FileConfig(type="file", path=Path(f"out/x.{fmt}"), format=fmt).bind(tmp_path, "id")
    destination = FileDestination(config, "x")
    batch = [
        RowChange("1", "upsert", {"id": "1", "email": "a@example.com"}),
        RowChange("2", "upsert", {"id": "2", "email": "b@example.com"}),
    ]
    for _ in range(2):
        assert destination.apply(batch).acknowledged == ["1", "2"]
    destination.apply([RowChange("1", "insert", {"id": "1", "email": "ignored@example.com"})])
    destination.apply(
        [RowChange("2", "delete", {"id": "2"}), RowChange("3", "insert", {"id": "3", "email": None})]
    )
    rows = read_rows(tmp_path / f"out/x.{fmt}", fmt)
    expected_none = "" if fmt == "csv" else None
    assert rows == [{"id": "1", "email": "a@example.com"}, {"id": "3", "email": expected_none}]
    assert list((tmp_path / "out").iterdir()) == [tmp_path / f"out/x.{fmt}"]  # no temp file left
    destination.apply([RowChange("1", "delete", {"id": "1"}), RowChange("3", "delete", {"id": "3"})])
    assert read_rows(tmp_path / f"out/x.{fmt}", fmt) == []
    if fmt == "csv":  # an emptied file keeps its header
        assert (tmp_path / "out/x.csv").read_text().splitlines() == ["id,email"]


# --- the Postgres destination ---------------------------------------------------------------------

PG_SCHEMA = "cdp_test_sync"


@pytest.fixture
def pg_schema() -> Iterator[Any]:
    con = postgres_or_skip("the Postgres sync destination")
    con.execute(f"drop schema if exists {PG_SCHEMA} cascade")
    yield con
    con.execute(f"drop schema if exists {PG_SCHEMA} cascade")
    con.close()


def test_postgres_destination_upserts_inserts_deletes_and_rejects(pg_schema: Any) -> None:
    config = PostgresConfig.model_validate({"type": "postgres", "schema": PG_SCHEMA, "table": "contacts"})
    destination = PostgresDestination(config.bind(Path(), "customer_id"), "contacts")
    table = f"{PG_SCHEMA}.contacts"
    try:
        batch = [
            RowChange("a", "upsert", {"customer_id": "a", "email": "a@example.com", "orders": 3}),
            RowChange("b", "upsert", {"customer_id": "b", "email": None, "orders": 1}),
        ]
        assert destination.apply(batch).acknowledged == ["a", "b"]
        assert destination.apply(batch).acknowledged == ["a", "b"]  # resending changes nothing
        destination.apply(
            [RowChange("a", "insert", {"customer_id": "a", "email": "x@example.com", "orders": 4})]
        )
        destination.apply(
            [RowChange("b", "upsert", {"customer_id": "b", "email": "b@example.com", "orders": 2})]
        )
        rows = pg_schema.execute(f"select customer_id, email, orders from {table} order by 1").fetchall()
        assert [(k, e, int(o)) for k, e, o in rows] == [("a", "a@example.com", 3), ("b", "b@example.com", 2)]
        # A value the column refuses is rejected alone; the rest of the batch is applied.
        outcome = destination.apply(
            [
                RowChange("a", "delete", {"customer_id": "a"}),
                RowChange("c", "upsert", {"customer_id": "c", "orders": "many"}),
            ]
        )
        assert outcome.acknowledged == ["a"] and "numeric" in outcome.rejected["c"]
        assert pg_schema.execute(f"select customer_id from {table}").fetchall() == [("b",)]
        key = pg_schema.execute(
            "select a.attname from pg_index i join pg_attribute a on a.attrelid = i.indrelid "
            "and a.attnum = any(i.indkey) where i.indrelid = %s::regclass and i.indisprimary",
            [table],
        ).fetchall()
        assert key == [("customer_id",)]
    finally:
        destination.close()


def test_postgres_destination_unreachable_is_unavailable() -> None:
    config = PostgresConfig.model_validate(
        {"type": "postgres", "schema": PG_SCHEMA, "table": "t", "dsn_env": "CDP_TEST_SYNC_DSN"}
    )
    destination = PostgresDestination(config.bind(Path(), "customer_id"), "t")
    os.environ["CDP_TEST_SYNC_DSN"] = "host=127.0.0.1 port=1 user=postgres dbname=test connect_timeout=2"
    try:
        with pytest.raises(DestinationUnavailable, match=r"postgres cdp_test_sync\.t"):
            destination.apply([RowChange("a", "upsert", {"customer_id": "a"})])
    finally:
        del os.environ["CDP_TEST_SYNC_DSN"]


def test_sync_to_postgres_end_to_end(wh: Warehouse, pg_schema: Any) -> None:
    wh.write_syncs(sync_entry(destination={"type": "postgres", "schema": PG_SCHEMA, "table": "champs"}))
    wh.customer("ann")
    wh.customer("bob")
    assert wh.run().rows_acknowledged == 2
    wh.update("bob", consent_email_marketing="denied")
    assert wh.run().deletes == 1
    rows = pg_schema.execute(f"select customer_id, email, first_name from {PG_SCHEMA}.champs").fetchall()
    assert rows == [("ann", "ann@example.com", "Ann")]


# --- CLI ------------------------------------------------------------------------------------------


def cdp(wh: Warehouse, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CDP_TARGET", "CDP_DUCKDB_PATH")}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "cdp.cli",
            *args,
            "--project-dir",
            str(wh.root),
            "--warehouse",
            str(wh.project.warehouse),
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def test_cli_dry_run_json_run_list_and_failure(wh: Warehouse) -> None:
    wh.customer("ann")
    dry = cdp(wh, "sync", "champs", "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    (plan,) = json.loads(dry.stdout)
    assert (plan["status"], plan["inserts"], plan["first_keys"]) == ("dry_run", 1, ["ann"])
    assert not (wh.root / "out/champs.jsonl").exists()
    done = cdp(wh, "sync", "--all")
    assert done.returncode == 0, done.stderr
    assert "champs: success" in done.stdout
    listed = cdp(wh, "syncs")
    assert listed.returncode == 0 and "champs" in listed.stdout and "success" in listed.stdout
    unknown = cdp(wh, "sync", "nope")
    assert unknown.returncode == 1 and "unknown sync 'nope' (declared: champs)" in unknown.stderr
    # A destination that cannot write (a folder where its file should be) is a failed run.
    wh.write_syncs(sync_entry(destination={"type": "file", "path": "out", "format": "jsonl"}))
    wh.customer("bob")
    failed = cdp(wh, "sync", "champs")
    assert failed.returncode == 1
    assert "sync champs: failed" in failed.stderr and len(failed.stderr.strip().splitlines()) == 1
