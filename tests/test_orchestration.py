"""The Dagster code location (orchestration/) run for real: in-process jobs over generated data,
blocking Great Expectations checks, the landing sensor, and the UI seen by headless Chromium."""

from __future__ import annotations

import csv
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest
from dagster import DagsterInstance, Definitions, build_sensor_context

from cdp.activation import export_segment_files
from cdp.dagster_ui import prepare_manifest
from cdp.generate import generate
from cdp.project import Project
from cdp.quality import RESULTS_TABLE

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DBT_GROUPS = {"staging", "identity", "customer", "predictions", "segments", "bi"}


@pytest.fixture(scope="module")
def manifest() -> Path:
    """dagster-dbt needs the manifest before the definitions import."""
    return prepare_manifest(Project.discover(PROJECT_ROOT))


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, manifest: Path) -> dict[str, str]:
    """A private warehouse, landing and export folder; dbt, run by the assets, reads them too."""
    settings = {
        "CDP_DUCKDB_PATH": str(tmp_path / "cdp.duckdb"),
        "CDP_LANDING_DIR": str(tmp_path / "landing"),
        "CDP_EXPORT_DIR": str(tmp_path / "exports"),
        "CDP_TARGET": "duckdb",
    }
    for key, value in settings.items():
        monkeypatch.setenv(key, value)
    return settings


def definitions() -> Definitions:
    from orchestration.definitions import build_definitions  # after the manifest is prepared

    return build_definitions()


def run_job(defs: Definitions, name: str, run_config: dict[str, Any] | None = None) -> Any:
    job = defs.resolve_implicit_global_asset_job_def() if name == "*" else defs.resolve_job_def(name)
    return job.execute_in_process(
        run_config=run_config or {}, instance=DagsterInstance.ephemeral(), raise_on_error=False
    )


def materialized(result: Any) -> set[str]:
    return {event.asset_key.to_user_string() for event in result.get_asset_materialization_events()}


def fetch(warehouse: str, sql: str) -> list[tuple]:
    with duckdb.connect(warehouse, read_only=True) as con:
        return con.execute(sql).fetchall()


def test_definitions_graph_jobs_and_schedules(env: dict[str, str]) -> None:
    defs = definitions()
    specs = {spec.key.to_user_string(): spec for spec in defs.resolve_all_asset_specs()}
    # Raw tables are keyed like dbt's sources, so staging hangs below the load step.
    assert "raw/crm_contacts" in specs["staging/base_crm__contacts"].deps[0].asset_key.to_user_string()
    assert {spec.group_name for spec in specs.values()} == {"landing", "raw", "activation", *DBT_GROUPS}
    assert specs["customer/customer_predictions"].group_name == "predictions"
    # The bi views are keyed by their alias (bi_customer_360 -> bi/customer_360), all in group bi.
    bi = {key for key, spec in specs.items() if spec.group_name == "bi"}
    assert bi == {
        f"bi/{mart}"
        for mart in (
            "customer_360",
            "customer_rfm",
            "customer_predictions",
            "customer_events",
            "segment_membership",
            "segment_membership_history",
        )
    }
    assert {dep.asset_key.to_user_string() for dep in specs["bi/customer_360"].deps} == {
        "customer/customer_360"
    }
    assert {dep.asset_key.to_user_string() for dep in specs["activation/segment_files"].deps} == {
        "segments/segment_membership",
        "customer/customer_360",
    }
    # One asset per declared sync, after its source (syncs/customer_syncs.yml: champions).
    sync = specs["activation/sync_champions"]
    assert {dep.asset_key.to_user_string() for dep in sync.deps} == {
        "segments/segment__champions",
        "customer/customer_360",
    }
    assert sync.group_name == "activation"
    checks = defs.resolve_asset_graph().asset_check_keys
    gx = {check.asset_key.to_user_string() for check in checks if check.name == "great_expectations"}
    assert {"raw/crm_contacts", "customer/customer_360", "segments/segment_membership"} <= gx
    assert sum(check.name != "great_expectations" for check in checks) > 250  # dbt tests

    full, incremental = defs.resolve_job_def("full_build"), defs.resolve_job_def("incremental_build")
    assert full.run_config["ops"]["cdp_dbt_models"]["config"] == {"full_refresh": True}
    assert incremental.run_config["ops"]["cdp_dbt_models"]["config"] == {"full_refresh": False}
    # Schedules never regenerate the sample data.
    assert "landing/files" not in {key.to_user_string() for key in full.asset_layer.executable_asset_keys}
    schedules = {s.name: (s.cron_schedule, s.job_name) for s in defs.schedules or []}
    assert schedules == {
        "daily_full_build": ("0 3 * * *", "full_build"),
        "hourly_incremental_build": ("0 * * * *", "incremental_build"),
        # syncs/customer_syncs.yml: champions, schedule daily
        "sync_champions_schedule": ("0 4 * * *", "sync_champions"),
    }
    sync_job = defs.resolve_job_def("sync_champions")
    assert {k.to_user_string() for k in sync_job.asset_layer.executable_asset_keys} >= {
        "activation/sync_champions"
    }


def test_materialize_every_asset_in_process(env: dict[str, str]) -> None:
    defs = definitions()
    result = run_job(defs, "*", {"ops": {"landing__files": {"config": {"people": 500}}}})
    assert result.success

    every_asset = {spec.key.to_user_string() for spec in defs.resolve_all_asset_specs()}
    assert materialized(result) == every_asset
    evaluations = result.get_asset_check_evaluations()
    assert {(e.asset_key, e.check_name) for e in evaluations} == {
        (key.asset_key, key.name) for key in defs.resolve_asset_graph().asset_check_keys
    }
    failed = [f"{e.asset_key.to_user_string()} {e.check_name}" for e in evaluations if not e.passed]
    assert failed == []

    warehouse = env["CDP_DUCKDB_PATH"]
    assert fetch(warehouse, "select count(distinct customer_id) > 100 from customer.customer_360") == [
        (True,)
    ]
    suites = fetch(warehouse, f"select distinct suite from {RESULTS_TABLE} order by 1")
    assert suites == [("marts",), ("raw",)]
    # The activation files hold exactly the warehouse's membership, segment by segment.
    members = dict(
        fetch(warehouse, "select segment_name, count(*) from segments.segment_membership group by 1")
    )
    folder = Path(env["CDP_EXPORT_DIR"]) / "segments"
    exported = {}
    for path in folder.glob("*.csv"):
        with path.open() as handle:
            exported[path.stem] = sum(1 for _ in csv.DictReader(handle))
    assert {name: n for name, n in exported.items() if n} == members
    assert all(n == members.get(name, 0) for name, n in exported.items())


def break_emails(landing: Path, share_in_five: int) -> None:
    """Rewrite the crm_contacts files with `share_in_five`/5 of the emails junk."""
    for path in sorted((landing / "crm_contacts").glob("*.parquet")):
        broken = path.with_suffix(".tmp")
        with duckdb.connect() as con:
            con.execute(
                f"copy (select * replace (case when hash(contact_id) % 5 < {share_in_five} "
                f"then 'not-an-email' else email end as email) from read_parquet('{path}')) "
                f"to '{broken}' (format parquet)"
            )
        broken.replace(path)


def test_failed_blocking_raw_check_stops_every_downstream_asset(env: dict[str, str]) -> None:
    landing = Path(env["CDP_LANDING_DIR"])
    generate(landing, 300, 5)
    break_emails(landing, 1)
    defs = definitions()
    result = run_job(defs, "incremental_build")

    assert not result.success
    raw_keys = {s.key.to_user_string() for s in defs.resolve_all_asset_specs() if s.group_name == "raw"}
    assert materialized(result) == raw_keys  # loaded, then nothing further
    failed = [e for e in result.get_asset_check_evaluations() if not e.passed]
    assert [(e.asset_key.to_user_string(), e.severity.value) for e in failed] == [
        ("raw/crm_contacts", "ERROR")
    ]
    assert (
        "raw.crm_contacts.email: expect_column_values_to_match_regex [error] failing rate"
        in failed[0].description
    )
    assert failed[0].metadata["failed_error"].value == 1
    assert not (Path(env["CDP_EXPORT_DIR"]) / "segments").exists()


def test_raw_load_on_another_target_stops_with_a_clear_error(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    generate(Path(env["CDP_LANDING_DIR"]), 50, 2)
    monkeypatch.setenv("CDP_TARGET", "postgres")
    result = run_job(definitions(), "incremental_build")
    assert not result.success and materialized(result) == set()
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "loading raw tables reads and writes the DuckDB warehouse only, but CDP_TARGET=postgres" in str(
        failure.step_failure_data.error
    )


def test_landing_sensor_requests_a_run_for_new_files(env: dict[str, str], tmp_path: Path) -> None:
    defs = definitions()
    sensor = defs.get_sensor_def("landing_sensor")
    cdp = defs.resources["cdp"]
    landing = Path(env["CDP_LANDING_DIR"])

    def tick(cursor: str | None) -> Any:
        return sensor.evaluate_tick(build_sensor_context(cursor=cursor, resources={"cdp": cdp}))

    assert "no Parquet files" in (tick(None).skip_message or "")
    source = generate(tmp_path / "source", 50, 1).out_dir
    (landing / "crm_contacts").mkdir(parents=True)
    first = landing / "crm_contacts" / "part-00000.parquet"
    shutil.copy(source / "crm_contacts" / "part-00000.parquet", first)

    data = tick(None)
    assert [request.run_key for request in data.run_requests] == [
        f"landing:{first.stat().st_mtime_ns}:{first}"
    ]
    assert sensor.job_name == "incremental_build"
    assert "no new files" in (tick(data.cursor).skip_message or "")

    (landing / "shop_orders").mkdir()
    second = landing / "shop_orders" / "part-00000.parquet"
    shutil.copy(source / "shop_orders" / "part-00000.parquet", second)
    os.utime(second, ns=(first.stat().st_mtime_ns + 1_000_000_000,) * 2)
    later = tick(data.cursor)
    assert [request.run_key for request in later.run_requests] == [
        f"landing:{second.stat().st_mtime_ns}:{second}"
    ]

    (landing / "crm_contactz").mkdir()  # a typo: the loader's error names the folder
    shutil.copy(first, landing / "crm_contactz" / "part-00000.parquet")
    with pytest.raises(Exception, match="crm_contactz: no raw table 'crm_contactz' is declared"):
        tick(later.cursor)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def chromium() -> str:
    found = shutil.which("chromium")
    if found:
        return found
    if os.environ.get("CI"):
        raise AssertionError("CI is set but chromium is not installed (make test installs Debian's package)")
    pytest.skip("chromium is not installed: the Dagster UI is NOT tested in a browser (run `make test`)")


def rendered_text(url: str) -> str:
    """The page's DOM after its scripts ran, from headless Chromium."""
    completed = subprocess.run(
        [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--window-size=1600,1000",
         "--virtual-time-budget=20000", "--dump-dom", url],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    return completed.stdout


def test_cdp_ui_serves_the_asset_graph_to_a_browser(env: dict[str, str], tmp_path: Path) -> None:
    chromium()
    port = free_port()
    log = (tmp_path / "ui.log").open("w")
    # Started with SIGINT at its default (a background job inherits it ignored, and then the
    # server ignores SIGTERM too); stopped by pid with SIGINT, as Ctrl-C would.
    server = subprocess.Popen(
        [sys.executable, "-m", "cdp.cli", "ui", "--port", str(port)],
        cwd=PROJECT_ROOT,
        env={**os.environ, "DAGSTER_HOME": str(tmp_path / "dagster_home")},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(f"{base}/server_info", server, tmp_path / "ui.log")
        overview = rendered_text(f"{base}/asset-groups")
        for group in ("landing", "raw", "activation", *DBT_GROUPS):
            assert f">{group}<" in overview, f"group {group} missing from the global asset graph"
        customer = rendered_text(f"{base}/locations/orchestration.definitions/asset-groups/customer/lineage")
        for asset in ("customer_360", "customer_rfm", "segment_files"):
            assert asset in customer, f"asset {asset} missing from the customer group's graph"
    finally:
        stop(server)
        log.close()


def wait_for(url: str, server: subprocess.Popen[bytes], log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"cdp ui exited with {server.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(1)
    raise AssertionError(f"{url} did not answer within {timeout}s:\n{log.read_text()[-3000:]}")


def stop(server: subprocess.Popen[bytes]) -> None:
    server.send_signal(signal.SIGINT)
    try:
        server.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()
    # dagster dev's webserver, daemon and code servers are in its session: they get a while to
    # finish shutting down, and none may outlive the test.
    deadline = time.monotonic() + 60
    while (leftovers := session_processes(server.pid)) and time.monotonic() < deadline:
        time.sleep(1)
    for pid, _ in leftovers:
        os.kill(pid, signal.SIGKILL)
    assert not leftovers, f"processes left 60 s after stopping cdp ui: {leftovers}"


def session_processes(session: int) -> list[tuple[int, str]]:
    listing = subprocess.run(["ps", "-eo", "pid=,sid=,args="], capture_output=True, text=True).stdout
    rows = [line.split(None, 2) for line in listing.splitlines()]
    return [(int(pid), args) for pid, sid, args in rows if int(sid) == session]


def test_export_mirrors_declared_segments(tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema segments")
        con.execute(
            "create table segments.segment_membership as select * from (values "
            "('vip', 'c1', timestamp '2026-11-01 00:00'), ('vip', 'c2', timestamp '2026-11-01 00:00'), "
            "('churning', 'c3', timestamp '2026-11-01 00:00')) t(segment_name, customer_id, refreshed_at)"
        )
    out = tmp_path / "out"
    out.mkdir()
    (out / "retired.csv").write_text("segment_name,customer_id,refreshed_at\n")
    files = export_segment_files(warehouse, out, ["vip", "churning", "empty"])
    assert Counter({f.segment: f.rows for f in files}) == Counter({"vip": 2, "churning": 1, "empty": 0})
    assert sorted(p.name for p in out.iterdir()) == ["churning.csv", "empty.csv", "vip.csv"]
    assert (out / "vip.csv").read_text().splitlines() == [
        "segment_name,customer_id,refreshed_at",
        "vip,c1,2026-11-01T00:00:00",
        "vip,c2,2026-11-01T00:00:00",
    ]
    with pytest.raises(Exception, match=r"holds segment 'churning', which segments/\*\.yml does not declare"):
        export_segment_files(warehouse, out, ["vip"])
