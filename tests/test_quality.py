"""Data quality suites (expectations/*.yml) run with Great Expectations on real warehouses:
the sample passes, broken copies of it fail with messages naming table, column and rate."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from cdp.errors import CdpError, ConfigError, QualityCheckFailed
from cdp.project import Project
from cdp.quality import RESULTS_TABLE, load_suites, run_quality


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


def test_postgres_target_is_refused_clearly(built: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CDP_TARGET", "postgres")
    with pytest.raises(CdpError, match="duckdb target only so far"):
        run_quality(built)


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
