"""The `cdp` command line."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table

from cdp.dbt_runner import run_dbt
from cdp.errors import CdpError
from cdp.generate import generate as generate_data
from cdp.generate.run import DEFAULT_AS_OF
from cdp.load import FileLoad, load_landing
from cdp.pipeline import DemoReport, run_demo
from cdp.project import Project
from cdp.source_config import raw_tables

app = typer.Typer(
    help="Warehouse-native customer data platform.", no_args_is_help=True, pretty_exceptions_enable=False
)
console = Console(soft_wrap=True)  # messages stay one line when piped to logs
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
    """Land new files as raw tables (files loaded before are skipped)."""
    project = Project.discover(project_dir, warehouse)

    def report(file: FileLoad) -> None:
        state = "[dim]already loaded, skipped[/]" if file.skipped else f"{file.rows:,} rows"
        console.print(f"  {file.table:<20} {file.file.name}: {state}")

    result = load_landing(landing, project.warehouse, raw_tables(project.root), on_file=report)
    console.print(
        f"loaded {result.rows_loaded:,} rows into {project.warehouse} "
        f"({result.files_skipped} file(s) skipped as already loaded)"
    )


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def build(ctx: typer.Context, project_dir: ProjectDir = None, warehouse: Warehouse = None) -> None:
    """Run `dbt build` on the project; extra arguments go to dbt (e.g. --select staging)."""
    project = Project.discover(project_dir, warehouse)
    raise typer.Exit(run_dbt(project, ["build", *ctx.args]).returncode)


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
    statuses = ", ".join(f"{n} {status}" for status, n in sorted(report.dbt.statuses.items()))
    console.print(f"dbt build: {statuses}")
    console.print("timings: " + ", ".join(f"{k} {v:.1f}s" for k, v in report.timings.items()))
    console.print(f"warehouse: {project.warehouse} (open it with duckdb, or `cdp build` to rebuild)")


def main() -> None:
    try:
        app()
    except CdpError as exc:
        error_console.print(f"[bold red]error:[/] {exc}", markup=True, highlight=False)
        sys.exit(1)


if __name__ == "__main__":
    main()
