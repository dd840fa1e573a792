"""Segments: declarations, predicate rules, compiled models, membership history and the report."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pytest
import yaml

from cdp.dbt_runner import run_dbt
from cdp.errors import SegmentError
from cdp.project import Project
from cdp.segments import compile_segments, load_segments, segment_report
from cdp.segments.config import VOCABULARY_YAML, load_vocabulary
from cdp.segments.predicate import PredicateError, check_predicate

from .conftest import postgres_or_skip

PROJECT_ROOT = Path(__file__).resolve().parents[1]
COLUMNS = load_vocabulary(PROJECT_ROOT)


def write_segments(root: Path, files: dict[str, list[dict[str, object]]]) -> None:
    """A project skeleton at ``root``: the vocabulary YAML and the given segments/*.yml files."""
    (root / VOCABULARY_YAML).parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(PROJECT_ROOT / VOCABULARY_YAML, root / VOCABULARY_YAML)
    shutil.rmtree(root / "segments", ignore_errors=True)
    (root / "segments").mkdir()
    for name, segments in files.items():
        (root / "segments" / name).write_text(yaml.safe_dump({"segments": segments}, sort_keys=False))


def segment(name: str, predicate: str, **extra: object) -> dict[str, object]:
    return {"name": name, "description": f"{name} for tests", "predicate": predicate, **extra}


# --- predicate rules --------------------------------------------------------------------------

GOOD_PREDICATES = [
    "rfm_segment = 'Champions'",
    "order_count >= 2 and recency_days > 180",
    "not has_unsubscribed",
    "has_email_bounced",
    "consent_email_marketing in ('granted', 'unknown')",
    "total_revenue between 100 and 500",
    "last_order_at is not null or first_seen_at < date '2026-01-01'",
    "lower(email) like '%@example.com'",
    "coalesce(has_unsubscribed, false)",
    "case when country_code = 'DE' then order_count > 1 else order_count > 2 end",
    "starts_with(email, 'ann') or contains(channels, 'web') or ends_with(email, '.de')",
    "consent_sms_marketing is not distinct from 'granted'",
    "Recency_Days < 30",  # unquoted identifiers are case-insensitive
    "city = 'a;b'",  # a semicolon inside a string is data, not a statement separator
    "date_diff('day', last_order_at, current_date) > 30 and abs(total_revenue) > 1",
]


@pytest.mark.parametrize("predicate", GOOD_PREDICATES)
def test_good_predicates_are_accepted(predicate: str) -> None:
    assert check_predicate(predicate, COLUMNS) is not None


BAD_PREDICATES = [
    ("order_count > 1; drop table customer_360", "contains a semicolon"),
    ("order_count > 1;", "contains a semicolon"),
    ("select customer_id from customer.customer_360", "is a query"),
    ("customer_id in (select customer_id from customer.customer_rfm)", "contains a subquery"),
    ("exists (select 1)", "contains a subquery"),
    ("order_count > (select avg(order_count) from customer.customer_360)", "contains a subquery"),
    ("drop table customer.customer_360", "is a DROP statement"),
    ("delete from customer.customer_360", "is a DELETE statement"),
    ("update customer.customer_360 set order_count = 0", "is a UPDATE statement"),
    ("insert into t values (1)", "is a INSERT statement"),
    ("create table t (a int)", "is a CREATE statement"),
    ("order_count > {{ var('min_orders') }}", "contains Jinja ('{{')"),
    ("{% if true %} order_count > 1 {% endif %}", "contains Jinja ('{%')"),
    ("recency > 30", "unknown column 'recency' (did you mean recency_days"),
    ("favourite_colour = 'red'", "unknown column 'favourite_colour'; the columns"),
    ('"Champions" = rfm_segment', "unknown column 'Champions'"),  # double quotes name a column
    ("customer_360.order_count > 1", "qualified with a table: use the bare column name 'order_count'"),
    ("total_revenue", "is not a boolean expression"),
    ("total_revenue * 2", "is not a boolean expression"),
    ("order_count > 1 and total_revenue", "is not a boolean expression"),
    ("'Champions'", "is not a boolean expression"),
    ("count(*) > 1", "aggregate or window function"),
    ("row_number() over () = 1", "aggregate or window function"),
    # Functions outside the row-level allow-list: unknown to sqlglot, or reading files.
    ("pg_read_file('/etc/passwd') = 'x'", "calls pg_read_file(), which a predicate may not use"),
    ("read_csv('/etc/passwd') is not null", "calls read_csv(), which a predicate may not use"),
    ("order_count >", "is not valid duckdb SQL"),
    ("   ", "is empty"),
]


@pytest.mark.parametrize(("predicate", "problem"), BAD_PREDICATES)
def test_bad_predicates_are_rejected_with_the_problem(predicate: str, problem: str) -> None:
    with pytest.raises(PredicateError) as error:
        check_predicate(predicate, COLUMNS)
    assert problem in str(error.value)


def test_predicates_are_parsed_in_the_target_dialect() -> None:
    # Backticks quote identifiers in Spark only; `~` matches a regex in Postgres and DuckDB only.
    check_predicate("`order_count` > 1", COLUMNS, "spark")
    check_predicate("email ~ '@example'", COLUMNS, "postgres")
    with pytest.raises(PredicateError, match="is not valid postgres SQL"):
        check_predicate("`order_count` > 1", COLUMNS, "postgres")
    with pytest.raises(PredicateError, match="is not valid spark SQL"):
        check_predicate("email ~ '@example'", COLUMNS, "spark")


def test_predicate_error_names_file_segment_and_field(tmp_path: Path) -> None:
    write_segments(tmp_path, {"crm.yml": [segment("ok", "order_count > 1"), segment("bad", "recency > 3")]})
    with pytest.raises(SegmentError) as error:
        load_segments(tmp_path)
    assert str(error.value).startswith("segments/crm.yml: segment 'bad': predicate: unknown column 'recency'")


# --- declaration rules ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        (
            segment("Big Spenders", "order_count > 1"),
            "segment 'Big Spenders': name: must be lowercase snake_case",
        ),
        (segment("9lives", "order_count > 1"), "name: must be lowercase snake_case"),
        (segment("x" * 55, "order_count > 1"), "name: String should have at most 54 characters"),
        ({"name": "nodesc", "predicate": "order_count > 1"}, "segment 'nodesc': description: Field required"),
        (
            segment("blankdesc", "order_count > 1") | {"description": " "},
            "description: String should have at",
        ),
        ({"name": "nopred", "description": "d"}, "segment 'nopred': predicate: Field required"),
        (segment("extra", "order_count > 1", owner="me"), "segment 'extra': owner: Extra inputs"),
        (segment("r", "order_count > 1", refresh="every day"), "refresh: 'every day' has 2 field(s)"),
        (
            segment("r", "order_count > 1", refresh="61 * * * *"),
            "refresh: cron minute field '61': '61' is not",
        ),
        (segment("r", "order_count > 1", refresh="0 6 * 13 *"), "cron month field '13'"),
        (segment("r", "order_count > 1", refresh="0 6 * * funday"), "cron day of week field 'funday'"),
        (segment("r", "order_count > 1", refresh="*/0 * * * *"), "has a step of 0"),
        (segment("t", "order_count > 1", tags=["Email"]), "tags: tag 'Email' must be lowercase snake_case"),
        ("just a string", "segment #1: expected a mapping"),
    ],
)
def test_bad_declarations_name_file_segment_and_field(tmp_path: Path, entry: object, problem: str) -> None:
    write_segments(tmp_path, {"audiences.yml": [entry]})  # type: ignore[list-item]
    with pytest.raises(SegmentError) as error:
        load_segments(tmp_path)
    assert str(error.value).startswith("segments/audiences.yml: ")
    assert problem in str(error.value)


@pytest.mark.parametrize(
    "refresh", ["hourly", "daily", "weekly", "0 6 * * *", "*/15 8-18 * * mon-fri", "0 0 1 jan,jul *"]
)
def test_good_refresh_values_are_accepted(tmp_path: Path, refresh: str) -> None:
    write_segments(tmp_path, {"a.yml": [segment("s", "order_count > 1", refresh=refresh)]})
    assert load_segments(tmp_path)[0].segment.refresh == refresh


def test_names_are_unique_across_files(tmp_path: Path) -> None:
    write_segments(
        tmp_path, {"a.yml": [segment("vip", "order_count > 5")], "b.yml": [segment("vip", "order_count > 9")]}
    )
    with pytest.raises(
        SegmentError, match=r"segments/b.yml: segment 'vip': name: already declared in segments/a.yml"
    ):
        load_segments(tmp_path)


def test_a_file_must_hold_a_segments_list(tmp_path: Path) -> None:
    write_segments(tmp_path, {})
    (tmp_path / "segments" / "x.yml").write_text("audiences: []\n")
    with pytest.raises(SegmentError, match=r"segments/x.yml: expected one top-level key `segments:`"):
        load_segments(tmp_path)
    (tmp_path / "segments" / "x.yml").write_text("segments: [\n")
    with pytest.raises(SegmentError, match=r"segments/x.yml: not valid YAML"):
        load_segments(tmp_path)


# --- compiled models --------------------------------------------------------------------------

SEGMENTS_DIR = Path("models/marts/segments")


def cdp(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cdp.cli", *args], cwd=cwd, capture_output=True, text=True, check=False
    )


def test_compile_writes_one_model_per_segment_and_the_union(tmp_path: Path) -> None:
    write_segments(
        tmp_path,
        {
            "a.yml": [segment("vip", "total_revenue >= 1000", refresh="daily", tags=["value"])],
            "b.yml": [segment("emailable", "consent_email_marketing = 'granted'\nand not has_unsubscribed")],
        },
    )
    result = compile_segments(tmp_path)
    models = tmp_path / SEGMENTS_DIR
    assert sorted(p.name for p in result.written) == [
        "_segments__models.yml",
        "segment__emailable.sql",
        "segment__vip.sql",
        "segment_membership.sql",
    ]
    vip = (models / "segment__vip.sql").read_text()
    assert vip.startswith("-- generated by `cdp segments compile` from segments/a.yml (segment 'vip').")
    assert "Do not edit" in vip
    assert "from {{ ref('segment_customer_attributes') }}\nwhere\n    total_revenue >= 1000\n" in vip
    assert vip.count("select customer_id\n") == 1
    emailable = (models / "segment__emailable.sql").read_text()
    assert "where\n    consent_email_marketing = 'granted'\n    and not has_unsubscribed\n" in emailable
    union = (models / "segment_membership.sql").read_text()
    assert union.count("union all") == 1
    assert "cast('vip' as {{ dbt.type_string() }}) as segment_name" in union
    assert "from {{ ref('segment__emailable') }}" in union
    documented = yaml.safe_load((models / "_segments__models.yml").read_text())["models"]
    assert [m["name"] for m in documented] == ["segment__vip", "segment__emailable"]
    assert documented[0]["description"] == "vip for tests"
    assert documented[0]["config"]["meta"] == {
        "segment": "vip",
        "source_file": "segments/a.yml",
        "refresh": "daily",
    }
    assert documented[0]["config"]["tags"] == ["segment", "value"]
    assert "refresh" not in documented[1]["config"]["meta"]
    assert documented[0]["columns"][0]["data_tests"] == ["unique", "not_null"]
    assert not compile_segments(tmp_path).changed  # a second compile finds nothing to do


def test_no_segments_compile_to_an_empty_typed_membership(tmp_path: Path) -> None:
    write_segments(tmp_path, {"a.yml": []})
    compile_segments(tmp_path)
    union = (tmp_path / SEGMENTS_DIR / "segment_membership.sql").read_text()
    assert "cast(null as {{ dbt.type_string() }}) as segment_name" in union
    assert union.rstrip().endswith("where 1 = 0")
    assert yaml.safe_load((tmp_path / SEGMENTS_DIR / "_segments__models.yml").read_text())["models"] == []


def test_compile_removes_models_of_removed_segments(tmp_path: Path) -> None:
    write_segments(
        tmp_path, {"a.yml": [segment("keep", "order_count > 1"), segment("drop_me", "order_count > 9")]}
    )
    compile_segments(tmp_path)
    (tmp_path / SEGMENTS_DIR / "segment_customer_attributes.sql").write_text("-- hand-written\n")
    write_segments(tmp_path, {"a.yml": [segment("keep", "order_count > 1")]})
    result = compile_segments(tmp_path)
    assert result.removed == [SEGMENTS_DIR / "segment__drop_me.sql"]
    assert sorted(p.name for p in (tmp_path / SEGMENTS_DIR).glob("*.sql")) == [
        "segment__keep.sql",
        "segment_customer_attributes.sql",  # hand-written models are never touched
        "segment_membership.sql",
    ]
    assert "drop_me" not in (tmp_path / SEGMENTS_DIR / "segment_membership.sql").read_text()


def test_compile_refuses_to_delete_a_hand_written_model_with_the_reserved_prefix(tmp_path: Path) -> None:
    write_segments(tmp_path, {"a.yml": [segment("keep", "order_count > 1")]})
    (tmp_path / SEGMENTS_DIR / "segment__mine.sql").write_text("select 1 as customer_id\n")
    with pytest.raises(SegmentError, match=r"segment__mine.sql is not a generated segment model"):
        compile_segments(tmp_path)
    assert (tmp_path / SEGMENTS_DIR / "segment__mine.sql").exists()


def test_check_exits_1_naming_what_is_out_of_date(tmp_path: Path) -> None:
    (tmp_path / "dbt_project.yml").write_text("name: t\n")
    write_segments(
        tmp_path, {"a.yml": [segment("one", "order_count > 1"), segment("two", "order_count > 2")]}
    )
    assert cdp("segments", "compile", "--project-dir", str(tmp_path), cwd=tmp_path).returncode == 0
    write_segments(
        tmp_path, {"a.yml": [segment("one", "order_count > 5"), segment("three", "order_count > 3")]}
    )
    checked = cdp("segments", "compile", "--check", "--project-dir", str(tmp_path), cwd=tmp_path)
    assert checked.returncode == 1
    assert checked.stderr.startswith("error: generated segment models are out of date: ")
    for stale in (
        "segment__one.sql (differs from the YAML)",
        "segment__three.sql (missing)",
        "segment__two.sql (segment no longer declared)",
        "segment_membership.sql (differs from the YAML)",
    ):
        assert stale in checked.stderr
    assert len(checked.stderr.strip().splitlines()) == 1
    assert (tmp_path / SEGMENTS_DIR / "segment__two.sql").exists()  # --check writes nothing
    assert not (tmp_path / SEGMENTS_DIR / "segment__three.sql").exists()


def test_an_invalid_segment_is_one_error_line_and_exit_1(tmp_path: Path) -> None:
    (tmp_path / "dbt_project.yml").write_text("name: t\n")
    write_segments(tmp_path, {"a.yml": [segment("bad", "order_count > 1; drop table x")]})
    result = cdp("segments", "compile", "--project-dir", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "error: segments/a.yml: segment 'bad': predicate: contains a semicolon: "
        "a predicate is one expression, not statements"
    )


def test_committed_generated_models_match_the_declarations() -> None:
    result = compile_segments(PROJECT_ROOT, check=True)
    assert result.segments, "segments/*.yml declares no segment"
    assert result.out_of_date == [], "run `cdp segments compile` and commit the result"


def test_vocabulary_types_match_the_customer_mart_contracts() -> None:
    contracts = yaml.safe_load((PROJECT_ROOT / "models/marts/customer/_models.yml").read_text())["models"]
    declared = {(c["name"], c["data_type"]) for m in contracts for c in m["columns"]}
    for name, data_type in COLUMNS.items():
        assert (name, data_type) in declared, f"{name} {data_type} is not a column of a customer mart"


# --- membership and history on hand-made data -------------------------------------------------

CUSTOMER_MARTS = ("customer_360", "customer_rfm", "customer_predictions")


@dataclass
class HandMade:
    """A copy of this dbt project whose customer marts are hand-made tables, on DuckDB or Postgres."""

    project: Project
    target: str  # duckdb or postgres
    customer_schema: str = "customer"
    segments_schema: str = "segments"

    @property
    def env(self) -> dict[str, str]:
        return {"CDP_TARGET": self.target}

    def _connect(self) -> Any:
        if self.target == "duckdb":
            return duckdb.connect(str(self.project.warehouse))
        return psycopg.connect(POSTGRES, autocommit=True)

    def execute(self, sql: str, params: list[object] | None = None) -> list[tuple[Any, ...]]:
        if self.target == "postgres":
            sql = sql.replace("?", "%s")
        with self._connect() as con:
            cursor = con.execute(sql, params or [])
            return cursor.fetchall() if cursor.description else []

    def create_customer_marts(self, rows: dict[str, list[dict[str, object]]]) -> None:
        """(Re)creates the customer marts with their contract columns and ``rows``."""
        contracts = yaml.safe_load((PROJECT_ROOT / "models/marts/customer/_models.yml").read_text())["models"]
        columns = {m["name"]: [(c["name"], c["data_type"]) for c in m["columns"]] for m in contracts}
        self.execute(f"create schema if not exists {self.customer_schema}")
        for mart in CUSTOMER_MARTS:
            table = f"{self.customer_schema}.{mart}"
            ddl = ", ".join(f"{name} {data_type}" for name, data_type in columns[mart])
            self.execute(f"create table if not exists {table} ({ddl})")
            self.execute(f"delete from {table}")  # not dropped: the segment views depend on it
            for row in rows.get(mart, []):
                marks = ", ".join("?" for _ in row)
                self.execute(f"insert into {table} ({', '.join(row)}) values ({marks})", list(row.values()))

    def build(self, segments: list[dict[str, object]], *args: str) -> None:
        write_segments(self.project.root, {"test.yml": segments})
        compile_segments(self.project.root, dialect=self.target)
        result = run_dbt(
            self.project,
            # cautious: tests that also read models outside this selection (the bi views) wait
            ["build", "--select", "path:models/marts/segments", "--indirect-selection", "cautious", *args],
            capture=True,
            env=self.env,
        )
        assert result.ok, result.output[-3000:]

    def history(self) -> list[tuple[str, str, datetime, datetime | None]]:
        rows = self.execute(
            "select segment_name, customer_id, entered_at, exited_at "
            f"from {self.segments_schema}.segment_membership_history"
        )
        return sorted(rows, key=lambda row: (row[0], row[1], row[2]))

    def members(self) -> set[tuple[str, str]]:
        rows = self.execute(
            f"select segment_name, customer_id from {self.segments_schema}.segment_membership"
        )
        return {tuple(row) for row in rows}  # type: ignore[misc]


POSTGRES = "host=127.0.0.1 port=5432 user=postgres dbname=test"


def copy_project(root: Path) -> Project:
    """This dbt project under ``root`` (segments/*.yml left out) with a warehouse of its own."""
    for name in ("dbt_project.yml", "profiles.yml"):
        shutil.copy(PROJECT_ROOT / name, root / name)
    for folder in ("macros", "models", "seeds"):
        shutil.copytree(PROJECT_ROOT / folder, root / folder)
    (root / "segments").mkdir()
    return Project(root, root / "warehouse.duckdb")


@pytest.fixture(params=["duckdb", "postgres"])
def hand_made(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[HandMade]:
    project = copy_project(tmp_path)
    if request.param == "duckdb":
        yield HandMade(project, "duckdb")
        return
    postgres_or_skip("segments are NOT tested on Postgres").close()
    # Schemas of this test's own (the project names schemas `customer` and `segments` as they are).
    suffix = f"_t{os.getpid()}"
    config = project.root / "dbt_project.yml"
    text = config.read_text()
    config.write_text(
        text.replace("+schema: customer\n", f"+schema: customer{suffix}\n").replace(
            "+schema: segments\n", f"+schema: segments{suffix}\n"
        )
    )
    made = HandMade(project, "postgres", f"customer{suffix}", f"segments{suffix}")
    try:
        yield made
    finally:
        for schema in (made.customer_schema, made.segments_schema):
            made.execute(f"drop schema if exists {schema} cascade")


def customers(revenue: dict[str, float | None], granted: set[str]) -> dict[str, list[dict[str, object]]]:
    """customer_360 rows with a total_revenue and email consent each; RFM and predictions for c1."""
    return {
        "customer_360": [
            {
                "customer_id": customer_id,
                "total_revenue": amount,
                "consent_email_marketing": "granted" if customer_id in granted else "denied",
            }
            for customer_id, amount in revenue.items()
        ],
        "customer_rfm": [{"customer_id": "c1", "rfm_segment": "Champions", "frequency": 4}],
        "customer_predictions": [{"customer_id": "c1", "churn_risk": 0.9}],
    }


BIG_SPENDERS = segment("big_spenders", "total_revenue >= 100")
EMAILABLE = segment("emailable", "consent_email_marketing = 'granted'")
CHAMPIONS = segment("champions", "rfm_segment = 'Champions' and frequency > 2")
LIKELY_CHURN = segment("likely_churn", "churn_risk > 0.5")


@pytest.mark.dbt
def test_membership_history_records_entries_exits_and_re_entries(hand_made: HandMade) -> None:
    made = hand_made
    all_segments = [BIG_SPENDERS, EMAILABLE, CHAMPIONS, LIKELY_CHURN]

    # Run 1: everyone found enters.
    made.create_customer_marts(
        customers({"c1": 150, "c2": 50, "c3": 200, "c4": None, "c5": 120}, {"c1", "c2"})
    )
    made.build(all_segments)
    assert made.members() == {
        ("big_spenders", "c1"),
        ("big_spenders", "c3"),
        ("big_spenders", "c5"),
        ("emailable", "c1"),
        ("emailable", "c2"),
        ("champions", "c1"),
        ("likely_churn", "c1"),
    }
    first = made.history()
    assert len(first) == 7 and all(exited is None for *_, exited in first)
    run1 = first[0][2]
    assert {entered for _, _, entered, _ in first} == {run1}

    # Run 2: c3 drops below 100 (exits), c2 rises above it (enters), c5 stays, likely_churn is removed.
    made.create_customer_marts(
        customers({"c1": 150, "c2": 300, "c3": 20, "c4": None, "c5": 120}, {"c1", "c2"})
    )
    made.build([BIG_SPENDERS, EMAILABLE, CHAMPIONS])
    second = made.history()
    run2 = max(entered for _, _, entered, _ in second)
    assert run2 > run1
    assert second == [
        ("big_spenders", "c1", run1, None),
        ("big_spenders", "c2", run2, None),
        ("big_spenders", "c3", run1, run2),
        ("big_spenders", "c5", run1, None),  # untouched member keeps its entered_at
        ("champions", "c1", run1, None),
        ("emailable", "c1", run1, None),
        ("emailable", "c2", run1, None),
        ("likely_churn", "c1", run1, run2),  # segment removed: its open stays close
    ]

    # Run 3: c3 comes back (a second stay); nothing else changes.
    made.create_customer_marts(
        customers({"c1": 150, "c2": 300, "c3": 500, "c4": None, "c5": 120}, {"c1", "c2"})
    )
    made.build([BIG_SPENDERS, EMAILABLE, CHAMPIONS])
    third = made.history()
    run3 = max(entered for _, _, entered, _ in third)
    assert run3 > run2
    assert [row for row in third if row[1] == "c3"] == [
        ("big_spenders", "c3", run1, run2),
        ("big_spenders", "c3", run3, None),
    ]
    assert [row for row in third if row[1] != "c3"] == [row for row in second if row[1] != "c3"]

    if made.target == "duckdb":
        check_report(made.project.warehouse, run3)

    # The history survives a --full-refresh; the membership is rebuilt from the marts.
    made.build([BIG_SPENDERS, EMAILABLE, CHAMPIONS], "--full-refresh")
    assert made.history() == third


def check_report(warehouse: Path, run3: datetime) -> None:
    # The report reads the same tables: 5 customers; c3 entered big_spenders in the last run.
    report = segment_report(warehouse, ["big_spenders", "emailable", "champions"])
    assert report.customers == 5 and report.last_run_at == run3
    assert [
        (s.segment_name, s.members, s.share, s.entered_last_run, s.exited_last_run) for s in report.sizes
    ] == [
        ("big_spenders", 4, 0.8, 1, 0),
        ("emailable", 2, 0.4, 0, 0),
        ("champions", 1, 0.2, 0, 0),
    ]
    assert [(o.segment_a, o.segment_b, o.both, o.jaccard) for o in report.overlaps] == [
        ("big_spenders", "emailable", 2, 0.5),
        ("big_spenders", "champions", 1, 0.25),
        ("emailable", "champions", 1, 0.5),
    ]


# --- the report -------------------------------------------------------------------------------


def hand_made_segment_tables(warehouse: Path) -> None:
    """10 customers; a = c0-c5, b = c4-c7, c = nobody; the last run (t2) moved c5 into a and c8 out."""
    t1, t2 = "2026-11-01 06:00:00", "2026-11-02 06:00:00"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema customer")
        con.execute("create schema segments")
        con.execute("create table customer.customer_360 as select 'c' || range as customer_id from range(10)")
        con.execute(
            "create table segments.segment_membership (segment_name varchar, customer_id varchar, "
            "refreshed_at timestamp)"
        )
        con.execute(
            "insert into segments.segment_membership "
            "select 'a', 'c' || range, ?::timestamp from range(6) "
            "union all select 'b', 'c' || range, ?::timestamp from range(4, 8)",
            [t2, t2],
        )
        con.execute(
            "create table segments.segment_membership_history (segment_name varchar, customer_id varchar, "
            "entered_at timestamp, exited_at timestamp)"
        )
        con.execute(
            "insert into segments.segment_membership_history "
            "select 'a', 'c' || range, ?::timestamp, null from range(5) "
            "union all select 'a', 'c5', ?::timestamp, null "
            "union all select 'a', 'c8', ?::timestamp, ?::timestamp "
            "union all select 'b', 'c' || range, ?::timestamp, null from range(4, 8)",
            [t1, t2, t1, t2, t1],
        )


def test_report_sizes_last_run_changes_and_overlaps(tmp_path: Path) -> None:
    warehouse = tmp_path / "wh.duckdb"
    hand_made_segment_tables(warehouse)
    report = segment_report(warehouse, ["a", "b", "c"])
    assert report.customers == 10
    assert report.last_run_at == datetime(2026, 11, 2, 6)
    assert [
        (s.segment_name, s.members, s.share, s.entered_last_run, s.exited_last_run) for s in report.sizes
    ] == [
        ("a", 6, 0.6, 1, 1),
        ("b", 4, 0.4, 0, 0),
        ("c", 0, 0.0, 0, 0),
    ]
    # a and b share c4 and c5: 2 of the 8 customers in either.
    assert [(o.segment_a, o.segment_b, o.both, o.jaccard) for o in report.overlaps] == [
        ("a", "b", 2, 0.25),
        ("a", "c", 0, 0.0),
        ("b", "c", 0, 0.0),
    ]


def test_report_as_json_from_the_command(tmp_path: Path) -> None:
    warehouse = tmp_path / "wh.duckdb"
    hand_made_segment_tables(warehouse)
    (tmp_path / "dbt_project.yml").write_text("name: t\n")
    write_segments(tmp_path, {"s.yml": [segment("a", "order_count > 1"), segment("b", "order_count > 2")]})
    result = cdp(
        "segments", "--json", "--project-dir", str(tmp_path), "--warehouse", str(warehouse), cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["last_run_at"] == "2026-11-02T06:00:00"
    assert [s["members"] for s in data["sizes"]] == [6, 4]
    assert data["overlaps"] == [{"segment_a": "a", "segment_b": "b", "both": 2, "jaccard": 0.25}]
    table = cdp("segments", "--project-dir", str(tmp_path), "--warehouse", str(warehouse), cwd=tmp_path)
    assert table.returncode == 0, table.stderr
    assert "Segments of 10 customers" in table.stdout and "Overlap" in table.stdout


def test_report_names_the_missing_warehouse_and_tables(tmp_path: Path) -> None:
    with pytest.raises(SegmentError, match=r"warehouse .*missing.duckdb does not exist: run `cdp build`"):
        segment_report(tmp_path / "missing.duckdb", ["a"])
    warehouse = tmp_path / "wh.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema customer")
        con.execute("create table customer.customer_360 (customer_id varchar)")
    with pytest.raises(SegmentError) as error:
        segment_report(warehouse, ["a"])
    assert "has no segments.segment_membership, segments.segment_membership_history: run `cdp build`" in str(
        error.value
    )


def test_cdp_build_compiles_segments_before_dbt(tmp_path: Path) -> None:
    (tmp_path / "dbt_project.yml").write_text("name: t\n")
    write_segments(tmp_path, {"a.yml": [segment("bad", "select 1")]})
    result = cdp("build", "--project-dir", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("error: segments/a.yml: segment 'bad': predicate: is a query")
    assert not (tmp_path / "target").exists()  # dbt never ran
