"""The `cdp` command line."""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table

from cdp.bench import DEFAULT_DATA_DIR, BenchReport, default_warehouse, run_bench
from cdp.clustering_bench import as_dict, benchmark
from cdp.dagster_ui import prepare_manifest, ui_command, ui_environment
from cdp.errors import CdpError, SegmentError
from cdp.evaluate import IdentityEvaluation, evaluate_identity
from cdp.explain import Explanation, explain_customer
from cdp.generate import generate as generate_data
from cdp.generate.run import DEFAULT_AS_OF
from cdp.load import FileLoad, load_landing
from cdp.pipeline import DemoReport, run_demo
from cdp.portability import PortabilityReport, check_portability
from cdp.privacy.erase import erase as erase_subject
from cdp.privacy.subject import SubjectRef
from cdp.project import Project, dbt_target
from cdp.python_models import build as build_project
from cdp.quality import QualityReport, run_quality
from cdp.segments import SegmentReport, compile_segments, load_segments, segment_report
from cdp.segments.compile import CompileResult, target_dialect
from cdp.source_config import raw_tables
from cdp.summary import CustomerSummary
from cdp.sync import SyncRun, find_sync, last_runs, load_syncs, run_sync
from cdp.targets import PYTHON_MODEL_TARGETS
from cdp.targets.publish import publish_raw_in_child

app = typer.Typer(
    help="Warehouse-native customer data platform.", no_args_is_help=True, pretty_exceptions_enable=False
)
# Messages stay one line, and tables are not cut to 80 columns, when piped to logs.
console = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 160)
error_console = Console(stderr=True, soft_wrap=True)

ProjectDir = Annotated[
    Path | None,
    typer.Option(
        "--project-dir", help="Folder with dbt_project.yml (default: found from the working directory)."
    ),
]
Warehouse = Annotated[
    Path | None,
    typer.Option("--warehouse", help="DuckDB file (default: $CDP_DUCKDB_PATH or warehouse/cdp.duckdb)."),
]


@app.command()
def generate(
    customers: Annotated[int, typer.Option(help="Number of true people to generate.")] = 10_000,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same files.")] = 42,
    out: Annotated[Path, typer.Option(help="Landing folder to write.")] = Path("data/landing"),
    as_of: Annotated[datetime, typer.Option(help="Date the data ends at.")] = DEFAULT_AS_OF,
) -> None:
    """Generate realistic, noisy raw source files with ground truth in OUT/_truth."""
    with Progress(
        *Progress.get_default_columns()[:-1], MofNCompleteColumn(), TimeElapsedColumn(), console=console
    ) as bar:
        task = bar.add_task("generating people", total=customers)
        result = generate_data(
            out, customers, seed, as_of=as_of, progress=lambda done: bar.update(task, completed=done)
        )
    table = Table("raw table", "rows", title=f"{customers:,} people, seed {seed} -> {out}")
    for name, rows in result.row_counts.items():
        table.add_row(name, f"{rows:,}")
    table.add_row("total", f"{result.total_rows:,}", style="bold")
    console.print(table)


@app.command()
def load(
    landing: Annotated[Path, typer.Argument(help="Landing folder with <table>/*.parquet.")],
    project_dir: ProjectDir = None,
    warehouse: Warehouse = None,
) -> None:
    """Land new files as raw tables (files loaded before are skipped). With CDP_TARGET=postgres
    or spark, the raw tables are then copied to that target."""
    project = Project.discover(project_dir, warehouse)

    def report(file: FileLoad) -> None:
        state = "[dim]already loaded, skipped[/]" if file.skipped else f"{file.rows:,} rows"
        if file.withheld:
            state += f", {file.withheld:,} withheld (erased people)"
        console.print(f"  {file.table:<20} {file.file.name}: {state}")

    result = load_landing(landing, project.warehouse, raw_tables(project.root), on_file=report)
    withheld = f", {result.rows_withheld:,} rows of erased people withheld" if result.rows_withheld else ""
    console.print(
        f"loaded {result.rows_loaded:,} rows into {project.warehouse} "
        f"({result.files_skipped} file(s) skipped as already loaded{withheld})"
    )
    target = dbt_target()
    if target not in PYTHON_MODEL_TARGETS:
        console.print(f"copying the raw tables to target {target}")
        copied = publish_raw_in_child(project.root, target, project.warehouse, project.dbt_env())
        console.print(copied, end="")


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def build(ctx: typer.Context, project_dir: ProjectDir = None, warehouse: Warehouse = None) -> None:
    """Compile segments, then run `dbt build`; extra arguments go to dbt (e.g. --select staging).
    On Postgres and Spark, cdp runs the Python models between dbt phases (whole project only)."""
    project = Project.discover(project_dir, warehouse)
    _print_compile(compile_segments(project.root))
    raise typer.Exit(build_project(project, ctx.args).returncode)


@app.command()
def demo(
    customers: Annotated[int, typer.Option(help="Number of true people to generate.")] = 10_000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 42,
    landing: Annotated[Path, typer.Option(help="Landing folder.")] = Path("data/landing"),
    project_dir: ProjectDir = None,
    warehouse: Warehouse = None,
) -> None:
    """Run the main job end to end on the embedded DuckDB warehouse and print a summary."""
    project = Project.discover(project_dir, warehouse)
    landing = landing if landing.is_absolute() else project.root / landing
    report = run_demo(project, landing, customers, seed, progress=lambda m: console.print(f"[cyan]>[/] {m}"))
    _print_demo(report, project)
    if report.quality:
        report.quality.raise_for_errors()


def _print_demo(report: DemoReport, project: Project) -> None:
    table = Table(
        "raw table",
        "landed",
        "staged",
        "quarantined",
        "top quarantine reasons",
        title="Staging: every landed row is staged or quarantined",
    )
    for count in report.staging:
        reasons = ", ".join(f"{kind} {n:,}" for kind, n in count.top_reasons)
        table.add_row(
            count.raw_table,
            f"{count.raw:,}",
            f"{count.staged:,}",
            f"{count.quarantined:,}",
            reasons,
            style=None if count.accounted_for else "bold red",
        )
    console.print(table)
    if report.identity and report.evaluation:
        identity, scored = report.identity, report.evaluation
        cut = ", ".join(f"{guard} {n:,}" for guard, n in identity.cut_links) or "none"
        console.print(
            f"identity: {identity.records:,} records -> {identity.customers:,} customers "
            f"({identity.probabilistic_links:,} probabilistic links; links cut: {cut}; "
            f"clustering converged in {identity.passes} pass(es))"
        )
        console.print(
            f"identity vs ground truth ({scored.records:,} linkable records): pairwise precision "
            f"{scored.pairwise_precision:.4f}, recall {scored.pairwise_recall:.4f} (details: cdp evaluate)"
        )
        if report.attributable:
            clear = report.attributable
            console.print(
                f"  without {clear.records_ambiguous:,} ambiguous records (only a household inbox or a "
                f"placeholder to go by): precision {clear.pairwise_precision:.4f}, "
                f"recall {clear.pairwise_recall:.4f}"
            )
    if report.customers:
        _print_customers(report.customers)
    if report.segment_sizes and report.segment_sizes.sizes:
        sizes = ", ".join(
            f"{size.segment_name} {size.members:,} ({size.share:.1%})" for size in report.segment_sizes.sizes
        )
        console.print(f"segments: {sizes} (details: cdp segments)", highlight=False)
    statuses = ", ".join(f"{n} {status}" for status, n in sorted(report.dbt.statuses.items()))
    console.print(f"dbt build: {statuses}")
    if report.quality:
        console.print(f"{report.quality.summary()} (details: cdp check)", highlight=False)
    if report.activation:
        folder = report.activation[0].path.parent
        members = sum(file.rows for file in report.activation)
        console.print(f"activation: {len(report.activation)} segment files, {members:,} members -> {folder}")
    for run in report.syncs:
        console.print(f"sync {_sync_line(run)} (details: cdp syncs)", highlight=False)
    console.print("timings: " + ", ".join(f"{k} {v:.1f}s" for k, v in report.timings.items()))
    console.print(f"warehouse: {project.warehouse} (open it with duckdb, or `cdp build` to rebuild)")


def _print_customers(customers: CustomerSummary) -> None:
    console.print(
        f"customer_360: {customers.customers:,} customers, {customers.buyers:,} with a completed order, "
        f"revenue {customers.revenue:,.2f} (reporting currency)"
    )
    segments = ", ".join(f"{name} {n:,}" for name, n in customers.rfm_segments)
    console.print(f"customer_rfm: {segments}")
    if customers.predicted_clv is not None and customers.mean_churn_risk is not None:
        console.print(
            f"customer_predictions: predicted CLV {customers.predicted_clv:,.2f} in all, "
            f"mean churn risk {customers.mean_churn_risk:.1%}"
        )


class SuiteChoice(StrEnum):
    raw = "raw"
    marts = "marts"
    all = "all"


@app.command()
def check(
    suite: Annotated[SuiteChoice, typer.Option(help="Suite in expectations/ to run.")] = SuiteChoice.all,
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
    project_dir: ProjectDir = None,
    warehouse: Warehouse = None,
) -> None:
    """Run the Great Expectations suites in expectations/*.yml; exit 1 if an error-severity one fails."""
    project = Project.discover(project_dir, warehouse)
    report = run_quality(project, None if suite is SuiteChoice.all else [suite.value])
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
    else:
        _print_quality(report)
    report.raise_for_errors()


@app.command()
def ui(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port of the web UI.")] = 3000,
    project_dir: ProjectDir = None,
    warehouse: Warehouse = None,
) -> None:
    """Start the Dagster UI (webserver and daemon) with the CDP code location loaded."""
    project = Project.discover(project_dir, warehouse)
    console.print("[cyan]>[/] dbt parse: the manifest the Dagster code location is built from")
    prepare_manifest(project)
    command = ui_command(project, host, port)
    console.print(f"[cyan]>[/] Dagster UI on http://{host}:{port} (Ctrl-C stops it): {' '.join(command)}")
    os.chdir(project.root)
    os.execvpe(command[0], command, ui_environment(project))  # Dagster handles Ctrl-C itself


def _print_quality(report: QualityReport) -> None:
    table = Table(
        "suite",
        "table",
        "column",
        "expectation",
        "severity",
        "result",
        "failing rate",
        "observed",
        title=f"Data quality, run {report.run_id} (appended to quality.validation_results)",
    )
    for r in report.results:
        state = "pass" if r.success else "FAIL" if r.severity == "error" else "warn"
        style = None if r.success else "bold red" if r.severity == "error" else "yellow"
        rate = "" if r.unexpected_rate is None else f"{r.unexpected_rate:.1%}"
        table.add_row(
            r.suite,
            r.table_name,
            r.column_name or "",
            r.expectation,
            r.severity,
            state,
            rate,
            r.observed_value or "",
            style=style,
        )
    console.print(table)
    docs = f"; data docs: {report.docs}" if report.docs else ""
    console.print(f"{report.summary()}{docs}", highlight=False)


DEFAULT_TRUTH = Path("data/landing/_truth")


@app.command()
def evaluate(
    truth: Annotated[
        Path | None,
        typer.Option(help="Ground truth folder written by `cdp generate` (default: data/landing/_truth)."),
    ] = None,
    project_dir: ProjectDir = None,
    warehouse: Warehouse = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the result as JSON instead of tables.")
    ] = False,
    min_precision: Annotated[
        float | None, typer.Option(min=0.0, max=1.0, help="Exit 1 if pairwise precision is below this.")
    ] = None,
    min_recall: Annotated[
        float | None, typer.Option(min=0.0, max=1.0, help="Exit 1 if pairwise recall is below this.")
    ] = None,
    examples: Annotated[int, typer.Option(min=0, help="Over-merged and split examples to show.")] = 5,
    include_anonymous: Annotated[
        bool,
        typer.Option(help="Also score records nothing ties to their person (anonymous devices)."),
    ] = False,
    exclude_ambiguous: Annotated[
        bool,
        typer.Option(
            help="Leave out records whose identifiers are all shared by several true people "
            "(a household inbox, test@test.com): no method can tell whose they are."
        ),
    ] = False,
) -> None:
    """Measure identity resolution (identity.customer_records) against the generator's ground truth."""
    project = Project.discover(project_dir, warehouse)
    truth_dir = truth or project.root / DEFAULT_TRUTH
    result = evaluate_identity(project.warehouse, truth_dir, examples, include_anonymous, exclude_ambiguous)
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2))
    else:
        _print_evaluation(result)
    failures = _gate_failures(result, min_precision, min_recall)
    if failures:
        error_console.print(f"[bold red]error:[/] {'; '.join(failures)}", markup=True, highlight=False)
        raise typer.Exit(1)


def _gate_failures(
    result: IdentityEvaluation, min_precision: float | None, min_recall: float | None
) -> list[str]:
    gates = [
        ("precision", result.pairwise_precision, min_precision),
        ("recall", result.pairwise_recall, min_recall),
    ]
    return [
        f"pairwise {name} {value:.4f} is below --min-{name} {floor}"
        for name, value, floor in gates
        if floor is not None and value < floor
    ]


def _print_evaluation(result: IdentityEvaluation) -> None:
    metrics = Table("metric", "precision", "recall", "F1", title="Identity resolution vs ground truth")
    metrics.add_row(
        "pairwise",
        *(f"{v:.4f}" for v in (result.pairwise_precision, result.pairwise_recall, result.pairwise_f1)),
    )
    metrics.add_row(
        "B-cubed", *(f"{v:.4f}" for v in (result.bcubed_precision, result.bcubed_recall, result.bcubed_f1))
    )
    console.print(metrics)
    console.print(
        f"{result.records:,} records evaluated: {result.customers:,} customers for {result.persons:,} "
        f"true persons; {result.correct_pairs:,} of {result.predicted_pairs:,} predicted pairs correct, "
        f"{result.true_pairs:,} true pairs"
    )
    console.print(
        f"not evaluated: {result.records_without_truth:,} records without a truth row, "
        f"{result.records_missing:,} truth records missing from identity.customer_records, "
        f"{result.records_anonymous:,} anonymous records (nothing ties them to a person; "
        f"--include-anonymous scores them too), {result.records_ambiguous:,} ambiguous records "
        "(--exclude-ambiguous)"
    )
    sources = Table(
        "source table",
        "evaluated",
        "no truth",
        "missing",
        "precision",
        "recall",
        title="Pairwise, per source table (pairs involving its records)",
    )
    for s in result.sources:
        sources.add_row(
            s.source_table,
            f"{s.records:,}",
            f"{s.records_without_truth:,}",
            f"{s.records_missing:,}",
            f"{s.pairwise_precision:.4f}",
            f"{s.pairwise_recall:.4f}",
        )
    console.print(sources)
    _print_examples(result)


def _print_examples(result: IdentityEvaluation) -> None:
    console.print(
        f"{result.over_merged_customers:,} over-merged customers (records of more than one person), "
        f"{result.split_persons:,} split persons (records in more than one customer)"
    )
    if result.over_merged:
        merged = Table("customer_id", "persons", "records", title="Largest over-merged customers")
        for c in result.over_merged:
            merged.add_row(c.customer_id, f"{c.persons:,}", f"{c.records:,}")
        console.print(merged)
    if result.split:
        split = Table("person_id", "customers", "records", title="Most split persons")
        for p in result.split:
            split.add_row(p.person_id, f"{p.customers:,}", f"{p.records:,}")
        console.print(split)


@app.command()
def explain(
    customer_id: Annotated[str | None, typer.Argument(help="A customer_id (cus_...).")] = None,
    identifier: Annotated[
        str | None,
        typer.Option(
            help="Find the customer by identifier TYPE:VALUE as staged (email:ann@example.com, "
            "phone:+4915112345678) or record:SOURCE_TABLE:RECORD_ID."
        ),
    ] = None,
    project_dir: ProjectDir = None,
    warehouse: Warehouse = None,
) -> None:
    """Show every record, identifier and link that built one customer, and every link cut."""
    if (customer_id is None) == (identifier is None):
        raise typer.BadParameter("give either a CUSTOMER_ID or --identifier, not both or neither")
    project = Project.discover(project_dir, warehouse)
    _print_explanation(explain_customer(project.warehouse, customer_id=customer_id, node=identifier))


def _print_explanation(found: Explanation) -> None:
    console.print(f"[bold]{found.customer_id}[/] (id derived from its earliest-seen node {found.anchor})")
    records = Table("source table", "records", "first seen", "last seen", title="Records")
    for source, count, first, last in found.records_by_source:
        records.add_row(source, f"{count:,}", first or "", last or "")
    console.print(records)
    identifiers = Table("type", "value", "records", "first seen", title="Identifiers")
    for kind, value, count, first in found.identifiers:
        identifiers.add_row(kind, value, f"{count:,}", first or "")
    console.print(identifiers)
    console.print("[bold]Links[/] (one line per pair of nodes; full width so keys are never cut)")
    for node_a, node_b, rule, count, example, probability, evidence in found.links:
        score = "" if probability is None else f" p={probability:.4f} ({evidence})"
        line = f"  {node_a} -[{rule}]- {node_b}: {count:,} record(s), e.g. {example}{score}"
        console.print(line, markup=False)
    if found.cut_links:
        console.print("[bold]Links cut by guards[/]")
        for node, guard, reason, count in found.cut_links:
            console.print(f"  {node}: {guard} ({reason}), {count:,} record(s)", markup=False)
    if found.history:
        console.print("[bold]Id history[/]")
        for changed_at, change, ids, reason in found.history:
            console.print(f"  {changed_at} {change} {ids}: {reason}", markup=False)


@app.command("bench-clustering")
def bench_clustering(
    identifiers: Annotated[
        list[int] | None,
        typer.Option("--identifiers", help="Graph sizes to cluster (repeat the option; default 100k, 1M)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines instead of a table.")] = False,
    project_dir: ProjectDir = None,
) -> None:
    """Time the connected-components passes on synthetic identity graphs (passes, s, peak memory)."""
    project = Project.discover(project_dir)
    columns = ["identifiers", "edges", "components", "passes", "clustering s", "dbt s", "ids/s", "peak MB"]
    table = Table(*columns, title="connected_components on synthetic identity graphs")
    for size in identifiers or [100_000, 1_000_000]:
        figures = benchmark(size, project.root)
        if as_json:
            typer.echo(json.dumps(as_dict(figures)))
        table.add_row(*(f"{value:,}" for value in as_dict(figures).values()))
    if not as_json:
        console.print(table)


@app.command("bench")
def bench(
    customers: Annotated[int, typer.Option(min=1, help="Number of true people to generate.")] = 100_000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 42,
    incremental: Annotated[
        bool, typer.Option(help="Then land 1% more people as new files and time an incremental build.")
    ] = False,
    as_json: Annotated[
        Path | None, typer.Option("--json", help="Also write the figures as JSON to this file ('-': stdout).")
    ] = None,
    data_dir: Annotated[
        Path, typer.Option(help="Folder for the sample data (cached per N), dbt target, exports.")
    ] = DEFAULT_DATA_DIR,
    project_dir: ProjectDir = None,
    warehouse: Annotated[
        Path | None,
        typer.Option("--warehouse", help="DuckDB file, created afresh (default warehouse/bench-N.duckdb)."),
    ] = None,
) -> None:
    """Time the whole job for N people: seconds per stage, rows/s, peak memory."""
    project = Project.discover(project_dir)
    chosen = warehouse or default_warehouse(project.root, customers)
    project = Project(project.root, chosen if chosen.is_absolute() else project.root / chosen)
    data_dir = data_dir if data_dir.is_absolute() else project.root / data_dir
    quiet = as_json == Path("-")
    report = run_bench(
        project,
        customers,
        seed,
        data_dir,
        incremental,
        progress=(lambda _: None) if quiet else lambda m: console.print(f"[cyan]>[/] {m}"),
    )
    figures = json.dumps(report.to_dict(), indent=2)
    if quiet:
        typer.echo(figures)
        return
    _print_bench(report)
    if as_json:
        as_json.parent.mkdir(parents=True, exist_ok=True)
        as_json.write_text(figures + "\n")
        console.print(f"figures: {as_json}")


def _print_bench(report: BenchReport) -> None:
    table = Table(
        "stage",
        "seconds",
        "busy s",
        "nodes",
        "raw rows/s",
        "note",
        title=f"cdp bench: {report.people:,} people, {report.rows:,} raw rows, "
        f"{report.machine['cores']} cores",
    )
    for stage in report.stages:
        table.add_row(
            stage.name,
            f"{stage.seconds:.1f}",
            "" if stage.busy is None else f"{stage.busy:.1f}",
            "" if stage.nodes is None else f"{stage.nodes:,}",
            "" if stage.rows_per_second is None else f"{stage.rows_per_second:,.0f}",
            stage.note,
        )
    console.print(table)
    build, peak, load = report.build, report.peak_rss_mb, report.machine
    if build:
        clustering = build.clustering
        console.print(
            f"dbt build: {build.seconds:.1f} s wall-clock ({_statuses(build.statuses)}); identity "
            f"clustering: {clustering['nodes_in_scope']:,} nodes, {clustering['passes']} pass(es), "
            f"{clustering['seconds']:.1f} s{_splink_scoring(build.splink_scoring)}"
        )
        console.print(f"  critical path: {build.critical_path.summary()}")
    console.print(
        f"total: {report.total_seconds:.1f} s, {report.rows_per_second:,.0f} raw rows/s after generation; "
        f"{report.customers:,} customers; peak memory: cdp {peak['cdp']:,.0f} MB, "
        f"largest child (dbt) {peak['children']:,.0f} MB; load average (1 min) "
        f"{load['load_average_before'][0]:.1f} before, {load['load_average_after'][0]:.1f} after"
    )
    more = report.incremental
    if more:
        console.print(
            f"incremental: +{more.people:,} people, +{more.rows:,} raw rows (generate "
            f"{more.generate.seconds:.1f} s {more.generate.note}, load {more.load.seconds:.1f} s); "
            f"dbt build {more.build.seconds:.1f} s = {more.ratio_to_full_build:.0%} of the full build "
            f"(clustering {more.build.clustering['mode']}, {more.build.clustering['nodes_in_scope']:,} "
            f"nodes{_splink_scoring(more.build.splink_scoring)}); "
            f"customers {more.customers_before:,} -> {more.customers_after:,}"
        )
        console.print(
            "  incremental build stages: "
            + ", ".join(f"{stage.name} {stage.seconds:.1f} s" for stage in more.build.stages)
        )
        console.print(f"  critical path: {more.build.critical_path.summary()}")
        console.print(
            f"idle: dbt build with nothing new {more.idle_build.seconds:.1f} s = "
            f"{more.idle_ratio_to_full_build:.0%} of the full build; stages: "
            + ", ".join(f"{stage.name} {stage.seconds:.1f} s" for stage in more.idle_build.stages)
        )
        console.print(f"  critical path: {more.idle_build.critical_path.summary()}")


def _splink_scoring(scoring: dict[str, int] | None) -> str:
    if scoring is None:
        return ""
    return f"; Splink scored {scoring['scored']:,} of {scoring['records']:,} person records"


def _statuses(statuses: dict[str, int]) -> str:
    return ", ".join(f"{n} {status}" for status, n in sorted(statuses.items()))


segments_app = typer.Typer(
    help="Audiences declared in segments/*.yml: compile them to dbt models, report sizes and overlaps.",
    invoke_without_command=True,
)
app.add_typer(segments_app, name="segments")


@segments_app.callback()
def segments(
    ctx: typer.Context,
    project_dir: ProjectDir = None,
    warehouse: Warehouse = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Report every segment's size, last-run entries and exits, and pairwise overlaps."""
    if ctx.invoked_subcommand is not None:
        return
    project = Project.discover(project_dir, warehouse)
    names = [declared.name for declared in load_segments(project.root, target_dialect())]
    report = segment_report(project.warehouse, names)
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
    else:
        _print_segments(report)


@segments_app.command("compile")
def segments_compile(
    project_dir: ProjectDir = None,
    check: Annotated[
        bool, typer.Option("--check", help="Write nothing; exit 1 if the generated models are out of date.")
    ] = False,
) -> None:
    """Validate segments/*.yml and write their dbt models to models/marts/segments/."""
    project = Project.discover(project_dir)
    result = compile_segments(project.root, check=check)
    if check and result.out_of_date:
        raise SegmentError(
            "generated segment models are out of date: "
            + "; ".join(result.out_of_date)
            + ": run `cdp segments compile` and commit the result"
        )
    _print_compile(result)


def _print_compile(result: CompileResult) -> None:
    changes = [f"wrote {path}" for path in result.written] + [f"removed {path}" for path in result.removed]
    state = ", ".join(changes) if changes else "models up to date"
    console.print(f"segments: {len(result.segments)} declared; {state}", highlight=False)


def _print_segments(report: SegmentReport) -> None:
    run = report.last_run_at.isoformat(sep=" ") if report.last_run_at else "never"
    sizes = Table(
        "segment",
        "members",
        "share",
        "entered",
        "exited",
        title=f"Segments of {report.customers:,} customers (entered/exited: last run, {run})",
    )
    for size in report.sizes:
        sizes.add_row(
            size.segment_name,
            f"{size.members:,}",
            f"{size.share:.1%}",
            f"{size.entered_last_run:,}",
            f"{size.exited_last_run:,}",
        )
    console.print(sizes)
    if report.overlaps:
        overlaps = Table("segment", "segment", "in both", "Jaccard", title="Overlap")
        for pair in report.overlaps:
            overlaps.add_row(pair.segment_a, pair.segment_b, f"{pair.both:,}", f"{pair.jaccard:.3f}")
        console.print(overlaps)


@app.command()
def sync(
    name: Annotated[str | None, typer.Argument(help="The sync to run (see `cdp syncs`).")] = None,
    run_all: Annotated[bool, typer.Option("--all", help="Run every declared sync.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the plan; send nothing.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the runs as JSON.")] = False,
    project_dir: ProjectDir = None,
    warehouse: Warehouse = None,
) -> None:
    """Send a declared sync's changes (syncs/*.yml) to its destination; exit 1 unless all arrived."""
    project = Project.discover(project_dir, warehouse)
    if (name is None) == (not run_all):
        raise CdpError("give one sync name, or --all (declared syncs: `cdp syncs`)")
    declared = load_syncs(project.root) if run_all else [find_sync(project.root, name or "")]
    runs = [run_sync(project, one, dry_run=dry_run) for one in declared]
    if as_json:
        typer.echo(json.dumps([run.to_dict() for run in runs], indent=2))
    else:
        for run in runs:
            console.print(_sync_line(run), highlight=False)
    failed = [run for run in runs if run.status in ("failed", "partial")]
    if failed:
        raise CdpError(
            "; ".join(f"sync {run.sync_name}: {run.status} ({run.error_sample})" for run in failed)
        )


def _sync_line(run: SyncRun) -> str:
    counts = f"{run.inserts:,} new, {run.updates:,} changed, {run.deletes:,} removed"
    if run.status == "dry_run":
        keys = ", ".join(run.first_keys) + (", ..." if run.rows_planned > len(run.first_keys) else "")
        first = f": {keys}" if keys else ""
        return f"{run.sync_name}: dry run, would send {run.rows_planned:,} rows ({counts}){first}"
    return (
        f"{run.sync_name}: {run.status}, {run.rows_planned:,} rows planned ({counts}), "
        f"{run.rows_acknowledged:,} acknowledged, {run.rows_rejected:,} rejected"
    )


@app.command("syncs")
def list_syncs(project_dir: ProjectDir = None, warehouse: Warehouse = None) -> None:
    """List the syncs declared in syncs/*.yml with their last run."""
    project = Project.discover(project_dir, warehouse)
    runs = last_runs(project.warehouse)
    table = Table("sync", "source", "mode", "purpose", "destination", "schedule", "last run", title="Syncs")
    for declared in load_syncs(project.root):
        one = declared.sync
        source = f"segment {one.source.segment}" if one.source.segment else "customer_360"
        finished, status = runs.get(declared.name, (None, "never"))
        last = f"{status} at {finished:%Y-%m-%d %H:%M}" if finished else status
        table.add_row(
            declared.name, source, one.mode, one.purpose, one.destination["type"], one.schedule or "", last
        )
    console.print(table)


@app.command()
def erase(
    email: Annotated[str | None, typer.Option("--email", help="Erase the person with this email.")] = None,
    customer_id: Annotated[str | None, typer.Option("--customer-id", help="Erase this customer.")] = None,
    reason: Annotated[str | None, typer.Option("--reason", help="Why (kept with the request).")] = None,
    project_dir: ProjectDir = None,
    warehouse: Warehouse = None,
) -> None:
    """Erase a person everywhere (raw, marts, logs, sync snapshots) and keep them out of later loads."""
    if (email is None) == (customer_id is None):
        raise CdpError("give exactly one of --email ADDRESS or --customer-id ID")
    project = Project.discover(project_dir, warehouse)
    ref = SubjectRef("email", email) if email is not None else SubjectRef("customer_id", customer_id or "")
    console.print(erase_subject(project, ref, reason).summary(), highlight=False)


@app.command()
def portability(
    target: Annotated[
        str, typer.Option(help="dbt target to compile for (duckdb needs nothing; postgres needs the server).")
    ] = "duckdb",
    select: Annotated[
        list[str] | None, typer.Option("--select", "-s", help="Check only these dbt selections.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    project_dir: ProjectDir = None,
) -> None:
    """Compile the dbt project and check that its SQL carries over to DuckDB, Spark, Trino,
    Snowflake and BigQuery (sqlglot); exit 1 naming each model, dialect and function that does not."""
    report = check_portability(Project.discover(project_dir), target, select)
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
    else:
        _print_portability(report)
    if not report.ok:
        for line in report.failure_lines:
            error_console.print(f"[bold red]error:[/] {line}", markup=True, highlight=False)
        raise typer.Exit(1)


def _print_portability(report: PortabilityReport) -> None:
    table = Table(
        "model",
        "file",
        *report.dialects,
        title=f"SQL portability: compiled for {report.target}, read as {report.read_dialect}",
    )
    styles = {"FAIL": "bold red", "allowed": "yellow", "dispatch": "cyan", "skipped": "dim"}
    for node in report.nodes:
        if node.resource_type != "model":
            continue
        states = [node.state(dialect) for dialect in report.dialects]
        cells = [f"[{styles[s]}]{s}[/]" if s in styles else s for s in states]
        table.add_row(node.name, node.path, *cells)
    tests = [node for node in report.nodes if node.resource_type == "test"]
    if tests:
        cells = []
        for dialect in report.dialects:
            failing = sum(1 for node in tests if node.state(dialect) == "FAIL")
            cells.append(f"[bold red]{failing} FAIL[/]" if failing else "ok")
        table.add_row(f"{len(tests)} data tests", "models/**/*.yml", *cells)
    console.print(table)
    console.print(
        "ok: carries over; dispatch: an adapter.dispatch macro writes it per engine; "
        "allowed: portability.yml allows it; FAIL: see the lines below",
        highlight=False,
    )
    console.print(report.summary(), highlight=False)


def main() -> None:
    try:
        app()
    except CdpError as exc:
        error_console.print(f"[bold red]error:[/] {exc}", markup=True, highlight=False)
        sys.exit(1)


if __name__ == "__main__":
    main()
