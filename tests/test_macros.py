"""Normalisation macros, edge case by edge case: compiled by dbt, run on DuckDB."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tests.conftest import compile_inline

EMAIL = [
    (" John.Smith@Example.COM\t", "john.smith@example.com"),
    ("jane+news@outlook.com", "jane+news@outlook.com"),
    ("null", None),
    ("N/A", None),
    ("", None),
    ("   ", None),
    ("john@", None),
    ("john@@gmail.com", None),
    ("john.gmail.com", None),
    ("@gmail.com", None),
    ("john @ gmail.com", None),
    ("john@gmail.com.", None),
    (".john@gmail.com", None),
    ("john..smith@gmail.com", None),
    ("o'brien@example.ie", None),
    ("a_b-c%d@sub.example.co.uk", "a_b-c%d@sub.example.co.uk"),
]
CANONICAL = [
    ("j.o.h.n.smith+shop@gmail.com", "johnsmith@gmail.com"),
    ("johnsmith@googlemail.com", "johnsmith@gmail.com"),
    ("john.smith+news@outlook.com", "john.smith@outlook.com"),
    ("john.smith@outlook.com", "john.smith@outlook.com"),
    (None, None),
]
# (raw phone, row country, expected E.164)
PHONE = [
    ("+1 415-555-2671", None, "+14155552671"),
    ("(415) 555-2671", "US", "+14155552671"),
    ("415.555.2671", "us", "+14155552671"),
    ("1-415-555-2671", "US", "+14155552671"),
    ("001 415 555 2671", "GB", "+14155552671"),
    ("07700 900123", "GB", "+447700900123"),
    ("+44 (0)7700 900123", None, "+447700900123"),
    ("0044 7700 900123", "DE", "+447700900123"),
    ("0151 23456789", "DE", "+4915123456789"),
    ("06 12 34 56 78", "FR", "+33612345678"),
    ("612345678", "ES", "+34612345678"),
    ("06-12345678", "NL", "+31612345678"),
    ("(415) 555-2671", None, "+14155552671"),  # no country: var cdp_default_country (US)
    ("0000000000", "US", None),
    ("999-999-9999", "US", None),
    ("1234567890", "US", None),
    ("n/a", "US", None),
    ("12345", "US", None),
    ("555-2671", "US", None),
    ("+999", None, None),
    ("+88 1234 5678 90", None, "+881234567890"),  # unknown calling code, plausible length
]
NAME = [
    ("  jOHN   smith ", "John Smith"),
    ("jean-pierre", "Jean-Pierre"),
    ("MARY", "Mary"),
    ("null", None),
    ("-", None),
    ("Test", None),
]
TIMESTAMP = [
    ("2024-03-01T10:00:00Z", "2024-03-01 10:00:00"),
    ("2024-03-01 10:00:00", "2024-03-01 10:00:00"),
    ("2024-03-01T10:00:00+02:00", "2024-03-01 08:00:00"),  # offsets are honoured, not dropped
    ("2024-03-01", "2024-03-01 00:00:00"),
    ("2023-02-30 10:00:00", None),
    ("not-a-timestamp", None),
    ("13/13/2023", None),
    (None, None),
]
# Whitespace at either end is stripped (tabs and newlines too), inner whitespace kept; a value
# that is only a placeholder of var cdp_placeholder_text (any case, whitespace around) is null.
CLEAN = [
    ("\t Jane  Doe \r\n", "Jane  Doe"),
    ("jane", "jane"),
    (" NULL ", None),
    ("\tN/A\n", None),
    ("--", None),
    ("---", "---"),
    ("nullable", "nullable"),
    ("not null", "not null"),
    ("n/a/b", "n/a/b"),
    (" \t ", None),
    ("", None),
    (None, None),
    # Around cdp_needs_no_cleaning's shortcut (values longer than the longest placeholder,
    # 'unknown', with no space or control character at either end):
    ("UNKNOWN", None),
    ("unknowns", "unknowns"),
    ("  unknown  ", None),
    ("Jane Doe Smith\n", "Jane Doe Smith"),
    ("\tJane Doe Smith", "Jane Doe Smith"),
    ("Zoë Ünal-Øster", "Zoë Ünal-Øster"),
    ("\x01unknown", "\x01unknown"),
]
DECIMAL = [("12.50", "12.50"), (" 7 ", "7.00"), ("-3.1", "-3.10"), ("abc", None), ("", None)]


def _literal(value: str | None) -> str:
    return "null" if value is None else "'" + value.replace("'", "''") + "'"


def _cases_sql() -> str:
    """One query returning (kind, case index, output) for every case of every macro."""
    parts = []

    def add(kind: str, cases: list, expression: str, columns: str) -> None:
        rows = ", ".join(
            f"({i}, {', '.join(_literal(v) for v in case[:-1])})" for i, case in enumerate(cases)
        )
        parts.append(
            f"select '{kind}' as kind, i, cast({expression} as varchar) as output "
            f"from (values {rows}) as cases(i, {columns})"
        )

    add("clean", CLEAN, "{{ cdp_clean_text('value') }}", "value")
    add("email", EMAIL, "{{ cdp_normalize_email('value') }}", "value")
    add("canonical", CANONICAL, "{{ cdp_canonical_email(cdp_normalize_email('value')) }}", "value")
    add("phone", PHONE, "{{ cdp_e164(cdp_phone_dialable('value'), 'country') }}", "value, country")
    add("name", NAME, "{{ cdp_normalize_name('value') }}", "value")
    add("timestamp", TIMESTAMP, "{{ cdp_try_timestamp('value') }}", "value")
    add("decimal", DECIMAL, "{{ cdp_try_decimal('value') }}", "value")
    return "\nunion all\n".join(parts)


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, int], str | None]:
    warehouse = tmp_path_factory.mktemp("macros") / "macros.duckdb"
    sql = compile_inline(_cases_sql(), warehouse)
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")  # as the dbt profile does
    return {(kind, i): output for kind, i, output in con.execute(sql).fetchall()}


def _check(outputs, kind: str, cases: list, index: int) -> None:
    *inputs, expected = cases[index]
    assert outputs[(kind, index)] == expected, f"{kind}{tuple(inputs)}"


@pytest.mark.parametrize("index", range(len(CLEAN)), ids=[repr(c[0]) for c in CLEAN])
def test_clean_text(outputs, index: int) -> None:
    _check(outputs, "clean", CLEAN, index)


def test_placeholders_are_matched_literally(tmp_path: Path) -> None:
    """Regex characters in a configured placeholder match only themselves: 'n.a' is a
    placeholder, 'nxa' is not. Configured values match in any case, as in
    cdp.privacy.normalize, which erasure matching relies on."""
    values = ["n.a", "nxa", " (NONE) ", "none", "a|b", "a"]
    rows = ", ".join(f"({i}, {_literal(v)})" for i, v in enumerate(values))
    sql = compile_inline(
        f"select i, {{{{ cdp_clean_text('value') }}}} from (values {rows}) as cases(i, value) order by i",
        tmp_path / "x.duckdb",
        dbt_vars={"cdp_placeholder_text": ["n.a", "(None)", "a|b"]},
    )
    cleaned = [value for _, value in duckdb.connect().execute(sql).fetchall()]
    assert cleaned == [None, "nxa", None, "none", None, "a"]


@pytest.mark.parametrize("index", range(len(EMAIL)), ids=[repr(c[0]) for c in EMAIL])
def test_normalize_email(outputs, index: int) -> None:
    _check(outputs, "email", EMAIL, index)


@pytest.mark.parametrize("index", range(len(CANONICAL)), ids=[repr(c[0]) for c in CANONICAL])
def test_canonical_email(outputs, index: int) -> None:
    _check(outputs, "canonical", CANONICAL, index)


@pytest.mark.parametrize("index", range(len(PHONE)), ids=[f"{c[0]!r}-{c[1]}" for c in PHONE])
def test_phone_to_e164(outputs, index: int) -> None:
    _check(outputs, "phone", PHONE, index)


@pytest.mark.parametrize("index", range(len(NAME)), ids=[repr(c[0]) for c in NAME])
def test_normalize_name(outputs, index: int) -> None:
    _check(outputs, "name", NAME, index)


@pytest.mark.parametrize("index", range(len(TIMESTAMP)), ids=[repr(c[0]) for c in TIMESTAMP])
def test_try_timestamp(outputs, index: int) -> None:
    _check(outputs, "timestamp", TIMESTAMP, index)


@pytest.mark.parametrize("index", range(len(DECIMAL)), ids=[repr(c[0]) for c in DECIMAL])
def test_try_decimal(outputs, index: int) -> None:
    _check(outputs, "decimal", DECIMAL, index)


def test_macro_queries_compile_for_the_project(tmp_path: Path) -> None:
    """The phone rule set renders one branch per configured country."""
    sql = compile_inline("select {{ cdp_e164('d', 'c') }}", tmp_path / "x.duckdb")
    for country in ("'US'", "'GB'", "'DE'", "'FR'", "'NL'", "'ES'"):
        assert f"= {country}" in sql


def test_customer_digest_tells_inputs_and_rules_apart(tmp_path: Path) -> None:
    """cdp_customer_digest (incremental by customer): a value moved to another column, an
    extra row, '' instead of null and other rules each change a customer's digest; the same
    rows in another order do not."""
    digests = """
        with input_rows (customer_id, a, b) as (
            values ('swapped', 'x', null), ('swapped', null, 'x'), ('one', 'x', null),
            ('blank', '', null), ('twice', 'x', null), ('twice', 'x', null),
            ('reordered', null, 'x'), ('reordered', 'x', null)
        )
        select
            customer_id,
            {{ cdp_customer_digest(['a', 'b'], rules='threshold=3') }} as digest,
            {{ cdp_customer_digest(['a', 'b'], rules='threshold=4') }} as other_rules
        from input_rows
        group by customer_id
    """
    with duckdb.connect() as con:
        compiled = compile_inline(digests, tmp_path / "x.duckdb")
        rows = {row[0]: row[1:] for row in con.execute(compiled).fetchall()}
    assert rows["swapped"][0] == rows["reordered"][0]
    assert len({rows[c][0] for c in ("swapped", "one", "blank", "twice")}) == 4
    assert all(digest != other_rules for digest, other_rules in rows.values())


def test_hash_int_spans_40_bits(tmp_path: Path) -> None:
    """Row hashes are below 2^40, so the per-customer sums fit a bigint on every engine."""
    row_hashes = "select {{ cdp_hash_int(['i', 'i * 2']) }} as h from range(100000) as t (i)"
    hashes = f"select min(h), max(h) from ({row_hashes})"
    with duckdb.connect() as con:
        low, high = con.execute(compile_inline(hashes, tmp_path / "x.duckdb")).fetchone()
    assert 0 <= low < 2**20 and 2**39 < high < 2**40


def test_record_key_is_a_stable_non_negative_bigint_per_record(tmp_path: Path) -> None:
    """cdp_record_key: the same record gives the same key in every build (md5, not the
    engine's hash(), which an upgrade may change; the value is pinned), keys fit a signed
    bigint, and 200,000 records of two sources get 200,000 keys."""
    keys = """
        select {{ cdp_record_key('source_table', 'record_id') }} as record_key
        from (
            select s.source_table, cast(i as varchar) as record_id
            from range(100000) as t (i)
            cross join (values ('crm_contacts'), ('shop_customers')) as s (source_table)
        ) as records
    """
    pinned = "select {{ cdp_record_key(\"'crm_contacts'\", \"'c1'\") }}"
    with duckdb.connect() as con:
        compiled = compile_inline(keys, tmp_path / "x.duckdb")
        summary = (
            "select typeof(any_value(record_key)), min(record_key), count(distinct record_key)"
            f" from ({compiled})"
        )
        key_type, lowest, distinct = con.execute(summary).fetchone()
        (value,) = con.execute(compile_inline(pinned, tmp_path / "x.duckdb")).fetchone()
    assert key_type == "BIGINT" and lowest >= 0 and distinct == 200_000
    assert value == 391944024918766249
