"""Benchmark of the whole job at a given size: generate -> load -> dbt build -> quality -> sync,
seconds per stage, rows per second and peak memory (`cdp bench --customers N`).

Everything it writes is its own: sample data in ``<data_dir>/<N>/landing`` (reused while
current), a fresh warehouse (default ``warehouse/bench-<N>.duckdb``, never the demo's), dbt's
target and logs, data docs and exports under ``<data_dir>/<N>/``.

One `dbt build` runs; its time is split into stages from dbt's run_results.json: each node's
[compile, execute] timings, mapped to a stage by the node's file (tests go with the model
they test). With several dbt threads, stages overlap: a stage's ``seconds`` is its wall-clock
span (first node started to last node completed), ``busy`` the sum of its nodes' own times.
What is left of the build's wall-clock (dbt start-up, parsing, hooks) is ``dbt start-up``.

``incremental=True`` then lands 1% more people as new files (the generator's people
N .. N + 1%: new ids, new files, not copies), loads them and runs `dbt build` again without
--full-refresh; then once more with nothing new landed (the idle build: the fixed cost of
every scheduled build).
"""

from __future__ import annotations

import json
import os
import platform
import resource
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import duckdb

from cdp.activation import export_segment_files
from cdp.critical_path import CriticalPath, critical_path, node_span
from cdp.dbt_runner import run_dbt
from cdp.errors import CdpError
from cdp.generate import generate
from cdp.generate.run import sample_as_of_env
from cdp.identity.pair_scoring import STATE_SUFFIX
from cdp.load import load_landing
from cdp.pipeline import landing_is_current
from cdp.project import DEFAULT_WAREHOUSE, Project
from cdp.quality import run_quality
from cdp.segments import compile_segments
from cdp.source_config import RAW_SCHEMA, raw_tables
from cdp.summary import customer_summary
from cdp.sync import load_syncs, run_sync
from cdp.sync.engine import relocate_exports
from cdp.warehouse import table_exists

DEFAULT_DATA_DIR = Path("data/bench")
INCREMENT_SHARE = 0.01  # --incremental lands this share of N as new people
DBT_STAGES = ("staging", "identity", "marts", "predictions")
# Prediction models are marts by their folder; they are timed on their own.
PREDICTION_MODELS = {
    "int_customer__prediction_fit",
    "int_customer__predictions",
    "customer_predictions",
    "customer_prediction_params",
}


def default_warehouse(root: Path, people: int) -> Path:
    return root / "warehouse" / f"bench-{people}.duckdb"


@dataclass
class Stage:
    name: str
    seconds: float
    busy: float | None = None  # dbt stages: sum of their nodes' own times
    nodes: int | None = None  # dbt stages: models, seeds and tests run
    rows_per_second: float | None = None
    note: str = ""


@dataclass
class BuildFigures:
    """One `dbt build`: wall-clock, the stages found in its run_results.json, node statuses."""

    seconds: float
    stages: list[Stage]
    statuses: dict[str, int]
    clustering: dict[str, Any]  # the identity connected-components run: mode, nodes, passes
    splink_scoring: dict[str, int] | None  # person records, and those Splink scored (None: off)
    critical_path: CriticalPath  # the chain of nodes that decided when the build ended


@dataclass
class IncrementalFigures:
    people: int  # new people landed
    rows: int  # new raw rows loaded
    generate: Stage
    load: Stage
    build: BuildFigures
    ratio_to_full_build: float
    customers_before: int
    customers_after: int
    # One more build with nothing new landed: what every scheduled build costs whatever
    # arrived (dbt start-up, every model's checks for changes, every test).
    idle_build: BuildFigures
    idle_ratio_to_full_build: float


@dataclass
class BenchReport:
    people: int
    seed: int
    rows: int  # raw rows in the warehouse after the load
    warehouse: str
    stages: list[Stage] = field(default_factory=list)
    build: BuildFigures | None = None
    total_seconds: float = 0.0  # wall-clock of the stages run, generation included
    rows_per_second: float = 0.0  # rows / total_seconds of the stages after generation
    peak_rss_mb: dict[str, float] = field(default_factory=dict)
    customers: int = 0
    quality_errors: int = 0
    incremental: IncrementalFigures | None = None
    machine: dict[str, Any] = field(default_factory=dict)

    def stage(self, name: str) -> Stage:
        return next(stage for stage in self.stages if stage.name == name)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def run_bench(
    project: Project,
    people: int,
    seed: int,
    data_dir: Path,
    incremental: bool = False,
    progress: Callable[[str], None] = lambda _: None,
) -> BenchReport:
    """Run the job for ``people`` people on ``project.warehouse`` (created afresh) and time it."""
    if project.warehouse.resolve() == (project.root / DEFAULT_WAREHOUSE).resolve():
        raise CdpError(
            f"{project.warehouse} is the demo's warehouse: benchmarks use a warehouse of their own"
        )
    folder = data_dir / str(people)
    tables = raw_tables(project.root)
    report = BenchReport(people, seed, 0, str(project.warehouse), machine=machine())
    started = time.perf_counter()

    generated = _generate(folder / "landing", people, seed, 0, progress)
    report.stages.append(generated)

    _fresh(project.warehouse, folder)
    start = time.perf_counter()
    progress(f"load: {folder / 'landing'} -> {project.warehouse} (fresh)")
    load_landing(folder / "landing", project.warehouse, tables)
    report.rows = raw_rows(project.warehouse)
    report.stages.append(_timed("load", start, report.rows))
    if generated.note != "cached":
        generated.rows_per_second = _per_second(report.rows, generated.seconds)

    segments = [declared.name for declared in compile_segments(project.root).segments]
    progress("dbt build: staging, identity, marts, predictions, segments and their tests")
    report.build = build(project, folder, report.rows, "full")
    report.stages += report.build.stages

    start = time.perf_counter()
    progress("quality: the Great Expectations suites of expectations/")
    quality = run_quality(project, docs_dir=folder / "gx_docs")
    report.quality_errors = len(quality.errors)
    report.stages.append(_timed("quality", start, note=quality.summary()))

    start = time.perf_counter()
    progress(f"sync: segment files and file syncs -> {folder / 'exports'}")
    note = sync_files(project, folder / "exports", segments)
    report.stages.append(_timed("sync", start, note=note))

    report.total_seconds = time.perf_counter() - started
    after_generation = report.total_seconds - generated.seconds
    report.rows_per_second = _per_second(report.rows, after_generation)
    report.customers = customer_summary(project.warehouse).customers
    progress(
        f"full run: {report.total_seconds:.1f} s ("
        + ", ".join(f"{stage.name} {stage.seconds:.1f} s" for stage in report.stages)
        + f"; dbt build {report.build.seconds:.1f} s wall-clock)"
    )
    if incremental:
        report.incremental = run_incremental(project, folder, people, seed, report, progress)
    report.peak_rss_mb = peak_rss_mb()
    report.machine["load_average_after"] = os.getloadavg()  # others' work on the same cores
    return report


def _generate(landing: Path, people: int, seed: int, first: int, progress: Callable[[str], None]) -> Stage:
    start = time.perf_counter()
    if landing_is_current(landing, people, seed):
        progress(f"generate: reusing {landing}")
        return _timed("generate", start, note="cached")
    progress(f"generate: people {first:,} .. {people - 1:,}, seed {seed} -> {landing}")
    generate(landing, people, seed, first_person=first)
    return _timed("generate", start, note="generated")


def _fresh(warehouse: Path, folder: Path) -> None:
    """No trace of an earlier run: the warehouse, its WAL and the exports."""
    for path in (warehouse, warehouse.with_name(warehouse.name + ".wal")):
        path.unlink(missing_ok=True)
    shutil.rmtree(folder / "exports", ignore_errors=True)


def _timed(name: str, start: float, rows: int | None = None, note: str = "") -> Stage:
    seconds = time.perf_counter() - start
    return Stage(
        name, seconds, rows_per_second=None if rows is None else _per_second(rows, seconds), note=note
    )


def _per_second(rows: int, seconds: float) -> float:
    return rows / seconds if seconds > 0 else 0.0


def raw_rows(warehouse: Path) -> int:
    """Rows in every raw table (the load log excepted)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        names = con.execute(
            "select table_name from information_schema.tables "
            "where table_schema = ? and not starts_with(table_name, '_')",
            [RAW_SCHEMA],
        ).fetchall()
        return sum(
            con.execute(f"select count(*) from {RAW_SCHEMA}.{name}").fetchall()[0][0] for (name,) in names
        )


def build(project: Project, folder: Path, rows: int, name: str) -> BuildFigures:
    """One `dbt build` (no --full-refresh), with its target and logs under ``folder``; its
    run_results.json is kept as ``run_results.<name>.json`` there, for timings by node."""
    target = folder / "target"
    start = time.perf_counter()
    result = run_dbt(
        project,
        ["build", "--target-path", str(target), "--log-path", str(folder / "logs")],
        capture=True,
        env=sample_as_of_env(),
    )
    seconds = time.perf_counter() - start
    if not result.ok:
        raise CdpError(f"dbt build of the benchmark failed:\n{result.output[-3000:]}")
    run_results = target / "run_results.json"
    shutil.copy(run_results, folder / f"run_results.{name}.json")
    results = json.loads(run_results.read_text())["results"]
    nodes = json.loads((target / "manifest.json").read_text())["nodes"]
    stages = stage_timings(results, nodes, seconds)
    for stage in stages:
        if stage.name in ("staging", "identity"):  # raw rows flow through these in full
            stage.rows_per_second = _per_second(rows, stage.seconds)
    statuses: dict[str, int] = {}
    for one in results:
        statuses[one["status"]] = statuses.get(one["status"], 0) + 1
    return BuildFigures(
        seconds,
        stages,
        statuses,
        clustering_run(project.warehouse),
        splink_scoring(project.warehouse),
        critical_path(results, nodes),
    )


def node_stage(unique_id: str, nodes: dict[str, Any]) -> str | None:
    """The stage a node of the manifest is timed in; tests go with the model they test."""
    node = nodes.get(unique_id)
    if node is None:
        return None
    if node["resource_type"] == "test":
        tested = node.get("attached_node") or next(iter(node["depends_on"]["nodes"][-1:]), None)
        return node_stage(tested, nodes) if tested else None
    if node["resource_type"] == "seed":
        return "staging"  # reference data (name groups, currency rates), read early on
    path = node["original_file_path"]
    if node["name"] in PREDICTION_MODELS:
        return "predictions"
    if path.startswith("models/staging/"):
        return "staging"
    if path.startswith(("models/intermediate/identity/", "models/marts/identity/")):
        return "identity"
    if path.startswith("models/"):
        return "marts"
    return None


def stage_timings(results: list[dict[str, Any]], nodes: dict[str, Any], wall: float) -> list[Stage]:
    """Per stage: wall-clock span and busy seconds of its nodes; the rest of ``wall`` is dbt's own."""
    spans: dict[str, list[tuple[datetime, datetime]]] = {name: [] for name in DBT_STAGES}
    everything: list[tuple[datetime, datetime]] = []
    for result in results:
        span = node_span(result)
        if span is None:
            continue
        everything.append(span)
        stage = node_stage(result["unique_id"], nodes)
        if stage:
            spans[stage].append(span)
    covered = _span_seconds(everything)
    stages = [Stage("dbt start-up", max(wall - covered, 0.0), note="parse, hooks, between nodes")]
    for name, found in spans.items():
        stages.append(
            Stage(
                name,
                _span_seconds(found),
                busy=sum((end - begin).total_seconds() for begin, end in found),
                nodes=len(found),
            )
        )
    return stages


def _span_seconds(spans: list[tuple[datetime, datetime]]) -> float:
    if not spans:
        return 0.0
    return (max(end for _, end in spans) - min(begin for begin, _ in spans)).total_seconds()


def clustering_run(warehouse: Path) -> dict[str, Any]:
    """The latest identity connected-components run: full or incremental, nodes, passes, seconds."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        mode, nodes, passes, seconds = con.execute(
            "select mode, nodes_in_scope, passes, seconds from identity.int_identity__components__runs "
            "order by finished_at desc limit 1"
        ).fetchall()[0]
    return {"mode": mode, "nodes_in_scope": nodes, "passes": passes, "seconds": seconds}


def splink_scoring(warehouse: Path) -> dict[str, int] | None:
    """The person records of the last build, and how many Splink scored (the rest kept their
    stored pairs); None when probabilistic matching is off."""
    state = f"identity.int_identity__probabilistic_pairs{STATE_SUFFIX}"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        if not table_exists(con, state):
            return None
        records, scored = con.execute(
            f"select count(*), count(*) filter (where rescored) from {state}"
        ).fetchall()[0]
    return {"records": records, "scored": scored}


def sync_files(project: Project, exports: Path, segments: list[str]) -> str:
    """The demo's activation on the benchmark warehouse: segment files, then the file syncs,
    both writing under ``exports`` instead of data/exports."""
    files = export_segment_files(project.warehouse, exports / "segments", segments)
    local = [
        relocate_exports(declared, project.root, exports)
        for declared in load_syncs(project.root)
        if declared.sync.destination["type"] == "file"
    ]
    runs = [run_sync(project, declared) for declared in local]
    sent = sum(run.rows_acknowledged for run in runs)
    return f"{len(files)} segment files, {len(runs)} file sync(s), {sent:,} rows sent"


def run_incremental(
    project: Project,
    folder: Path,
    people: int,
    seed: int,
    full: BenchReport,
    progress: Callable[[str], None],
) -> IncrementalFigures:
    """Land the generator's next 1% of people as new files, load them, `dbt build` again."""
    extra = max(1, round(people * INCREMENT_SHARE))
    landing = folder / "increment"
    generated = _generate(landing, people + extra, seed, people, progress)
    start = time.perf_counter()
    progress(f"load: {extra:,} new people's files from {landing}")
    loaded = load_landing(landing, project.warehouse, raw_tables(project.root)).rows_loaded
    load = _timed("load", start, loaded)
    progress("dbt build (incremental: no --full-refresh)")
    incremental = build(project, folder, loaded, "incremental")
    customers_after = customer_summary(project.warehouse).customers
    progress("dbt build (idle: nothing new landed)")
    idle = build(project, folder, 0, "idle")
    assert full.build is not None
    return IncrementalFigures(
        people=extra,
        rows=loaded,
        generate=generated,
        load=load,
        build=incremental,
        ratio_to_full_build=incremental.seconds / full.build.seconds,
        customers_before=full.customers,
        customers_after=customers_after,
        idle_build=idle,
        idle_ratio_to_full_build=idle.seconds / full.build.seconds,
    )


def peak_rss_mb() -> dict[str, float]:
    """Peak resident memory of this process and of its largest child (dbt, generator workers)."""
    kib = 1024  # ru_maxrss is in KiB on Linux
    return {
        "cdp": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / kib,
        "children": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / kib,
    }


def machine() -> dict[str, Any]:
    return {
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": {name: version(name) for name in ("dbt-core", "dbt-duckdb", "duckdb", "splink")},
        "commit": _commit(),
        "settings": profile_settings(),
        "load_average_before": os.getloadavg(),  # 1, 5, 15 min: others' work on the same cores
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def profile_settings() -> dict[str, str]:
    """The variables of profiles.yml that change the figures (README, Configuration), as set
    for this run; empty: the profile's default."""
    return {name: os.environ.get(name, "") for name in ("CDP_DBT_THREADS", "CDP_DUCKDB_DISABLED_COMPRESSION")}


def _commit() -> str | None:
    try:
        found = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:
        return None
    return found.stdout.strip() or None
