"""The main job on the embedded warehouse: generate -> load -> dbt build -> quality checks ->
segment files for a local destination -> file syncs -> summary. The Dagster code location runs the same steps
as assets (orchestration/)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cdp.activation import DEFAULT_EXPORT_DIR, SegmentFile, export_segment_files
from cdp.dbt_runner import DbtResult, run_dbt
from cdp.errors import CdpError
from cdp.evaluate import IdentityEvaluation, evaluate_identity
from cdp.generate import generate
from cdp.generate.run import DEFAULT_AS_OF, MANIFEST, sample_as_of_env
from cdp.load import LoadReport, load_landing
from cdp.project import Project
from cdp.quality import QualityReport, run_quality
from cdp.segments import CompileResult, SegmentReport, compile_segments, segment_report
from cdp.source_config import raw_tables
from cdp.summary import (
    CustomerSummary,
    IdentitySummary,
    StagingCount,
    customer_summary,
    identity_summary,
    staging_counts,
)
from cdp.sync import SyncRun, load_syncs, run_sync


@dataclass
class DemoReport:
    timings: dict[str, float] = field(default_factory=dict)
    generated_rows: int = 0
    generation_cached: bool = False
    load: LoadReport | None = None
    segments: CompileResult | None = None  # segments/*.yml compiled before dbt build
    dbt: DbtResult | None = None
    staging: list[StagingCount] = field(default_factory=list)
    identity: IdentitySummary | None = None
    evaluation: IdentityEvaluation | None = None  # against the generator's ground truth
    attributable: IdentityEvaluation | None = None  # the same, without ambiguous records
    customers: CustomerSummary | None = None
    segment_sizes: SegmentReport | None = None
    quality: QualityReport | None = None  # expectations/*.yml, checked after dbt build
    activation: list[SegmentFile] = field(default_factory=list)  # written only if quality passed
    syncs: list[SyncRun] = field(default_factory=list)  # the file-type syncs of syncs/*.yml, idem


def landing_is_current(landing: Path, people: int, seed: int) -> bool:
    """True when ``landing`` already holds the output of the same generator parameters."""
    manifest = landing / MANIFEST
    if not manifest.exists():
        return False
    meta = json.loads(manifest.read_text())
    return (meta.get("people"), meta.get("seed"), meta.get("as_of")) == (
        people,
        seed,
        DEFAULT_AS_OF.date().isoformat(),
    )


def run_demo(
    project: Project, landing: Path, people: int, seed: int, progress: Callable[[str], None]
) -> DemoReport:
    report = DemoReport()
    tables = raw_tables(project.root)

    start = time.perf_counter()
    if landing_is_current(landing, people, seed):
        report.generation_cached = True
        progress(f"generate: reusing {landing} ({people:,} people, seed {seed})")
    else:
        progress(f"generate: {people:,} people, seed {seed} -> {landing}")
        report.generated_rows = generate(landing, people, seed).total_rows
    report.timings["generate"] = time.perf_counter() - start

    start = time.perf_counter()
    progress(f"load: {landing} -> {project.warehouse}")
    report.load = load_landing(landing, project.warehouse, tables)
    report.timings["load"] = time.perf_counter() - start

    start = time.perf_counter()
    report.segments = compile_segments(project.root)
    progress("dbt build: staging, identity resolution, customer marts, segments, and their tests")
    report.dbt = run_dbt(project, ["build"], quiet=True, env=sample_as_of_env())
    report.timings["dbt build"] = time.perf_counter() - start
    if not report.dbt.ok:
        raise CdpError(
            "dbt build failed: run `cdp build` to see the failing models and tests "
            f"(results: {dict(report.dbt.statuses)})"
        )

    start = time.perf_counter()
    progress("quality: Great Expectations suites in expectations/ (results: quality.validation_results)")
    report.quality = run_quality(project)
    report.timings["quality"] = time.perf_counter() - start

    if not report.quality.errors:  # as in Dagster, failed error-severity checks block activation
        start = time.perf_counter()
        exports = project.root / DEFAULT_EXPORT_DIR / "segments"
        progress(f"activation: one CSV per segment -> {exports}")
        names = [declared.name for declared in report.segments.segments]
        report.activation = export_segment_files(project.warehouse, exports, names)
        report.timings["activation"] = time.perf_counter() - start

        start = time.perf_counter()
        # Only local files: the demo must not reach out to databases or APIs of syncs/*.yml.
        local = [
            declared for declared in load_syncs(project.root) if declared.sync.destination["type"] == "file"
        ]
        progress(f"syncs: {len(local)} file sync(s) of syncs/*.yml (history: activation.sync_runs)")
        report.syncs = [run_sync(project, declared) for declared in local]
        report.timings["syncs"] = time.perf_counter() - start

    report.staging = staging_counts(project.warehouse, tables)
    report.segment_sizes = segment_report(project.warehouse, [s.name for s in report.segments.segments])
    report.identity = identity_summary(project.warehouse)
    report.customers = customer_summary(project.warehouse)
    report.evaluation = evaluate_identity(project.warehouse, landing / "_truth", examples=0)
    report.attributable = evaluate_identity(
        project.warehouse, landing / "_truth", examples=0, exclude_ambiguous=True
    )
    return report
