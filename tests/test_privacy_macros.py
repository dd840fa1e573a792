"""Privacy macros (macros/privacy), edge case by edge case: compiled by dbt and run on DuckDB,
and the SHA-256 macro compiled for the postgres target and run on PostgreSQL, which must give
the same hex as DuckDB and Python for the same text."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb
import pytest

from cdp.dbt_runner import run_dbt
from cdp.project import Project

from .conftest import PROJECT_ROOT, compile_inline, postgres_or_skip


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# FIPS 180-2 test vectors: the macro must give exactly these (lowercase hex).
ABC_SHA256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

SHA256 = [
    ("abc", ABC_SHA256),
    ("", EMPTY_SHA256),  # the raw hash hashes what it is given; the masking macros null blanks
    ("jörg.müller@example.de", sha256("jörg.müller@example.de")),  # UTF-8 bytes, not Latin-1
    (None, None),
]
EMAIL_SHA256 = [
    ("ann.lee@example.com", sha256("ann.lee@example.com")),
    (" Ann.Lee@Example.COM ", sha256("ann.lee@example.com")),  # trimmed and lower-cased first
    ("", None),
    ("   ", None),
    (None, None),
]
EMAIL_DOMAIN = [
    ("ann.lee@Example.com", "example.com"),
    ("ann@mail.example.co.uk", "mail.example.co.uk"),
    ("no-at-sign", None),
    ("ann@", None),
    ("@example.com", None),
    ("", None),
    (None, None),
]
PHONE_SHA256 = [
    ("+14155552671", sha256("+14155552671")),
    ("", None),
    (None, None),
]
# Calling codes come from var cdp_phone_rules; the longest match wins (353 before 3x).
PHONE_CALLING_CODE = [
    ("+14155552671", "1"),
    ("+447700900123", "44"),
    ("+353861234567", "353"),
    ("+4915123456789", "49"),
    ("+881234567890", None),  # a code not configured
    ("4155552671", None),  # not E.164
    (None, None),
]
POSTCODE_PREFIX = [
    ("94103", "941"),
    ("sw1a 1aa", "SW1"),
    ("1024 FR", "102"),
    ("AB", "AB"),
    ("", None),
    (None, None),
]
BIRTH_YEAR = [("1987-02-04", "1987"), ("2000-12-31", "2000"), (None, None)]

CASES = {
    "sha256": (SHA256, "{{ cdp_sha256_hex('value') }}"),
    "email_sha256": (EMAIL_SHA256, "{{ cdp_email_sha256('value') }}"),
    "email_domain": (EMAIL_DOMAIN, "{{ cdp_email_domain('value') }}"),
    "phone_sha256": (PHONE_SHA256, "{{ cdp_phone_sha256('value') }}"),
    "phone_calling_code": (PHONE_CALLING_CODE, "{{ cdp_phone_calling_code('value') }}"),
    "postcode_prefix": (POSTCODE_PREFIX, "{{ cdp_postcode_prefix('value') }}"),
    "birth_year": (BIRTH_YEAR, "{{ cdp_birth_year('cast(value as date)') }}"),
}


def _literal(value: str | None) -> str:
    return "null" if value is None else "'" + value.replace("'", "''") + "'"


def _cases_sql(kinds: list[str]) -> str:
    """One query returning (kind, case index, output) for every case of the given macros."""
    parts = []
    for kind in kinds:
        cases, expression = CASES[kind]
        rows = ", ".join(f"({i}, cast({_literal(case[0])} as varchar))" for i, case in enumerate(cases))
        parts.append(
            f"select '{kind}' as kind, i, cast({expression} as varchar) as output "
            f"from (values {rows}) as cases(i, value)"
        )
    return "\nunion all\n".join(parts)


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, int], str | None]:
    warehouse = tmp_path_factory.mktemp("privacy") / "privacy.duckdb"
    sql = compile_inline(_cases_sql(list(CASES)), warehouse)
    with duckdb.connect() as con:
        return {(kind, i): output for kind, i, output in con.execute(sql).fetchall()}


def _params(kind: str) -> list:
    cases = CASES[kind][0]
    return [pytest.param(kind, i, id=f"{kind}-{case[0]!r}") for i, case in enumerate(cases)]


@pytest.mark.parametrize(("kind", "index"), [p for kind in CASES for p in _params(kind)])
def test_privacy_macro_on_duckdb(outputs, kind: str, index: int) -> None:
    value, expected = CASES[kind][0][index]
    assert outputs[(kind, index)] == expected, f"{kind}({value!r})"


def test_sha256_is_the_same_on_postgres_as_on_duckdb_and_python(tmp_path: Path) -> None:
    pg = postgres_or_skip("the Postgres SHA-256 of the privacy macros is NOT tested")
    kinds = ["sha256", "email_sha256", "phone_sha256"]
    result = run_dbt(
        Project(PROJECT_ROOT, tmp_path / "unused.duckdb"),
        ["--quiet", "compile", "--inline", _cases_sql(kinds), "--output", "json"],
        capture=True,
        env={"CDP_TARGET": "postgres"},
    )
    assert result.ok, result.output
    sql = json.loads(result.output)["compiled"]
    assert "encode(sha256(convert_to(" in sql  # the postgres__ implementation, not DuckDB's
    with pg:
        rows = pg.execute(sql).fetchall()
    on_postgres = {(kind, i): output for kind, i, output in rows}
    for kind in kinds:
        for i, (value, expected) in enumerate(CASES[kind][0]):
            assert on_postgres[(kind, i)] == expected, f"{kind}({value!r}) on PostgreSQL"
