"""Customer marts on hand-made people whose right answers are known: the golden record under
each survivorship rule, activity and consent in customer_360, journey stages in
customer_events, and RFM scores and segments in customer_rfm."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
import yaml

from cdp.dbt_runner import run_dbt
from cdp.generate.run import DEFAULT_AS_OF
from cdp.load import load_landing
from cdp.project import Project
from cdp.source_config import raw_tables

from .conftest import PROJECT_ROOT
from .identity_fixtures import Row, crm_contact, identity_config, shop_customer, write_landing

MARTS = "+customer_360 +customer_events +customer_rfm"
AS_OF = "2025-12-31"


def _customer_config(**changes: object) -> dict:
    config = yaml.safe_load((PROJECT_ROOT / "dbt_project.yml").read_text())["vars"]["cdp_customer"]
    config["as_of"] = AS_OF
    config.update(changes)
    return config


def _vars(customer: dict) -> list[str]:
    """Probabilistic matching is off for a handful of records, and the email guard is relaxed
    so one person's records may carry two phones; the marts, not the guards, are under test."""
    identity = identity_config(PROJECT_ROOT)
    identity["probabilistic"]["enabled"] = False
    identity["identifier_types"]["email"]["max_partners"] = {"phone": 5, "people": 5}
    return ["--vars", json.dumps({"cdp_identity": identity, "cdp_customer": customer})]


def order(order_id: str, customer_id: str, at: str, amount: str, status: str = "completed", **kw: str) -> Row:
    return {
        "order_id": order_id,
        "customer_id": customer_id,
        "email": kw.get("email"),
        "ordered_at": at,
        "status": status,
        "currency": kw.get("currency", "USD"),
        "total_amount": amount,
    }


def ticket(ticket_id: str, email: str, phone: str, at: str) -> Row:
    return {
        "ticket_id": ticket_id,
        "requester_email": email,
        "requester_name": "P. Smith",
        "requester_phone": phone,
        "channel": "email",
        "subject": "Where is my order?",
        "status": "open",
        "created_at": at,
    }


def engagement(event_id: str, email: str, kind: str, at: str) -> Row:
    return {"event_id": event_id, "email": email, "campaign_id": "c1", "event_type": kind, "event_at": at}


def consent(consent_id: str, email: str, purpose: str, status: str, at: str) -> Row:
    return {
        "consent_id": consent_id,
        "email": email,
        "purpose": purpose,
        "status": status,
        "source": "web_form",
        "recorded_at": at,
    }


def web(event_id: str, device: str, user_id: str | None, kind: str, at: str) -> Row:
    return {
        "event_id": event_id,
        "anonymous_id": device,
        "user_id": user_id,
        "event_type": kind,
        "event_at": at,
        "received_at": at,
        "page_path": "/",
        "platform": "web",
    }


PAT = "pat@fastmail.com"
PAT_CRM = {
    **crm_contact("003000000000101", PAT, "+1 212 555 0122", "Pat", "Smith"),
    "date_of_birth": "1990-05-17",
    "created_at": "2024-01-01 10:00:00",
    "updated_at": "2024-01-01 10:00:00",
}
PAT_SHOP = shop_customer("5001", PAT, "Patricia", "Smith", "2025-02-01 10:00:00", "212-555-0122")
# Q: a phone on one CRM contact (older) and another on one shop account (newer): a tie.
Q_CRM = {**crm_contact("003000000000201", "q@fastmail.com", "+1 212 555 0144", "Quinn", "Doe")}
Q_SHOP = shop_customer("6001", "q@fastmail.com", "Quinn", "Doe", "2025-01-01 10:00:00", "212-555-0155")


def _buyer(customer_id: str, orders: list[tuple[str, str]]) -> tuple[Row, list[Row]]:
    account = shop_customer(
        customer_id, f"buyer{customer_id}@fastmail.com", "Bo", f"Buyer{customer_id}", "2024-01-01 10:00:00"
    )
    return account, [
        order(f"{customer_id}-{n}", customer_id, at, amount) for n, (at, amount) in enumerate(orders)
    ]


# RFM as of 2025-12-31. Recency (days), frequency, monetary -> expected scores and segment:
#   B1  11, 1,   10   -> 5 1 1  New                 (plus an order after the as-of date)
#   B2  60, 2,   60   -> 4 2 2  Potential loyalist  (B5 is the same: ties share scores)
#   Pat 169, 4, 200   -> 3 5 5  Loyal
#   B3 213, 3,  150   -> 2 4 4  At risk
#   B4 365, 5, 1000   -> 1 5 5  Can't lose them
BUYERS = {
    "7001": [("2025-12-20 10:00:00", "10.00"), ("2026-01-05 10:00:00", "999.00")],
    "7002": [("2025-06-01 10:00:00", "30.00"), ("2025-11-01 10:00:00", "30.00")],
    "7005": [("2025-06-01 10:00:00", "30.00"), ("2025-11-01 10:00:00", "30.00")],
    "7003": [
        ("2025-01-01 10:00:00", "50.00"),
        ("2025-03-01 10:00:00", "50.00"),
        ("2025-06-01 10:00:00", "50.00"),
    ],
    "7004": [(f"2024-{m:02d}-01 10:00:00", "200.00") for m in (1, 3, 5, 7)]
    + [("2024-12-31 10:00:00", "200.00")],
}

PAT_ORDERS = [
    order("8001", "5001", "2025-03-01 10:00:00", "100.00", email="pat.orders@fastmail.com"),
    order("8002", "5001", "2025-04-01 10:00:00", "50.00", currency="GBP", email="pat.orders@fastmail.com"),
    order("8003", "5001", "2025-05-01 10:00:00", "30.00", status="refunded", email="pat.orders@fastmail.com"),
    order("8004", "5001", "2025-06-01 10:00:00", "20.00", email="pat.orders@fastmail.com"),
    order(
        "8005", "5001", "2025-07-01 10:00:00", "10.00", status="cancelled", email="pat.orders@fastmail.com"
    ),
    order("8006", "5001", "2025-07-15 10:00:00", "16.50", email="pat.orders@fastmail.com"),
]


def _landing() -> dict[str, list[Row]]:
    buyers = [_buyer(customer_id, orders) for customer_id, orders in BUYERS.items()]
    return {
        "crm_contacts": [PAT_CRM, Q_CRM],
        "shop_customers": [PAT_SHOP, Q_SHOP, *(account for account, _ in buyers)],
        "shop_orders": [*PAT_ORDERS, *(row for _, rows in buyers for row in rows)],
        "support_tickets": [
            ticket(f"90000{n}", PAT, "+1 212 555 0133", f"2024-06-0{n} 09:00:00") for n in (1, 2, 3)
        ],
        "email_engagement": [
            engagement("em-1", PAT, "delivered", "2025-08-01 08:00:00"),
            engagement("em-2", PAT, "open", "2025-08-01 09:00:00"),
            engagement("em-3", PAT, "click", "2025-08-01 09:05:00"),
            engagement("em-4", PAT, "delivered", "2025-08-08 08:00:00"),
        ],
        "consent_records": [
            consent("cr-1", PAT, "email_marketing", "granted", "2025-01-01 10:00:00"),
            consent("cr-2", PAT, "email_marketing", "withdrawn", "2025-06-01 10:00:00"),
            consent("cr-3", PAT, "sms_marketing", "granted", "2025-03-02 10:00:00"),
            consent("cr-4", PAT, "sms_marketing", "denied", "2025-03-02 10:00:00"),
            consent("cr-5", PAT, "personalised_ads", "granted", "2025-03-02 10:00:00"),
        ],
        "web_events": [
            web("w-1", "dev-pat", None, "page_view", "2025-02-20T10:00:00Z"),
            web("w-2", "dev-pat", "5001", "login", "2025-02-20T10:01:00Z"),
            web("w-3", "dev-pat", "5001", "product_view", "2025-12-01T10:00:00Z"),
        ],
    }


def _build(project: Project, customer: dict) -> None:
    result = run_dbt(
        project,
        ["build", "--select", MARTS, "--indirect-selection", "cautious", *_vars(customer)],
        capture=True,
    )
    assert result.ok, result.output[-3000:]


@pytest.fixture(scope="module")
def marts(tmp_path_factory: pytest.TempPathFactory) -> Project:
    root = tmp_path_factory.mktemp("marts")
    project = Project(PROJECT_ROOT, root / "warehouse.duckdb")
    load_landing(write_landing(root / "landing", _landing()), project.warehouse, raw_tables(PROJECT_ROOT))
    _build(project, _customer_config())
    return project


def _query(project: Project, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(project.warehouse), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def _customer_of(project: Project, source_table: str, record_id: str) -> str:
    rows = _query(
        project,
        "select customer_id from identity.customer_records where source_table = ? and record_id = ?",
        [source_table, record_id],
    )
    assert rows, f"{source_table}:{record_id} has no customer"
    return rows[0][0]


def _golden(project: Project, customer_id: str) -> dict:
    with duckdb.connect(str(project.warehouse), read_only=True) as con:
        frame = con.execute("select * from customer.customer_360 where customer_id = ?", [customer_id]).df()
    assert len(frame) == 1
    return frame.iloc[0].to_dict()


def test_default_rules_pick_the_expected_survivors(marts: Project) -> None:
    pat = _golden(marts, _customer_of(marts, "shop_customers", "5001"))
    # name: source_priority, CRM first.
    assert (pat["first_name"], pat["last_name"], pat["name_source"]) == ("Pat", "Smith", "crm_contacts")
    # email: most_recent; the newest record carrying one is an email engagement event.
    assert (pat["email"], pat["email_source"]) == (PAT, "email_engagement")
    # phone: most_frequent; three tickets carry 0133, two records 0122.
    assert (pat["phone_e164"], pat["phone_source"]) == ("+12125550133", "support_tickets")
    # address: most_recent among shop and CRM; the shop account is newer.
    assert (pat["street_address"], pat["address_source"]) == ("5001 Main Street", "shop_customers")
    assert pat["date_of_birth"].date() == date(1990, 5, 17)
    quinn = _golden(marts, _customer_of(marts, "crm_contacts", "003000000000201"))
    # most_frequent with a 1-1 tie: the newer value wins.
    assert quinn["phone_e164"] == "+12125550155"


def test_each_rule_can_be_chosen_per_attribute(marts: Project, tmp_path: Path) -> None:
    survivorship = _customer_config()["survivorship"]
    survivorship["name"]["rule"] = "most_recent"
    survivorship["email"] = {
        "rule": "most_frequent",
        "sources": ["crm_contacts", "shop_customers", "shop_orders"],
    }
    survivorship["phone"] = {"rule": "source_priority", "sources": ["crm_contacts", "shop_customers"]}
    survivorship["address"] = {"rule": "source_priority", "sources": ["crm_contacts", "shop_customers"]}
    _build(marts, _customer_config(survivorship=survivorship))
    try:
        pat = _golden(marts, _customer_of(marts, "shop_customers", "5001"))
        # name: newest of CRM (2024-01), shop (2025-02) and tickets (2024-06).
        assert (pat["first_name"], pat["name_source"]) == ("Patricia", "shop_customers")
        # email: five orders carry pat.orders@, two person records pat@.
        assert (pat["email"], pat["email_source"]) == ("pat.orders@fastmail.com", "shop_orders")
        assert (pat["phone_e164"], pat["phone_source"]) == ("+12125550122", "crm_contacts")
        assert (pat["street_address"], pat["address_source"]) == ("003000000000101 Elm Road", "crm_contacts")
        quinn = _golden(marts, _customer_of(marts, "crm_contacts", "003000000000201"))
        assert quinn["phone_e164"] == "+12125550144"
    finally:
        _build(marts, _customer_config())


def test_activity_orders_and_consent_add_up(marts: Project) -> None:
    pat = _golden(marts, _customer_of(marts, "shop_customers", "5001"))
    assert (pat["order_count"], pat["refunded_order_count"], pat["cancelled_order_count"]) == (4, 1, 1)
    # 100 + 50 GBP at 1.27 + 20 + 16.50, in USD.
    assert pat["total_revenue"] == Decimal("200.00")
    assert pat["average_order_value"] == Decimal("50.00")
    assert pat["first_order_at"] == datetime(2025, 3, 1, 10)
    assert pat["last_order_at"] == datetime(2025, 7, 15, 10)
    assert (pat["support_ticket_count"], pat["open_ticket_count"]) == (3, 3)
    assert (pat["emails_delivered"], pat["emails_opened"], pat["emails_clicked"]) == (2, 1, 1)
    assert pat["email_open_rate"] == pytest.approx(0.5)
    assert not pat["has_email_bounced"] and not pat["has_unsubscribed"]
    assert pat["channels"] == "crm,email,shop,support,web"
    assert pat["channel_count"] == 5
    assert pat["first_seen_at"] == datetime(2024, 1, 1, 10)
    # The later withdrawal wins; a grant and a denial at one moment resolve to the denial.
    consents = (
        pat["consent_email_marketing"],
        pat["consent_sms_marketing"],
        pat["consent_personalised_ads"],
        pat["consent_analytics"],
    )
    assert consents == ("withdrawn", "denied", "granted", "unknown")


def test_journey_stages_follow_the_customer(marts: Project) -> None:
    pat = _customer_of(marts, "shop_customers", "5001")
    stages = dict(
        _query(
            marts,
            "select event_key, journey_stage from customer.customer_events where customer_id = ?",
            [pat],
        )
    )
    assert stages["crm_contacts:003000000000101"] == "awareness"
    assert stages["support_tickets:900001"] == "consideration"
    # Stages never move backwards: a page view after a ticket is still consideration.
    assert stages["web_events:w-1"] == "consideration"
    assert stages["shop_orders:8001"] == "purchase"
    assert stages["shop_orders:8002"] == "retention"
    assert stages["shop_orders:8003"] == "retention"  # refunded: not a completed order
    assert stages["shop_orders:8004"] == "loyalty"  # the third completed order
    assert stages["web_events:w-3"] == "loyalty"
    numbers = _query(
        marts,
        "select customer_event_number from customer.customer_events where customer_id = ? order by event_at",
        [pat],
    )
    assert [n for (n,) in numbers] == list(range(1, len(numbers) + 1))


def test_rfm_scores_and_segments(marts: Project) -> None:
    rows = _query(
        marts,
        """
        select records.record_id, rfm.recency_days, rfm.frequency, rfm.monetary, rfm.rfm_score,
               rfm.rfm_segment, rfm.as_of_date
        from customer.customer_rfm as rfm
        inner join identity.customer_records as records using (customer_id)
        where records.source_table = 'shop_customers'
        """,
    )
    by_account = {row[0]: row[1:6] for row in rows}
    assert by_account == {
        "7001": (11, 1, Decimal("10.00"), "511", "New"),
        "7002": (60, 2, Decimal("60.00"), "422", "Potential loyalist"),
        "7005": (60, 2, Decimal("60.00"), "422", "Potential loyalist"),
        "5001": (169, 4, Decimal("200.00"), "355", "Loyal"),
        "7003": (213, 3, Decimal("150.00"), "244", "At risk"),
        "7004": (365, 5, Decimal("1000.00"), "155", "Can't lose them"),
    }
    assert {row[6] for row in rows} == {date(2025, 12, 31)}


@pytest.mark.parametrize(
    ("phone_rule", "message"),
    [
        (
            {"rule": "loudest", "sources": ["crm_contacts"]},
            "cdp_customer.survivorship.phone.rule: must be source_priority, most_recent or most_frequent",
        ),
        (
            {"rule": "most_recent", "sources": ["web_events"]},
            "cdp_customer.survivorship.phone.sources: `web_events` cannot supply phone",
        ),
    ],
)
def test_a_config_mistake_names_the_key(marts: Project, phone_rule: dict, message: str) -> None:
    survivorship = _customer_config()["survivorship"]
    survivorship["phone"] = phone_rule
    customer_vars = _vars(_customer_config(survivorship=survivorship))
    result = run_dbt(
        marts, ["compile", "--select", "int_customer__golden_attributes", *customer_vars], capture=True
    )
    assert not result.ok
    assert message in result.output


def test_a_null_as_of_scores_as_of_cdp_as_of(built: Project) -> None:
    """With cdp_customer.as_of null, the environment variable CDP_AS_OF (set for the whole
    suite to the sample's date by conftest) decides the as-of day, not the build day."""
    with duckdb.connect(str(built.warehouse), read_only=True) as con:
        days = con.execute("select distinct as_of_date from customer.customer_rfm").fetchall()
    assert days == [(DEFAULT_AS_OF.date(),)]
