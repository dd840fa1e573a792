"""Data quality suites (expectations/*.yml) run with Great Expectations on real warehouses:
the sample passes, broken copies of it fail with messages naming table, column and rate."""

from __future__ import annotations

import itertools
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import duckdb
import psycopg
import pytest

from cdp.errors import CdpError, ConfigError, QualityCheckFailed
from cdp.project import Project, postgres_settings
from cdp.quality import RESULTS_TABLE, load_suites, run_quality

from .conftest import postgres_or_skip


def copy_of(built: Project, tmp_path: Path, root: Path | None = None) -> Project:
    """A private copy of the sample warehouse, so breaking it leaves the session's intact."""
    target = tmp_path / "cdp.duckdb"
    shutil.copy(built.warehouse, target)
    return Project(root or built.root, target)


def execute(project: Project, sql: str) -> None:
    with duckdb.connect(str(project.warehouse)) as con:
        con.execute(sql)


def fetch(project: Project, sql: str) -> list[tuple]:
    with duckdb.connect(str(project.warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_suites_pass_on_sample_and_results_accumulate(built: Project, tmp_path: Path) -> None:
    project = copy_of(built, tmp_path)
    first = run_quality(project, docs_dir=tmp_path / "docs")
    assert [r.message for r in first.results if not r.success] == []
    assert {r.suite for r in first.results} == {"raw", "marts"}
    assert first.docs is not None and first.docs.is_file()
    assert list((tmp_path / "docs" / "validations").rglob("*.html")), "no validation pages in data docs"
    first.raise_for_errors()

    second = run_quality(project, ["marts"], docs_dir=tmp_path / "docs")
    rows = fetch(project, f"select run_id, count(*) from {RESULTS_TABLE} group by run_id order by 2 desc")
    assert rows == [(first.run_id, len(first.results)), (second.run_id, len(second.results))]


def test_error_failure_names_table_column_and_failing_rate(built: Project, tmp_path: Path) -> None:
    project = copy_of(built, tmp_path)
    # 20% of crm contacts get a junk email: with ~6% malformed already, well above the 10% allowed.
    execute(project, "update raw.crm_contacts set email = 'not-an-email' where hash(contact_id) % 5 = 0")
    invalid, present = fetch(
        project,
        r"""select count(*) filter (where not regexp_full_match(email,
            '^\s*[^@\s]+@[^@\s]+\.[A-Za-z]{2,}\s*$')), count(email) from raw.crm_contacts""",
    )[0]
    report = run_quality(project, ["raw"], docs_dir=tmp_path / "docs")
    with pytest.raises(QualityCheckFailed) as failed:
        report.raise_for_errors()
    message = str(failed.value)
    assert "raw.crm_contacts.email: expect_column_values_to_match_regex" in message
    assert f"failing rate {invalid / present:.1%} ({invalid:,} of {present:,} non-null values" in message
    assert "raw.shop_customers" not in message, "only the broken table fails"
    recorded = fetch(
        project,
        f"""select success, severity, unexpected_rate, unexpected_count from {RESULTS_TABLE}
            where table_name = 'raw.crm_contacts' and column_name = 'email'""",
    )
    assert recorded == [(False, "error", pytest.approx(invalid / present), invalid)]


def test_negative_predicted_clv_fails_the_marts_suite(built: Project, tmp_path: Path) -> None:
    project = copy_of(built, tmp_path)
    execute(
        project,
        """update customer.customer_predictions set predicted_clv = -1
           where customer_id = (select min(customer_id) from customer.customer_predictions)""",
    )
    with pytest.raises(QualityCheckFailed, match=r"customer\.customer_predictions\.predicted_clv: "):
        run_quality(project, ["marts"], docs_dir=tmp_path / "docs").raise_for_errors()


def test_orphan_segment_member_fails(built: Project, tmp_path: Path) -> None:
    project = copy_of(built, tmp_path)
    execute(
        project,
        """insert into segments.segment_membership by name
           select 'champions' as segment_name, 'cus_not_a_customer' as customer_id""",
    )
    with pytest.raises(QualityCheckFailed, match=r"segment_membership\.customer_id_in_customer_360: "):
        run_quality(project, ["marts"], docs_dir=tmp_path / "docs").raise_for_errors()


def test_warn_failure_is_recorded_but_does_not_raise(built: Project, tmp_path: Path) -> None:
    project = copy_of(built, tmp_path)
    # Loaded two days ago: older than the 24 h warning, within the 72 h error threshold.
    execute(project, "update raw.web_events set _loaded_at = _loaded_at - interval 48 hours")
    report = run_quality(project, ["raw"], docs_dir=tmp_path / "docs")
    report.raise_for_errors()
    assert [(r.table_name, r.column_name, r.severity) for r in report.warnings] == [
        ("raw.web_events", "_loaded_at", "warn")
    ]
    assert report.errors == []
    recorded = fetch(project, f"select count(*) from {RESULTS_TABLE} where not success and severity = 'warn'")
    assert recorded == [(1,)]


def write_suite(root: Path, text: str) -> Path:
    (root / "expectations").mkdir(parents=True, exist_ok=True)
    path = root / "expectations" / "broken.yml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("table", "expectation", "error"),
    [
        (
            "raw.crm_contacts",
            "ExpectColumnValuesToBeAwesome",
            r"table 'raw.crm_contacts': unknown expectation",
        ),
        (
            "raw.crm_contacts",
            "ExpectColumnValuesToNotBeNul",
            r"unknown expectation 'ExpectColumnValuesToNotBeNul'",
        ),
        (
            "crm_contacts",
            "ExpectColumnValuesToNotBeNull",
            r"table 'crm_contacts' must be written schema.table",
        ),
    ],
)
def test_yaml_mistakes_name_file_and_table(tmp_path: Path, table: str, expectation: str, error: str) -> None:
    path = write_suite(
        tmp_path,
        f"tables:\n  {table}:\n    expectations:\n"
        f"      - {{type: {expectation}, kwargs: {{column: email}}, severity: error}}\n",
    )
    with pytest.raises(ConfigError, match=re.escape(str(path)) + ".*" + error):
        load_suites(tmp_path)


def test_bad_expectation_kwargs_name_file_table_and_expectation(tmp_path: Path) -> None:
    path = write_suite(
        tmp_path,
        "tables:\n  raw.crm_contacts:\n    expectations:\n"
        "      - {type: ExpectColumnValuesToNotBeNull, kwargs: {colum: email}, severity: error}\n",
    )
    expected = (
        f"{path}: table 'raw.crm_contacts': expectation 1 ExpectColumnValuesToNotBeNull: invalid kwargs"
    )
    with pytest.raises(ConfigError, match=re.escape(expected)):
        load_suites(tmp_path)


def test_yaml_schema_mistake_names_file_and_field(tmp_path: Path) -> None:
    path = write_suite(
        tmp_path,
        "tables:\n  raw.crm_contacts:\n    expectations:\n"
        "      - {type: ExpectColumnValuesToNotBeNull, kwargs: {column: email}, severity: fatal}\n",
    )
    with pytest.raises(
        ConfigError, match=re.escape(f"{path}: tables.raw.crm_contacts.expectations.0.severity")
    ):
        load_suites(tmp_path)


def test_unknown_table_or_column_names_file_and_table(built: Project, tmp_path: Path) -> None:
    path = write_suite(
        tmp_path,
        "tables:\n  raw.crm_contactz:\n    expectations:\n"
        "      - {type: ExpectColumnValuesToNotBeNull, kwargs: {column: email}, severity: error}\n",
    )
    project = copy_of(built, tmp_path, root=tmp_path)
    with pytest.raises(CdpError, match=re.escape(f"{path}: table 'raw.crm_contactz': cannot select email")):
        run_quality(project, docs_dir=tmp_path / "docs")


def test_cdp_check_exits_1_with_json_results(built: Project, tmp_path: Path) -> None:
    project = copy_of(built, tmp_path)
    execute(project, "update customer.customer_rfm set recency_score = 9")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "cdp.cli",
            "check",
            "--suite",
            "marts",
            "--json",
            "--warehouse",
            str(project.warehouse),
        ],
        cwd=built.root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert '"failed": 1' in result.stdout
    assert result.stderr.startswith(
        "error: 1 error-severity expectation(s) failed: customer.customer_rfm.recency_score"
    )


def test_unsupported_target_is_refused_clearly(built: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CDP_TARGET", "spark")
    with pytest.raises(
        CdpError, match=r"'spark' target \(CDP_TARGET\): supported targets are duckdb, postgres"
    ):
        run_quality(built)


# --- PostgreSQL: the same suites run as SQL in the database ------------------------------------

_PG_TYPES = {
    "VARCHAR": "text",
    "BOOLEAN": "boolean",
    "SMALLINT": "smallint",
    "INTEGER": "integer",
    "BIGINT": "bigint",
    "HUGEINT": "numeric",
    "FLOAT": "real",
    "DOUBLE": "double precision",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
}


def pg_type(duckdb_type: str) -> str:
    """The Postgres type for a DuckDB column type; unknown types fail, naming the type."""
    if duckdb_type.endswith("[]"):
        return pg_type(duckdb_type[:-2]) + "[]"
    if duckdb_type.startswith("DECIMAL"):
        return duckdb_type.replace("DECIMAL", "numeric")
    assert duckdb_type in _PG_TYPES, f"no Postgres type for DuckDB's {duckdb_type}: add it to _PG_TYPES"
    return _PG_TYPES[duckdb_type]


def copy_to_postgres(warehouse: Path, pg: psycopg.Connection) -> None:
    """The tables the suites read (schemas raw and customer, segments.segment_membership), copied
    from the DuckDB ``warehouse`` with COPY."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        columns = con.execute(
            """select table_schema || '.' || table_name, column_name, data_type
               from information_schema.columns
               where table_schema in ('raw', 'customer')
                  or (table_schema, table_name) = ('segments', 'segment_membership')
               order by table_schema, table_name, ordinal_position"""
        ).fetchall()
        for table, table_columns in itertools.groupby(columns, key=lambda c: c[0]):
            names_types = [(name, pg_type(data_type)) for _, name, data_type in table_columns]
            pg.execute(f"create schema if not exists {table.split('.')[0]}")
            pg.execute(f"create table {table} ({', '.join(f'{n} {t}' for n, t in names_types)})")
            names = ", ".join(name for name, _ in names_types)
            with pg.cursor().copy(f"copy {table} ({names}) from stdin") as copy:
                for row in con.execute(f"select {names} from {table}").fetchall():
                    copy.write_row(row)


UNTESTED = "the data quality suites are NOT tested on Postgres"


@pytest.fixture(scope="module")
def pg_template(built: Project) -> Iterator[str]:
    """A database of this module's own holding the sample, to clone per test."""
    name = f"cdp_quality_{os.getpid()}"
    with postgres_or_skip(UNTESTED) as admin:
        admin.execute(f"drop database if exists {name} with (force)")
        admin.execute(f"create database {name}")
        try:
            with psycopg.connect(**{**postgres_settings(), "dbname": name}) as pg:
                copy_to_postgres(built.warehouse, pg)
            yield name
        finally:
            admin.execute(f"drop database if exists {name} with (force)")


_clones = itertools.count()


@pytest.fixture
def pg(pg_template: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[psycopg.Connection]:
    """A private copy of the sample database, made the target: breaking it leaves others intact."""
    name = f"{pg_template}_{next(_clones)}"
    with postgres_or_skip(UNTESTED) as admin:
        admin.execute(f"create database {name} template {pg_template}")
        try:
            monkeypatch.setenv("CDP_TARGET", "postgres")
            monkeypatch.setenv("CDP_PG_DATABASE", name)
            with psycopg.connect(**postgres_settings(), autocommit=True) as con:
                yield con
        finally:
            admin.execute(f"drop database if exists {name} with (force)")


def on_postgres(built: Project, tmp_path: Path) -> Project:
    """The project with no DuckDB warehouse at all: everything must come from Postgres."""
    return Project(built.root, tmp_path / "no-warehouse.duckdb")


def test_suites_pass_on_postgres_as_sql(built: Project, pg: psycopg.Connection, tmp_path: Path) -> None:
    project = on_postgres(built, tmp_path)
    report = run_quality(project, docs_dir=tmp_path / "docs")
    assert report.datasource == "postgres", "expectations must run as SQL in Postgres, not on dataframes"
    assert [r.message for r in report.results if not r.success] == []
    assert {r.suite for r in report.results} == {"raw", "marts"}
    assert report.docs is not None and report.docs.is_file()
    assert list((tmp_path / "docs" / "validations").rglob("*.html")), "no validation pages in data docs"
    rows = pg.execute(f"select run_id, count(*) from {RESULTS_TABLE} group by run_id").fetchall()
    assert rows == [(report.run_id, len(report.results))]
    assert not project.warehouse.exists()


def email_regex(project: Project, table: str) -> str:
    config = load_suites(project.root, ["raw"])[0].tables[table]
    return next(e.kwargs["regex"] for e in config.expectations if e.kwargs.get("column") == "email")


def test_postgres_error_failure_names_table_column_and_failing_rate(
    built: Project, pg: psycopg.Connection, tmp_path: Path
) -> None:
    # 20% of crm contacts get a junk email: with ~6% malformed already, well above the 10% allowed.
    pg.execute("update raw.crm_contacts set email = 'not-an-email' where abs(hashtext(contact_id)) % 5 = 0")
    invalid, present = pg.execute(
        "select count(*) filter (where email !~ %s), count(email) from raw.crm_contacts",
        [email_regex(built, "raw.crm_contacts")],
    ).fetchone()
    assert invalid / present > 0.15
    report = run_quality(on_postgres(built, tmp_path), ["raw"], docs_dir=tmp_path / "docs")
    with pytest.raises(QualityCheckFailed) as failed:
        report.raise_for_errors()
    message = str(failed.value)
    assert "raw.crm_contacts.email: expect_column_values_to_match_regex [error]" in message
    assert f"failing rate {invalid / present:.1%} ({invalid:,} of {present:,} non-null values" in message
    assert "raw.shop_customers" not in message, "only the broken table fails"
    recorded = pg.execute(
        f"""select success, severity, unexpected_rate, unexpected_count from {RESULTS_TABLE}
            where table_name = 'raw.crm_contacts' and column_name = 'email'"""
    ).fetchall()
    assert recorded == [(False, "error", pytest.approx(invalid / present), invalid)]


def update_nth(pg: psycopg.Connection, table: str, key: str, n: int, assignments: str) -> None:
    """Update the ``n``-th row of ``table`` in ``key`` order."""
    nth = f"(select {key} from {table} order by {key} offset {n} limit 1)"
    pg.execute(f"update {table} set {assignments} where {key} = {nth}")


def test_unparsable_raw_values_become_null_on_postgres(
    built: Project, pg: psycopg.Connection, tmp_path: Path
) -> None:
    update_nth(pg, "raw.crm_contacts", "contact_id", 0, "updated_at = 'not a date'")
    update_nth(pg, "raw.crm_contacts", "contact_id", 1, "updated_at = '2999-01-01 00:00:00'")
    update_nth(pg, "raw.shop_orders", "order_id", 0, "total_amount = 'abc', ordered_at = '2024-02-30'")
    report = run_quality(on_postgres(built, tmp_path), ["raw"], docs_dir=tmp_path / "docs")
    # The unparsable values are null, so skipped; the year-2999 one is typed, hence caught.
    assert [(r.table_name, r.column_name, r.unexpected_count) for r in report.errors] == [
        ("raw.crm_contacts", "updated_at", 1)
    ]
    cast = "quality.cdp_try_cast_"
    safe = pg.execute(
        f"""select {cast}timestamp('not a date'), {cast}timestamp('2024-02-30'),
                   {cast}double_precision('abc'), {cast}timestamp(' 2024-01-02 03:04')"""
    ).fetchone()
    assert safe == (None, None, None, datetime(2024, 1, 2, 3, 4))


def test_timestamptz_compares_as_utc_on_postgres(
    built: Project, pg: psycopg.Connection, tmp_path: Path
) -> None:
    # Loaded two days ago, as timestamptz: older than the 24 h warning, within the 72 h error.
    pg.execute(
        """alter table raw.web_events alter column _loaded_at type timestamptz
           using (_loaded_at - interval '48 hours') at time zone 'UTC'"""
    )
    report = run_quality(on_postgres(built, tmp_path), ["raw"], docs_dir=tmp_path / "docs")
    assert report.errors == []
    assert [(r.table_name, r.column_name, r.severity) for r in report.warnings] == [
        ("raw.web_events", "_loaded_at", "warn")
    ]


def test_unknown_table_on_postgres_names_file_and_table(pg: psycopg.Connection, tmp_path: Path) -> None:
    path = write_suite(
        tmp_path,
        "tables:\n  raw.crm_contactz:\n    select:\n      updated_at: try_cast(updated_at as timestamp)\n"
        "    expectations:\n"
        "      - {type: ExpectColumnValuesToNotBeNull, kwargs: {column: email}, severity: error}\n",
    )
    project = Project(tmp_path, tmp_path / "no-warehouse.duckdb")
    expected = f"{path}: table 'raw.crm_contactz': cannot select updated_at, email: "
    with pytest.raises(CdpError, match=re.escape(expected) + '.*relation "raw.crm_contactz" does not exist'):
        run_quality(project, docs_dir=tmp_path / "docs")
