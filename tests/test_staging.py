"""Staging on a generated sample: nothing lost, normalisation right against ground truth,
late and re-delivered data handled."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from cdp.dbt_runner import run_dbt
from cdp.generate import GenerationResult
from cdp.generate.noise import JUNK_EMAILS, JUNK_PHONES
from cdp.load import load_landing
from cdp.project import Project
from cdp.source_config import raw_tables
from cdp.summary import staging_counts


@pytest.fixture
def con(built: Project, sample: GenerationResult) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(built.warehouse), read_only=True)
    for table in ("record_truth", "people"):
        con.execute(f"create temp view {table} as select * from '{sample.out_dir}/_truth/{table}/*.parquet'")
    return con


def _one(con: duckdb.DuckDBPyConnection, sql: str):
    return con.execute(sql).fetchall()[0][0]


def _rebuild(project: Project, *flags: str) -> None:
    """Rebuilds the staging layer, the subject of these tests (the `built` fixture builds all)."""
    result = run_dbt(
        project, ["build", "--select", "staging", "--indirect-selection", "cautious", *flags], quiet=True
    )
    assert result.ok, dict(result.statuses)


def test_every_raw_row_is_staged_or_quarantined(built: Project, project_root: Path) -> None:
    counts = staging_counts(built.warehouse, raw_tables(project_root))
    assert len(counts) == 8
    for count in counts:
        assert count.raw > 0 and count.staged > 0, count
        assert count.accounted_for, count


@pytest.mark.parametrize(
    ("model", "key", "raw_table", "phone_column", "raw_phone"),
    [
        ("stg_crm__contacts", "contact_id", "crm_contacts", "phone_e164", "phone"),
        ("stg_shop__customers", "customer_id", "shop_customers", "phone_e164", "phone"),
        ("stg_support__tickets", "ticket_id", "support_tickets", "requester_phone_e164", "requester_phone"),
    ],
)
def test_phones_normalise_to_the_true_number(con, model, key, raw_table, phone_column, raw_phone) -> None:
    junk = "', '".join(JUNK_PHONES)
    total, wrong = con.execute(f"""
        select count(*), count(*) filter (where s.{phone_column} is distinct from p.phone_e164)
        from staging.{model} s
        join raw.{raw_table} r on r._source_file = s._source_file and r._source_row = s._source_row
        join record_truth t on t.source_table = '{raw_table}' and t.record_id = s.{key}
        join people p on p.person_id = t.person_id
        where r.{raw_phone} is not null and lower(r.{raw_phone}) not in ('{junk}')""").fetchone()
    assert total > 50
    assert wrong == 0


@pytest.mark.parametrize(
    ("model", "key", "raw_table", "column"),
    [
        ("stg_crm__contacts", "contact_id", "crm_contacts", "email"),
        ("stg_shop__customers", "customer_id", "shop_customers", "email"),
        ("stg_consent__records", "consent_id", "consent_records", "email"),
        ("stg_support__tickets", "ticket_id", "support_tickets", "requester_email"),
    ],
)
def test_canonical_emails_match_the_true_mailbox(con, model, key, raw_table, column) -> None:
    junk = "', '".join(JUNK_EMAILS)
    total, wrong = con.execute(f"""
        with truth as (
            select t.record_id,
                   replace(split_part(split_part(p.email, '@', 1), '+', 1), '.',
                           case when p.email like '%@gmail.com' then '' else '.' end)
                   || '@' || split_part(p.email, '@', 2) as mailbox
            from record_truth t join people p using (person_id) where t.source_table = '{raw_table}')
        select count(*), count(*) filter (where s.{column}_canonical <> truth.mailbox)
        from staging.{model} s join truth on truth.record_id = s.{key}
        where s.{column} is not null and s.{column} not in ('{junk}')""").fetchone()
    assert total > 50
    assert wrong == 0


def test_malformed_values_are_quarantined_with_their_reason(con) -> None:
    negative = _one(con, "select count(*) from raw.shop_orders where total_amount like '-%'")
    quarantined = _one(
        con,
        """select count(*) from staging.quarantine_shop__orders
        where _quarantine_reason like 'negative total_amount: -%'""",
    )
    assert negative > 0
    assert quarantined == negative
    reasons = {
        r[0]
        for r in con.execute("""select split_part(_quarantine_reason, ':', 1)
        from staging.quarantine_consent__records""").fetchall()
    }
    assert {"duplicate", "invalid email"} <= reasons


def test_contact_with_broken_email_is_kept_with_a_flag(con) -> None:
    flagged = _one(con, "select count(*) from staging.stg_crm__contacts where has_invalid_email")
    wrongly = _one(
        con, "select count(*) from staging.stg_crm__contacts where has_invalid_email and email is not null"
    )
    assert flagged > 0
    assert wrongly == 0


@pytest.fixture
def own_warehouse(built: Project, tmp_path: Path) -> Project:
    """A private copy of the built warehouse, free to change."""
    copy = Project(built.root, tmp_path / "cdp.duckdb")
    shutil.copy(built.warehouse, copy.warehouse)
    return copy


def test_redelivered_file_is_quarantined_as_duplicates(
    own_warehouse: Project, sample: GenerationResult, tmp_path: Path, project_root: Path
) -> None:
    late = tmp_path / "late" / "web_events"
    late.mkdir(parents=True)
    rows = pq.read_table(sample.out_dir / "web_events" / "part-00000.parquet").slice(0, 100)
    pq.write_table(rows, late / "redelivery-0001.parquet")
    before = {c.raw_table: c for c in staging_counts(own_warehouse.warehouse, raw_tables(project_root))}
    load_landing(late.parent, own_warehouse.warehouse, raw_tables(project_root))
    _rebuild(own_warehouse)
    after = {c.raw_table: c for c in staging_counts(own_warehouse.warehouse, raw_tables(project_root))}
    assert after["web_events"].staged == before["web_events"].staged
    assert after["web_events"].quarantined == before["web_events"].quarantined + 100
    assert after["web_events"].accounted_for


def test_order_lines_wait_in_quarantine_until_their_order_lands(
    own_warehouse: Project, tmp_path: Path, project_root: Path
) -> None:
    with duckdb.connect(str(own_warehouse.warehouse)) as con:
        order_id, lines = con.execute("""select order_id, count(*) from staging.stg_shop__order_lines
            group by 1 order by 1 limit 1""").fetchall()[0]
        late_order = con.sql(
            "select * exclude (_source_file, _source_row, _loaded_at) "
            f"from raw.shop_orders where order_id = '{order_id}'"
        ).to_arrow_table()
        con.execute("delete from raw.shop_orders where order_id = ?", [order_id])  # not landed yet
    _rebuild(own_warehouse, "--full-refresh")  # rows left a raw table: incremental staging refuses
    waiting = _lines(own_warehouse, order_id)
    assert waiting == {("quarantine", f"order not staged: {order_id}")}

    (tmp_path / "late" / "shop_orders").mkdir(parents=True)
    pq.write_table(late_order, tmp_path / "late" / "shop_orders" / "late-0001.parquet")
    load_landing(tmp_path / "late", own_warehouse.warehouse, raw_tables(project_root))
    _rebuild(own_warehouse)  # incremental: the waiting lines are typed again
    assert _lines(own_warehouse, order_id) == {("staged", None)}
    with duckdb.connect(str(own_warehouse.warehouse), read_only=True) as con:
        assert (
            _one(con, f"select count(*) from staging.stg_shop__order_lines where order_id = '{order_id}'")
            == lines
        )


def _lines(project: Project, order_id: str) -> set[tuple[str, str | None]]:
    with duckdb.connect(str(project.warehouse), read_only=True) as con:
        return set(
            con.execute(
                """
            select 'staged', null from staging.stg_shop__order_lines where order_id = $1
            union all
            select 'quarantine', _quarantine_reason from staging.quarantine_shop__order_lines
            where order_id = $1 and _quarantine_reason not like 'duplicate%'""",
                [order_id],
            ).fetchall()
        )
