"""Run the declared suites against the warehouse, record every result, and fail on errors.

The warehouse is the dbt target ($CDP_TARGET). On PostgreSQL the expectations run as SQL
inside the database, through GX's Postgres datasource: one query asset per table, selecting
the columns its expectations need (``select`` expressions are DuckDB SQL, transpiled; see
``cdp.quality.postgres``). GX 1.x has no DuckDB SQL dialect (its SQL datasource silently
reports failures there), so on DuckDB those columns are selected into a pandas dataframe and
validated in memory. Either way results are appended to ``quality.validation_results`` in
the warehouse and rendered as GX data docs under ``target/gx_docs/``.
"""

from __future__ import annotations

import logging
import math
import uuid
from collections.abc import Callable
from contextlib import closing
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import duckdb
import psycopg
import sqlglot

from cdp.errors import CdpError, QualityCheckFailed
from cdp.project import Project, dbt_target, postgres_settings
from cdp.quality import postgres
from cdp.quality.config import SuiteConfig, TableConfig, build_suite, columns_needed, load_suites, utc_now
from cdp.quality.gx_import import import_gx

RESULTS_TABLE = "quality.validation_results"
DOCS_DIR = Path("target/gx_docs")
_RESULT_COLUMNS = (
    "run_id varchar not null, validated_at timestamp not null, suite varchar not null, "
    "table_name varchar not null, column_name varchar, expectation varchar not null, "
    "severity varchar not null, success boolean not null, observed_value varchar, "
    "unexpected_rate double precision, element_count bigint, unexpected_count bigint, "
    "message varchar not null"
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
    datasource: str | None = None  # type of the GX datasource that ran the expectations

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
            "datasource": self.datasource,
            "results": [r.to_dict() for r in self.results],
        }


def run_quality(
    project: Project, suites: list[str] | None = None, docs_dir: Path | None = None
) -> QualityReport:
    """Validate the suites named (default: all), append the results to quality.validation_results
    and build data docs in ``docs_dir`` (default: target/gx_docs of the project).
    Never raises for failed expectations: call ``raise_for_errors``."""
    configs = load_suites(project.root, suites)
    open_warehouse = _warehouse_for(dbt_target())
    now = utc_now()
    report = QualityReport(run_id=uuid.uuid4().hex[:12])
    docs_dir = docs_dir or project.root / DOCS_DIR
    context = _ephemeral_context(docs_dir)
    with closing(open_warehouse(project, context)) as warehouse:
        report.datasource = warehouse.source.type
        for config in configs:
            for table in config.tables:
                batch = warehouse.batch(config, table)
                suite = build_suite(config, table, now)
                validation = batch.validate(suite)
                report.results.extend(
                    _check_result(report.run_id, now, config.name, table, r) for r in validation.results
                )
                _store_for_docs(context, suite, batch.id, validation, report.run_id, now)
        warehouse.append(report.results)
    context.build_data_docs(site_names=["cdp"])
    report.docs = docs_dir / "index.html"
    return report


def _ephemeral_context(docs_dir: Path) -> Any:
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    gx = import_gx()
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


_TIMESTAMPTZ = psycopg.postgres.types["timestamptz"].oid
# Concurrent runs creating the same schema, table or function would collide: they take turns.
_DDL_LOCK = "select pg_advisory_xact_lock(hashtext('cdp.quality'))"


class _Warehouse(Protocol):
    """Where a target differs: how a table's batch is made, and where results are appended."""

    source: Any  # the GX datasource

    def batch(self, suite: SuiteConfig, table: str) -> Any: ...

    def append(self, results: list[CheckResult]) -> None: ...

    def close(self) -> None: ...


def _warehouse_for(target: str) -> Callable[[Project, Any], _Warehouse]:
    warehouses = {"duckdb": _DuckDBWarehouse, "postgres": _PostgresWarehouse}
    if target not in warehouses:
        raise CdpError(
            f"cdp check cannot run on the {target!r} target (CDP_TARGET): "
            f"supported targets are {', '.join(warehouses)}"
        )
    return warehouses[target]


def _select_sql(table: str, config: TableConfig, expression: Callable[[str], str] = str) -> str:
    """The select of the columns ``config``'s expectations need; ``expression`` maps a
    ``select`` expression (DuckDB SQL) to the target's SQL."""
    selected = [
        f"{expression(config.select[c]) if c in config.select else _quote(c)} as {_quote(c)}"
        for c in columns_needed(config)
    ]
    return f"select {', '.join(selected or ['1 as _row'])} from {table}"


def _select_error(suite: SuiteConfig, table: str, error: Exception) -> CdpError:
    columns = columns_needed(suite.tables[table])
    return CdpError(
        f"{suite.path}: table '{table}': cannot select {', '.join(columns) or 'rows'}: "
        f"{str(error).strip().splitlines()[0]}"
    )


class _DuckDBWarehouse:
    """The DuckDB file: each table's columns are selected into a dataframe for GX's pandas engine."""

    def __init__(self, project: Project, context: Any) -> None:
        if not project.warehouse.exists():
            raise CdpError(
                f"warehouse {project.warehouse} does not exist: run `cdp demo` or `cdp build` first"
            )
        self.path = project.warehouse
        self.source = context.data_sources.add_pandas("warehouse")

    def batch(self, suite: SuiteConfig, table: str) -> Any:
        sql = _select_sql(table, suite.tables[table])
        try:
            with duckdb.connect(str(self.path), read_only=True) as con:
                frame = con.execute(sql).df()
        except duckdb.Error as exc:
            raise _select_error(suite, table, exc) from exc
        asset = self.source.add_dataframe_asset(name=f"{suite.name}.{table}")
        return asset.add_batch_definition_whole_dataframe("whole").get_batch(
            batch_parameters={"dataframe": frame}
        )

    def append(self, results: list[CheckResult]) -> None:
        """Append-only: one row per expectation per run."""
        with duckdb.connect(str(self.path)) as con:
            con.execute("create schema if not exists quality")
            con.execute(f"create table if not exists {RESULTS_TABLE} ({_RESULT_COLUMNS})")
            if results:
                con.executemany(_insert_sql("?"), _rows(results))

    def close(self) -> None:
        pass


class _PostgresWarehouse:
    """PostgreSQL: each table is a GX query asset, so the expectations run as SQL in the database."""

    def __init__(self, project: Project, context: Any) -> None:
        settings = postgres_settings()
        # Session time zone UTC, as in the DuckDB profile: in select expressions, zone-less text
        # cast to timestamptz is read as UTC, and a timestamptz compared with a timestamp treats
        # that as UTC. Timestamp columns hold naive UTC and compare with ``now`` as they are;
        # timestamptz columns are made naive UTC (_naive_utc).
        options = "-c TimeZone=UTC"
        try:
            self.con = psycopg.connect(**settings, options=options, autocommit=True)
        except psycopg.Error as exc:
            where = f"{settings['user']}@{settings['host']}:{settings['port']}/{settings['dbname']}"
            raise CdpError(f"cannot connect to PostgreSQL {where} (CDP_PG_*): {exc}".strip()) from exc
        self.source = context.data_sources.add_postgres(
            "warehouse",
            connection_string=_sqlalchemy_url(settings),
            kwargs={"connect_args": {"options": options}},
        )
        self.functions: set[str] = set()

    def batch(self, suite: SuiteConfig, table: str) -> Any:
        try:
            sql = _select_sql(table, suite.tables[table], self._translate)
            # No rows read: unknown tables or columns fail here, naming suite and table.
            columns = self.con.execute(f"select * from ({sql}) as checked limit 0").description or []
        except (sqlglot.errors.SqlglotError, psycopg.Error) as exc:
            raise _select_error(suite, table, exc) from exc
        asset = self.source.add_query_asset(name=f"{suite.name}.{table}", query=_naive_utc(sql, columns))
        return asset.add_batch_definition_whole_table("whole").get_batch()

    def _translate(self, expression: str) -> str:
        """A ``select`` expression as Postgres SQL, with the safe-cast functions it calls created."""
        sql, types = postgres.to_postgres(expression)
        if missing := sorted(types - self.functions):
            with self.con.transaction():
                self.con.execute(_DDL_LOCK)
                self.con.execute(f"create schema if not exists {postgres.SCHEMA}")
                for type_sql in missing:
                    self.con.execute(postgres.try_cast_ddl(type_sql))
            self.functions.update(missing)
        return sql

    def append(self, results: list[CheckResult]) -> None:
        """Append-only: one row per expectation per run."""
        with self.con.transaction():
            self.con.execute(_DDL_LOCK)
            self.con.execute("create schema if not exists quality")
            self.con.execute(f"create table if not exists {RESULTS_TABLE} ({_RESULT_COLUMNS})")
            if results:
                self.con.cursor().executemany(_insert_sql("%s"), _rows(results))

    def close(self) -> None:
        self.source.get_engine().dispose()
        self.con.close()


def _naive_utc(sql: str, columns: list[psycopg.Column]) -> str:
    """``sql`` with its timestamptz columns as naive UTC timestamps, like ``now`` in kwargs:
    GX compares aggregates (e.g. a column's max) in Python, where naive and aware datetimes
    do not compare."""
    zoned = {c.name for c in columns if c.type_code == _TIMESTAMPTZ}
    if not zoned:
        return sql
    selected = [
        f"{_quote(c.name)} at time zone 'UTC' as {_quote(c.name)}" if c.name in zoned else _quote(c.name)
        for c in columns
    ]
    return f"select {', '.join(selected)} from ({sql}) as checked"


def _sqlalchemy_url(settings: dict[str, str]) -> str:
    from sqlalchemy.engine import URL

    url = URL.create(
        "postgresql+psycopg",
        username=settings["user"],
        password=settings["password"] or None,
        host=settings["host"],
        port=int(settings["port"]),
        database=settings["dbname"],
    )
    return url.render_as_string(hide_password=False)


def _insert_sql(placeholder: str) -> str:
    fields = list(CheckResult.__dataclass_fields__)
    marks = ", ".join([placeholder] * len(fields))
    return f"insert into {RESULTS_TABLE} ({', '.join(fields)}) values ({marks})"


def _rows(results: list[CheckResult]) -> list[list[Any]]:
    fields = list(CheckResult.__dataclass_fields__)
    return [[getattr(r, f) for f in fields] for r in results]
