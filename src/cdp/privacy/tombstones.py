"""Erasure tombstones: what identifies an erased person's data if it arrives again, as
SHA-256 hashes only (no plaintext PII is kept).

``privacy.erasure_tombstones`` holds one row per (kind, value_sha256):

- ``record:<raw table>``: a record key of that table (``record:crm_contacts`` hashes a
  ``contact_id``), trimmed as staging trims it;
- ``email``: the canonical email (``cdp_canonical_email``: lower-cased, +tags and Gmail dots
  dropped), so every spelling staging would match is caught;
- ``phone``: the E.164 phone, resolved with the row's country as staging resolves it;
- ``loyalty_id`` and ``anonymous_id``: the person's loyalty card and own devices.

How re-delivered data is kept out: ``MATCHERS`` says which raw column carries which kind
(a shop order's ``customer_id`` is a ``record:shop_customers`` key, an order line's
``order_id`` a ``record:shop_orders`` key). The loader (cdp.load) withholds every incoming
row with any column matching a tombstone and records how many per file in
``privacy.withheld_rows`` (no values), and the eraser deletes raw rows with the same
predicate. Normalisation is cdp.privacy.normalize, a Python mirror of the dbt macros tested
against staging, so a phone written in another format still matches.

Gap: rows written into ``raw.*`` without the loader are not screened; staging has no
anti-join (see README, Privacy > Erasure).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

import duckdb

from cdp.privacy.normalize import Normalizer

SCHEMA = "privacy"
TOMBSTONES = f"{SCHEMA}.erasure_tombstones"
WITHHELD = f"{SCHEMA}.withheld_rows"

_DDL = (
    f"create schema if not exists {SCHEMA}",
    f"""create table if not exists {TOMBSTONES} (
        kind varchar not null, value_sha256 varchar not null, request_id varchar not null,
        created_at timestamp not null, primary key (kind, value_sha256))""",
    f"""create table if not exists {WITHHELD} (
        raw_table varchar not null, file_sha256 varchar not null, file_path varchar not null,
        rows_withheld bigint not null, withheld_at timestamp not null)""",
)


@dataclass(frozen=True)
class Match:
    column: str
    kind: str  # tombstone kind: record:<table>, email, phone, loyalty_id, anonymous_id
    country_column: str | None = None  # phones: the row's country (else cdp_default_country)


# Per raw table, every column that can identify a person; keep in step with models/staging.
MATCHERS: dict[str, tuple[Match, ...]] = {
    "crm_contacts": (
        Match("contact_id", "record:crm_contacts"),
        Match("email", "email"),
        Match("phone", "phone", "country"),
    ),
    "shop_customers": (
        Match("customer_id", "record:shop_customers"),
        Match("email", "email"),
        Match("phone", "phone", "country"),
        Match("loyalty_id", "loyalty_id"),
    ),
    "shop_orders": (
        Match("order_id", "record:shop_orders"),
        Match("customer_id", "record:shop_customers"),
        Match("email", "email"),
    ),
    "shop_order_lines": (
        Match("order_line_id", "record:shop_order_lines"),
        Match("order_id", "record:shop_orders"),
    ),
    "web_events": (
        Match("event_id", "record:web_events"),
        Match("user_id", "record:shop_customers"),
        Match("anonymous_id", "anonymous_id"),
    ),
    "support_tickets": (
        Match("ticket_id", "record:support_tickets"),
        Match("requester_email", "email"),
        Match("requester_phone", "phone"),
    ),
    "email_engagement": (Match("event_id", "record:email_engagement"), Match("email", "email")),
    "consent_records": (Match("consent_id", "record:consent_records"), Match("email", "email")),
}

# Identifier types of identity.customer_identifiers -> tombstone kind (ids are record keys).
IDENTIFIER_KINDS = {
    "crm_contact_id": "record:crm_contacts",
    "shop_customer_id": "record:shop_customers",
    "email": "email",
    "phone": "phone",
    "loyalty_id": "loyalty_id",
    "anonymous_id": "anonymous_id",
}


def sha256_text(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    for statement in _DDL:
        con.execute(statement)


def has_tombstones(con: duckdb.DuckDBPyConnection) -> bool:
    found = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [SCHEMA, TOMBSTONES.split(".")[1]],
    ).fetchall()[0][0]
    return bool(found) and con.execute(f"select count(*) from {TOMBSTONES}").fetchall()[0][0] > 0


def register_functions(con: duckdb.DuckDBPyConnection, normalizer: Normalizer) -> None:
    """SQL functions hashing a raw value the way its tombstone kind was hashed."""

    def key_hash(value: str | None) -> str | None:
        cleaned = normalizer.clean_text(value)
        return sha256_text(cleaned) if cleaned is not None else None

    def upper_key_hash(value: str | None) -> str | None:  # loyalty ids are upper-cased in staging
        cleaned = normalizer.clean_text(value)
        return sha256_text(cleaned.upper()) if cleaned is not None else None

    def email_hash(value: str | None) -> str | None:
        canonical = normalizer.canonical_email(value)
        return sha256_text(canonical) if canonical is not None else None

    def phone_hash(value: str | None, country: str | None) -> str | None:
        e164 = normalizer.phone_e164(value, country)
        return sha256_text(e164) if e164 is not None else None

    special = "special"  # our functions handle nulls (a phone with a null country still hashes)
    for name, function in (("key", key_hash), ("upper_key", upper_key_hash), ("email", email_hash)):
        con.create_function(
            f"cdp_erasure_{name}_sha256", function, ["VARCHAR"], "VARCHAR", null_handling=special
        )
    con.create_function(
        "cdp_erasure_phone_sha256", phone_hash, ["VARCHAR", "VARCHAR"], "VARCHAR", null_handling=special
    )


def _hash_sql(match: Match, alias: str) -> str:
    column = f'cast({alias}."{match.column}" as varchar)'
    if match.kind == "email":
        return f"cdp_erasure_email_sha256({column})"
    if match.kind == "phone":
        country = f'cast({alias}."{match.country_column}" as varchar)' if match.country_column else "null"
        return f"cdp_erasure_phone_sha256({column}, {country})"
    if match.kind == "loyalty_id":
        return f"cdp_erasure_upper_key_sha256({column})"
    return f"cdp_erasure_key_sha256({column})"


def matches_sql(raw_table: str, alias: str) -> str:
    """A SQL condition true for rows of ``raw_table`` (as ``alias``) matching any tombstone,
    false otherwise (never null); needs register_functions on the connection."""
    conditions = [
        f"{_hash_sql(m, alias)} in (select value_sha256 from {TOMBSTONES} where kind = '{m.kind}')"
        for m in MATCHERS.get(raw_table, ())
    ]
    # A null value makes `in` null: coalesce, or `not (...)` would drop rows that match nothing.
    return "coalesce(" + " or ".join(conditions) + ", false)" if conditions else "false"


def add_tombstones(
    con: duckdb.DuckDBPyConnection, request_id: str, entries: Iterable[tuple[str, str]]
) -> int:
    """Adds (kind, plaintext value) pairs as hashes; returns how many were new."""
    rows = sorted({(kind, sha256_text(value)) for kind, value in entries})
    before = con.execute(f"select count(*) from {TOMBSTONES}").fetchall()[0][0]
    con.executemany(
        f"insert or ignore into {TOMBSTONES} values (?, ?, ?, now()::timestamp)",
        [[kind, digest, request_id] for kind, digest in rows],
    )
    return con.execute(f"select count(*) from {TOMBSTONES}").fetchall()[0][0] - before


def record_withheld(
    con: duckdb.DuckDBPyConnection, raw_table: str, file_sha256: str, file_path: str, rows: int
) -> None:
    con.execute(
        f"insert into {WITHHELD} values (?, ?, ?, ?, now()::timestamp)",
        [raw_table, file_sha256, file_path, rows],
    )
