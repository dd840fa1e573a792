"""Who an erasure request is about: the customer id(s) an email or customer id resolves to,
and every record and identifier those customers hold in the identity marts."""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from cdp.errors import ErasureError, SubjectNotFound
from cdp.privacy.normalize import Normalizer
from cdp.privacy.tombstones import sha256_text

RECORDS = "identity.customer_records"
IDENTIFIERS = "identity.customer_identifiers"
RECORD_IDENTIFIERS = "identity.int_identity__record_identifiers"
IN_LIST = "in (select unnest(?::varchar[]))"  # DuckDB binds a Python list as one array


@dataclass(frozen=True)
class SubjectRef:
    subject_type: str  # email | customer_id
    value: str  # as given; never stored

    def normalized(self, normalizer: Normalizer) -> str | None:
        """The value as the warehouse holds it: the canonical email, or the trimmed customer id."""
        if self.subject_type == "email":
            return normalizer.canonical_email(self.value)
        return self.value.strip() or None

    def sha256(self, normalizer: Normalizer) -> str:
        """What the request trail stores instead of the plaintext."""
        return sha256_text(self.normalized(normalizer) or self.value.strip().lower())


@dataclass
class Subject:
    customer_ids: list[str]
    records: list[tuple[str, str]] = field(default_factory=list)  # (source_table, record_id)
    identifiers: list[tuple[str, str, str]] = field(default_factory=list)  # (type, value, key)
    email: str | None = None  # the canonical email the request named, if any


def resolve(con: duckdb.DuckDBPyConnection, ref: SubjectRef, normalizer: Normalizer) -> Subject:
    """The customers ``ref`` names, with their records and identifiers; SubjectNotFound if none."""
    value = ref.normalized(normalizer)
    if value is None:
        raise SubjectNotFound(f"'{ref.value}' is not a valid {ref.subject_type.replace('_', ' ')}")
    ids = _customers_by_email(con, value) if ref.subject_type == "email" else _customer_by_id(con, value)
    if not ids:
        shown = "this email" if ref.subject_type == "email" else f"customer id {value}"
        raise SubjectNotFound(f"no customer in {RECORDS} matches {shown}; nothing was erased")
    subject = Subject(ids, email=value if ref.subject_type == "email" else None)
    records = f"select source_table, record_id from {RECORDS} where customer_id {IN_LIST}"
    subject.records = _rows(con, records, ids)
    identifiers = f"""select identifier_type, identifier_value, identifier_key from {IDENTIFIERS}
        where customer_id {IN_LIST}"""
    subject.identifiers = _rows(con, identifiers, ids)
    return subject


def _customers_by_email(con: duckdb.DuckDBPyConnection, email: str) -> list[str]:
    usable = _column(
        con,
        f"""select distinct customer_id from {IDENTIFIERS}
            where identifier_type = 'email' and identifier_value = ?""",
        email,
    )
    if usable:
        return usable
    # A guard stopped the email linking (blocklist, shared inbox): look at the records carrying it.
    carriers = _column(
        con,
        f"""select distinct r.customer_id from {RECORD_IDENTIFIERS} i
            join {RECORDS} r using (source_table, record_id)
            where i.identifier_key = 'email:' || ?""",
        email,
    )
    if len(carriers) > 1:
        # Erasing everyone behind a household inbox would erase people who did not ask.
        raise ErasureError(
            f"the email is shared by {len(carriers)} customers (a household or shared inbox): "
            "erase the person who asked with --customer-id "
            "(find it with `cdp explain --identifier email:...`)"
        )
    return carriers


def _customer_by_id(con: duckdb.DuckDBPyConnection, customer_id: str) -> list[str]:
    return _column(con, f"select distinct customer_id from {RECORDS} where customer_id = ?", customer_id)


def _column(con: duckdb.DuckDBPyConnection, sql: str, value: str) -> list[str]:
    return sorted(row[0] for row in con.execute(sql, [value]).fetchall())


def _rows(con: duckdb.DuckDBPyConnection, sql: str, ids: list[str]) -> list:
    return sorted(tuple(row) for row in con.execute(sql, [ids]).fetchall())
