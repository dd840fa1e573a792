"""Run the declared suites against the warehouse, record every result, and fail on errors.

GX 1.x has no DuckDB SQL dialect (its SQL datasource silently reports failures there), so on
DuckDB the columns a table's expectations need are selected in SQL into a pandas dataframe and
validated in an ephemeral GX context. Results are appended to ``quality.validation_results``
and rendered as GX data docs under ``target/gx_docs/``.
"""

from __future__ import annotations

import logging
import math
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from cdp.errors import CdpError, QualityCheckFailed
from cdp.project import Project, dbt_target
from cdp.quality.config import SuiteConfig, TableConfig, build_suite, columns_needed, load_suites, utc_now

RESULTS_TABLE = "quality.validation_results"
DOCS_DIR = Path("target/gx_docs")
_RESULT_COLUMNS = (
    "run_id varchar not null, validated_at timestamp not null, suite varchar not null, "
    "table_name varchar not null, column_name varchar, expectation varchar not null, "
    "severity varchar not null, success boolean not null, observed_value varchar, "
    "unexpected_rate double, element_count bigint, unexpected_count bigint, message varchar not null"
)


@dataclass(frozen=True)
class CheckResult:
    run_id: str
    validated_at: datetime
    suite: str
    table_name: str
    column_name: str | None
    expectation: str
    severity: str
    success: bool
    observed_value: str | None
    unexpected_rate: float | None  # share of non-null values failing, for per-row expectations
    element_count: int | None
    unexpected_count: int | None
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "validated_at": self.validated_at.isoformat()}


@dataclass
class QualityReport:
    run_id: str
    results: list[CheckResult] = field(default_factory=list)
    docs: Path | None = None  # index.html of the data docs

    @property
    def passed(self) -> int:
        return sum(r.success for r in self.results)

    @property
    def errors(self) -> list[CheckResult]:
        return [r for r in self.results if not r.success and r.severity == "error"]

    @property
    def warnings(self) -> list[CheckResult]:
        return [r for r in self.results if not r.success and r.severity == "warn"]

    def summary(self) -> str:
        return (
            f"quality: {len(self.results)} expectations, {self.passed} passed, "
            f"{len(self.errors)} failed (error), {len(self.warnings)} warned"
        )

    def raise_for_errors(self) -> None:
        if self.errors:
            raise QualityCheckFailed(
                f"{len(self.errors)} error-severity expectation(s) failed: "
                + "; ".join(r.message for r in self.errors)
                + f" (all results: {RESULTS_TABLE}, run_id {self.run_id})"
            )

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "passed": self.passed,
            "failed": len(self.errors),
            "warned": len(self.warnings),
            "docs": str(self.docs) if self.docs else None,
            "results": [r.to_dict() for r in self.results],
        }


def run_quality(
    project: Project, suites: list[str] | None = None, docs_dir: Path | None = None
) -> QualityReport:
    """Validate the suites named (default: all), append the results to quality.validation_results
    and build data docs in ``docs_dir`` (default: target/gx_docs of the project).
    Never raises for failed expectations: call ``raise_for_errors``."""
    configs = load_suites(project.root, suites)
    target = dbt_target()
    if target != "duckdb":
        raise CdpError(
            f"cdp check supports the duckdb target only so far (CDP_TARGET={target}): "
            "GX's postgres SQL datasource is not wired up yet; unset CDP_TARGET to check the DuckDB warehouse"
        )
    if not project.warehouse.exists():
        raise CdpError(f"warehouse {project.warehouse} does not exist: run `cdp demo` or `cdp build` first")
    now = utc_now()
    report = QualityReport(run_id=uuid.uuid4().hex[:12])
    docs_dir = docs_dir or project.root / DOCS_DIR
    context = _ephemeral_context(docs_dir)
    source = context.data_sources.add_pandas("warehouse")
    with duckdb.connect(str(project.warehouse), read_only=True) as con:
        for config in configs:
            for table, table_config in config.tables.items():
                frame = _select(con, config, table, table_config)
                suite = build_suite(config, table, now)
                asset = source.add_dataframe_asset(name=f"{config.name}.{table}")
                batch = asset.add_batch_definition_whole_dataframe("whole").get_batch(
                    batch_parameters={"dataframe": frame}
                )
                validation = batch.validate(suite)
                report.results.extend(
                    _check_result(report.run_id, now, config.name, table, r) for r in validation.results
                )
                _store_for_docs(context, suite, batch.id, validation, report.run_id, now)
    _append(project.warehouse, report.results)
    context.build_data_docs(site_names=["cdp"])
    report.docs = docs_dir / "index.html"
    return report


def _ephemeral_context(docs_dir: Path) -> Any:
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    docs_dir.mkdir(parents=True, exist_ok=True)
    # Data docs render the results kept in the context's in-memory validation results store.
    context.add_data_docs_site(
        site_name="cdp",
        site_config={
            "class_name": "SiteBuilder",
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(docs_dir),
            },
        },
    )
    return context


def _select(con: duckdb.DuckDBPyConnection, suite: SuiteConfig, table: str, config: TableConfig) -> Any:
    columns = columns_needed(config)
    expressions = [f"{config.select.get(c, _quote(c))} as {_quote(c)}" for c in columns] or ["1 as _row"]
    sql = f"select {', '.join(expressions)} from {table}"
    try:
        return con.execute(sql).df()
    except duckdb.Error as exc:
        raise CdpError(
            f"{suite.path}: table '{table}': cannot select {', '.join(columns) or 'rows'}: "
            f"{str(exc).splitlines()[0]}"
        ) from exc


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _check_result(run_id: str, now: datetime, suite: str, table: str, result: Any) -> CheckResult:
    config = result.expectation_config
    details = result.result or {}
    column = config.kwargs.get("column")
    severity = config.meta.get("severity", "error")
    observed = details.get("observed_value")
    elements = details.get("element_count")
    unexpected = details.get("unexpected_count")
    rate = details.get("unexpected_percent")
    rate = None if rate is None or (isinstance(rate, float) and math.isnan(rate)) else rate / 100
    if result.exception_info and result.exception_info.get("raised_exception"):
        message_text = result.exception_info.get("exception_message") or "raised an exception"
        observed = observed or message_text
    where = f"{table}.{column}" if column else table
    if result.success:
        outcome = "passed"
    elif rate is not None:
        mostly = config.kwargs.get("mostly")
        allowed = f", allowed {1 - mostly:.1%}" if mostly is not None else ""
        checked = (elements or 0) - (details.get("missing_count") or 0)
        outcome = f"failing rate {rate:.1%} ({unexpected:,} of {checked:,} non-null values{allowed})"
    else:
        outcome = f"observed {observed!r}"
    message = f"{where}: {config.type} [{severity}] {outcome}"
    return CheckResult(
        run_id,
        now,
        suite,
        table,
        column,
        config.type,
        severity,
        bool(result.success),
        None if observed is None else str(observed),
        rate,
        elements,
        unexpected,
        message,
    )


def _store_for_docs(
    context: Any, suite: Any, batch_id: str, validation: Any, run_id: str, now: datetime
) -> None:
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    key = ValidationResultIdentifier(
        expectation_suite_identifier=ExpectationSuiteIdentifier(name=suite.name),
        run_id=RunIdentifier(run_name=run_id, run_time=now),
        batch_identifier=batch_id,
    )
    context.validation_results_store.set(key, validation)


def _append(warehouse: Path, results: list[CheckResult]) -> None:
    """Append-only: one row per expectation per run."""
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema if not exists quality")
        con.execute(f"create table if not exists {RESULTS_TABLE} ({_RESULT_COLUMNS})")
        if results:
            fields = list(CheckResult.__dataclass_fields__)
            con.executemany(
                f"insert into {RESULTS_TABLE} ({', '.join(fields)}) values ({', '.join('?' * len(fields))})",
                [[getattr(r, f) for f in fields] for r in results],
            )
