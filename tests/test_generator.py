"""The generator: deterministic, shaped like the declared sources, and noisy as promised."""

from __future__ import annotations

import hashlib
import random
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import duckdb
import phonenumbers
import pytest

from cdp.generate import GenerationResult, generate
from cdp.generate.noise import JUNK_EMAILS, NoiseRates
from cdp.generate.sources import KIOSK_DEVICES, Batch, Emitter, build_catalog
from cdp.generate.tables import RAW_TABLES
from cdp.source_config import raw_tables


def _digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*.parquet"))
    }


@pytest.fixture
def con(sample: GenerationResult) -> duckdb.DuckDBPyConnection:
    """Views over the sample's raw files and ground truth."""
    con = duckdb.connect()
    for table in [*RAW_TABLES, "_truth/record_truth", "_truth/people"]:
        name = table.split("/")[-1]
        con.execute(f"create view {name} as select * from '{sample.out_dir / table}/*.parquet'")
    return con


def _share(con: duckdb.DuckDBPyConnection, sql: str) -> float:
    return con.execute(sql).fetchone()[0]


def test_same_seed_gives_identical_files_whatever_the_worker_count(tmp_path: Path) -> None:
    generate(tmp_path / "a", 300, seed=1, workers=1)
    generate(tmp_path / "b", 300, seed=1, workers=2)
    generate(tmp_path / "c", 300, seed=2)
    assert _digests(tmp_path / "a") == _digests(tmp_path / "b")
    assert _digests(tmp_path / "a") != _digests(tmp_path / "c")


def test_regenerating_replaces_old_output(tmp_path: Path) -> None:
    generate(tmp_path, 5_100, seed=3)  # two chunks
    small = generate(tmp_path, 50, seed=3)
    on_disk = (
        duckdb.connect().execute(f"select count(*) from '{tmp_path}/crm_contacts/*.parquet'").fetchone()[0]
    )
    assert on_disk == small.row_counts["crm_contacts"]


def test_generated_tables_match_the_dbt_source_declarations(project_root: Path) -> None:
    declared = {name: table.columns for name, table in raw_tables(project_root).items()}
    assert declared == RAW_TABLES


def test_every_table_has_rows_and_ground_truth_covers_every_record(
    sample: GenerationResult, con: duckdb.DuckDBPyConnection
) -> None:
    assert all(rows > 0 for rows in sample.row_counts.values()), sample.row_counts
    keys = {
        "crm_contacts": "contact_id",
        "shop_customers": "customer_id",
        "shop_orders": "order_id",
        "web_events": "event_id",
        "support_tickets": "ticket_id",
        "email_engagement": "event_id",
        "consent_records": "consent_id",
    }
    for table, key in keys.items():
        unmatched = _share(
            con,
            f"""select count(*) from {table} r
            left join record_truth t on t.source_table = '{table}' and t.record_id = r.{key}
            where t.person_id is null""",
        )
        assert unmatched == 0, f"{table}: {unmatched} records without a true person"


def test_true_phone_numbers_are_valid(con: duckdb.DuckDBPyConnection) -> None:
    phones = [row[0] for row in con.execute("select phone_e164 from people").fetchall()]
    invalid = [p for p in phones if not phonenumbers.is_valid_number(phonenumbers.parse(p))]
    assert not invalid, invalid[:5]


@pytest.mark.parametrize(
    ("noise", "sql", "low", "high"),
    [
        (
            "exact duplicate deliveries",
            """select 1 - count(distinct event_id) / count(*) from web_events""",
            0.005,
            0.03,
        ),
        (
            "emails with case or whitespace variants",
            """select avg(case when email <> lower(trim(email))
        then 1 else 0 end) from shop_customers""",
            0.05,
            0.25,
        ),
        (
            "gmail +tags",
            "select avg(case when email like '%+%@gmail.com' then 1 else 0 end) from shop_customers",
            0.005,
            0.1,
        ),
        (
            "junk emails",
            f"""select avg(case when lower(trim(email)) in
        ('{"', '".join(JUNK_EMAILS)}') then 1 else 0 end) from shop_customers""",
            0.003,
            0.05,
        ),
        (
            "phones in national format",
            """select avg(case when phone not like '+%' and phone not like '00%'
        then 1 else 0 end) from crm_contacts where phone is not null""",
            0.2,
            0.7,
        ),
        (
            "late events (received over an hour after)",
            """select avg(case when try_cast(received_at as timestamp)
        > try_cast(event_at as timestamp) + interval 1 hour then 1 else 0 end) from web_events""",
            0.01,
            0.06,
        ),
        (
            "negative order amounts",
            "select avg(case when total_amount like '-%' then 1 else 0 end) from shop_orders",
            0.0003,
            0.01,
        ),
        (
            "CRM records of a person's previous address",
            """select avg(case when c.street_address <> s.street_address
        then 1 else 0 end) from crm_contacts c join record_truth tc on tc.record_id = c.contact_id
        join record_truth ts on ts.person_id = tc.person_id and ts.source_table = 'shop_customers'
        join shop_customers s on s.customer_id = ts.record_id""",
            0.03,
            0.3,
        ),
    ],
)
def test_noise_rates(con: duckdb.DuckDBPyConnection, noise: str, sql: str, low: float, high: float) -> None:
    share = _share(con, sql)
    assert low <= share <= high, f"{noise}: {share:.4f} not in [{low}, {high}]"


def test_over_merge_traps_exist(con: duckdb.DuckDBPyConnection) -> None:
    """Different people sharing an email, and kiosks shared by several people."""
    shared_emails = _share(
        con,
        """select count(*) from (select email from people group by email
        having count(distinct person_id) > 1)""",
    )
    kiosk_people = _share(
        con,
        f"""select max(n) from (select w.anonymous_id, count(distinct t.person_id) n
        from web_events w join record_truth t on t.record_id = w.event_id
        where w.anonymous_id in ('{"', '".join(KIOSK_DEVICES)}') group by 1)""",
    )
    assert shared_emails > 0
    assert kiosk_people > 1


def test_rejects_a_non_positive_number_of_people(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        generate(tmp_path, 0, seed=1)


def test_a_rare_buyer_whose_next_order_falls_beyond_the_calendar_is_fine() -> None:
    """expovariate of a near-zero rate can put the next order millennia ahead (seen at 1M people)."""

    class FarFuture(random.Random):
        def expovariate(self, lambd: float) -> float:
            return 1e9  # years: beyond datetime.max from any start

    as_of = datetime(2026, 11, 1)
    emitter = Emitter(FarFuture(1), NoiseRates(), as_of, build_catalog(1), Batch())
    person = SimpleNamespace(first_seen=as_of - timedelta(days=30), active_until=as_of, orders_per_year=0.0)
    emitter.shop_orders(person, ["123"])  # type: ignore[arg-type]
    assert emitter.batch.rows == {}
