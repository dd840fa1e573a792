"""Hand-made raw records for identity tests: a few people whose right answer is known."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import yaml

from cdp.generate.tables import RAW_TABLES
from cdp.generate.writer import string_table

Row = dict[str, str | None]


def shop_customer(
    customer_id: str, email: str | None, first: str, last: str, created: str, phone: str | None = None
) -> Row:
    return {
        "customer_id": customer_id,
        "email": email,
        "first_name": first,
        "last_name": last,
        "phone": phone,
        "loyalty_id": None,
        "street_address": f"{customer_id} Main Street",
        "city": "Springfield",
        "postcode": f"9{customer_id[-4:]}",
        "country": "US",
        "created_at": created,
    }


def crm_contact(contact_id: str, email: str | None, phone: str | None, first: str, last: str) -> Row:
    return {
        "contact_id": contact_id,
        "first_name": first,
        "last_name": last,
        "email": email,
        "phone": phone,
        "date_of_birth": None,
        "street_address": f"{contact_id} Elm Road",
        "city": "Shelbyville",
        "postcode": f"8{contact_id[-4:]}",
        "country": "US",
        "created_at": "2024-01-01 10:00:00",
        "updated_at": "2024-01-01 10:00:00",
    }


def web_event(event_id: str, device: str, user_id: str | None, at: str) -> Row:
    return {
        "event_id": event_id,
        "anonymous_id": device,
        "user_id": user_id,
        "event_type": "login" if user_id else "page_view",
        "event_at": at,
        "received_at": at,
        "page_path": "/",
        "platform": "web",
    }


def support_ticket(ticket_id: str, email: str | None, phone: str | None) -> Row:
    return {
        "ticket_id": ticket_id,
        "requester_email": email,
        "requester_name": "Ann Lee",
        "requester_phone": phone,
        "channel": "email",
        "subject": "Where is my order?",
        "status": "open",
        "created_at": "2025-06-01 09:00:00",
    }


def write_landing(folder: Path, tables: dict[str, list[Row]], file_name: str = "part-00000.parquet") -> Path:
    """Writes ``tables`` as landing files; every other raw table gets an empty file, so that
    every source exists in the warehouse."""
    for table in RAW_TABLES:
        rows = tables.get(table, [])
        (folder / table).mkdir(parents=True, exist_ok=True)
        pq.write_table(string_table(RAW_TABLES[table], rows), folder / table / file_name)
    return folder


def identity_config(project_root: Path) -> dict:
    """The project's cdp_identity var, as dbt_project.yml declares it."""
    return yaml.safe_load((project_root / "dbt_project.yml").read_text())["vars"]["cdp_identity"]


def identity_vars(project_root: Path, **changes: object) -> str:
    """--vars JSON: the project's cdp_identity with top-level keys replaced."""
    config = identity_config(project_root)
    config.update(changes)
    return json.dumps({"cdp_identity": config})
