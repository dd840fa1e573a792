"""The bi schema on the built sample warehouse: no plaintext email or phone anywhere in it,
hashes equal to Python's, the same rows and the same non-PII values as the marts, and on
PostgreSQL select for the var cdp_bi_readers roles on the bi views and nothing else."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import duckdb
import psycopg
import pytest
from psycopg import sql

from cdp.dbt_runner import run_dbt
from cdp.project import Project, postgres_settings

from .conftest import PROJECT_ROOT, postgres_or_skip

# bi view -> (schema, mart) it masks.
BI_VIEWS = {
    "customer_360": ("customer", "customer_360"),
    "customer_rfm": ("customer", "customer_rfm"),
    "customer_predictions": ("customer", "customer_predictions"),
    "customer_events": ("customer", "customer_events"),
    "segment_membership": ("segments", "segment_membership"),
    "segment_membership_history": ("segments", "segment_membership_history"),
}
# customer_360's PII columns and what the bi view has instead; every other column passes through.
DROPPED = {
    "first_name",
    "last_name",
    "full_name",
    "email",
    "phone_e164",
    "street_address",
    "postcode",
    "date_of_birth",
}
# Bookkeeping of incremental builds, not for BI (models/marts/bi/bi_customer_events.sql).
BOOKKEEPING = {
    "customer_360": {"rules_digest", "_built_at"},
    "customer_events": {"rules_digest", "_built_at"},
}
ADDED = {
    "email_sha256",
    "email_domain",
    "phone_sha256",
    "phone_calling_code",
    "postcode_prefix",
    "birth_year",
}


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@pytest.fixture(scope="module")
def con(built: Project) -> Iterator[duckdb.DuckDBPyConnection]:
    with duckdb.connect(str(built.warehouse), read_only=True) as connection:
        yield connection


def columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> dict[str, str]:
    rows = con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position",
        [schema, table],
    ).fetchall()
    return dict(rows)


def plaintext_pii_hits(con: duckdb.DuckDBPyConnection, schema: str) -> list[tuple[str, str, str]]:
    """(view, column, value) for every value of every varchar column of every relation in
    ``schema`` that equals or contains an email or phone of customer.customer_360."""
    con.execute(
        "create or replace temp table pii as "
        "select distinct email as value from customer.customer_360 where email is not null "
        "union select distinct phone_e164 from customer.customer_360 where phone_e164 is not null"
    )
    hits = []
    relations = con.execute(
        "select table_name from information_schema.tables where table_schema = ? order by 1", [schema]
    ).fetchall()
    for (relation,) in relations:
        for column, data_type in columns(con, schema, relation).items():
            if data_type != "VARCHAR":
                continue
            # Equal to a PII value, or containing one (an email has an @, a phone a +).
            found = con.execute(
                f'select distinct candidates."{column}" from "{schema}"."{relation}" as candidates '
                f'inner join pii on candidates."{column}" = pii.value '
                f"or ((candidates.\"{column}\" like '%@%' or candidates.\"{column}\" like '%+%') "
                f'and contains(candidates."{column}", pii.value)) '
                "limit 5"
            ).fetchall()
            hits += [(relation, column, value) for (value,) in found]
    return hits


def test_bi_schema_holds_exactly_the_six_views(con) -> None:
    relations = con.execute(
        "select table_name, table_type from information_schema.tables where table_schema = 'bi'"
    ).fetchall()
    assert dict(relations) == dict.fromkeys(BI_VIEWS, "VIEW")


def test_no_bi_view_holds_a_plaintext_email_or_phone(con) -> None:
    hits = plaintext_pii_hits(con, "bi")
    assert con.execute("select count(*) from pii").fetchone()[0] > 1000  # the scan had values to look for
    assert hits == []


def test_the_pii_scan_finds_a_leak(tmp_path: Path) -> None:
    """The scan above would see a leak: a view passing an email through, one hiding a phone in
    a longer text, and none in a clean one."""
    with duckdb.connect(str(tmp_path / "leaky.duckdb")) as leaky:
        leaky.execute("create schema customer; create schema bi")
        leaky.execute(
            "create table customer.customer_360 as select * from (values "
            "('cus_1', 'ann.lee1@example.com', '+14155552671'), ('cus_2', null, '+447700900123')) "
            "as t(customer_id, email, phone_e164)"
        )
        leaky.execute("create view bi.emails as select customer_id, email from customer.customer_360")
        leaky.execute(
            "create view bi.notes as select customer_id, 'call ' || phone_e164 || ' today' as note "
            "from customer.customer_360"
        )
        leaky.execute(
            "create view bi.clean as select customer_id, sha256(email) as h from customer.customer_360"
        )
        hits = plaintext_pii_hits(leaky, "bi")
    assert sorted(hits) == [
        ("emails", "email", "ann.lee1@example.com"),
        ("notes", "note", "call +14155552671 today"),
        ("notes", "note", "call +447700900123 today"),
    ]


def test_hashes_and_masked_values_equal_pythons(con) -> None:
    marts = con.execute(
        "select customer_id, email, phone_e164, postcode, date_of_birth from customer.customer_360"
    ).fetchall()
    bi = {
        row[0]: row[1:]
        for row in con.execute(
            "select customer_id, email_sha256, email_domain, phone_sha256, postcode_prefix, birth_year "
            "from bi.customer_360"
        ).fetchall()
    }
    assert sum(email is not None for _, email, *_ in marts) > 500
    for customer_id, email, phone, postcode, date_of_birth in marts:
        expected = (
            sha256(email.strip().lower()) if email else None,
            email.split("@")[-1] if email else None,
            sha256(phone) if phone else None,
            postcode.replace(" ", "").upper()[:3] if postcode else None,
            date_of_birth.year if date_of_birth else None,
        )
        assert bi[customer_id] == expected, customer_id


def test_phone_calling_code_is_the_start_of_the_e164_number(con) -> None:
    rows = con.execute(
        "select mart.phone_e164, bi.phone_calling_code from customer.customer_360 as mart "
        "inner join bi.customer_360 as bi using (customer_id) where mart.phone_e164 is not null"
    ).fetchall()
    assert rows
    for phone, code in rows:
        assert code is not None and phone.startswith("+" + code), phone


@pytest.mark.parametrize("view", BI_VIEWS)
def test_bi_view_has_the_marts_rows_and_non_pii_values(con, view: str) -> None:
    schema, mart = BI_VIEWS[view]
    mart_columns, bi_columns = columns(con, schema, mart), columns(con, "bi", view)
    masked = view == "customer_360"
    left_out = (DROPPED if masked else set()) | BOOKKEEPING.get(view, set())
    assert set(mart_columns) - set(bi_columns) == left_out
    assert set(bi_columns) - set(mart_columns) == (ADDED if masked else set())
    shared = [column for column in mart_columns if column in bi_columns]
    assert {c: bi_columns[c] for c in shared} == {c: mart_columns[c] for c in shared}  # same types
    if masked:
        assert {"customer_id", "total_revenue", "order_count", "consent_email_marketing"} <= set(shared)

    count = f'select count(*) from "{schema}"."{mart}"'
    assert con.execute(f'select count(*) from "bi"."{view}"').fetchone() == con.execute(count).fetchone()
    assert con.execute(count).fetchone()[0] > 0
    listed = ", ".join(f'"{c}"' for c in shared)
    for left, right in (
        (f'"{schema}"."{mart}"', f'"bi"."{view}"'),
        (f'"bi"."{view}"', f'"{schema}"."{mart}"'),
    ):
        differing = con.execute(
            f"select {listed} from {left} except all select {listed} from {right}"
        ).fetchall()
        assert differing == [], f"{left} rows not in {right}"


def test_total_revenue_is_the_marts(con) -> None:
    totals = con.execute(
        "select (select sum(total_revenue) from customer.customer_360), "
        "(select sum(total_revenue) from bi.customer_360)"
    ).fetchone()
    assert totals[0] > 0 and totals[0] == totals[1]


def _parse_manifest(tmp_path: Path, *extra: str) -> dict:
    target = tmp_path / "target"
    result = run_dbt(
        Project(PROJECT_ROOT, tmp_path / "unused.duckdb"),
        ["--quiet", "parse", "--target-path", str(target), *extra],
        capture=True,
    )
    assert result.ok, result.output
    return json.loads((target / "manifest.json").read_text())


def test_bi_models_grant_select_to_the_var_cdp_bi_readers(tmp_path: Path) -> None:
    bi_nodes = lambda manifest: {  # noqa: E731
        node["alias"]: node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["schema"] == "bi"
    }
    default = bi_nodes(_parse_manifest(tmp_path / "default"))
    assert set(default) == set(BI_VIEWS)
    assert all(node["config"]["grants"] == {} for node in default.values())  # nothing to grant
    assert all(node["config"]["materialized"] == "view" for node in default.values())
    assert all(node["config"]["contract"]["enforced"] for node in default.values())

    readers = bi_nodes(
        _parse_manifest(tmp_path / "readers", "--vars", "{cdp_bi_readers: [bi_reader, analyst]}")
    )
    assert {alias: node["config"]["grants"] for alias, node in readers.items()} == {
        alias: {"select": ["bi_reader", "analyst"]} for alias in BI_VIEWS
    }


@pytest.fixture
def pg_database() -> Iterator[tuple[str, str]]:
    """A scratch database and a login-less role on the test PostgreSQL, dropped afterwards."""
    admin = postgres_or_skip("the bi views and their grants are NOT tested on PostgreSQL")
    suffix = uuid.uuid4().hex[:8]
    database, role = f"cdp_bi_{suffix}", f"cdp_bi_reader_{suffix}"
    admin.execute(sql.SQL("create database {}").format(sql.Identifier(database)))
    admin.execute(sql.SQL("create role {} nologin").format(sql.Identifier(role)))
    try:
        yield database, role
    finally:
        admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(database)))
        admin.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(role)))
        admin.close()


PG_TYPES = {"VARCHAR": "varchar", "INTEGER": "integer", "BIGINT": "bigint", "DOUBLE": "double precision"}


def _copy_to_postgres(
    con: duckdb.DuckDBPyConnection, pg: psycopg.Connection, schema: str, table: str
) -> None:
    """The DuckDB relation as a PostgreSQL table of the same column types, rows included."""
    typed = columns(con, schema, table)
    pg.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(schema)))
    pg.execute(
        sql.SQL("create table {}.{} ({})").format(
            sql.Identifier(schema),
            sql.Identifier(table),
            sql.SQL(", ").join(
                sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(PG_TYPES.get(kind, kind.lower())))
                for name, kind in typed.items()
            ),
        )
    )
    rows = con.execute(f'select * from "{schema}"."{table}"').fetchall()
    with pg.cursor().copy(
        sql.SQL("copy {}.{} from stdin").format(sql.Identifier(schema), sql.Identifier(table))
    ) as copy:
        for row in rows:
            copy.write_row(row)


def test_bi_views_and_grants_on_postgres(con, pg_database: tuple[str, str], tmp_path: Path) -> None:
    """dbt builds the bi views on PostgreSQL over copies of the marts: the role in
    cdp_bi_readers can read bi.customer_360 but not customer.customer_360, and the hashes are
    DuckDB's."""
    database, role = pg_database
    settings = {**postgres_settings(), "dbname": database}
    with psycopg.connect(**settings, autocommit=True) as pg:
        for schema, mart in BI_VIEWS.values():
            _copy_to_postgres(con, pg, schema, mart)

    result = run_dbt(
        Project(PROJECT_ROOT, tmp_path / "unused.duckdb"),
        [
            "build",
            "--select",
            "path:models/marts/bi",
            "--target-path",
            str(tmp_path / "target"),
            "--vars",
            json.dumps({"cdp_bi_readers": [role]}),
        ],
        capture=True,
        env={"CDP_TARGET": "postgres", "CDP_PG_DATABASE": database},
    )
    assert result.ok, result.output

    with psycopg.connect(**settings, autocommit=True) as pg:
        for view in BI_VIEWS:
            assert pg.execute(
                "select has_table_privilege(%s, %s, 'select')", [role, f"bi.{view}"]
            ).fetchone() == (True,)
        assert pg.execute("select has_schema_privilege(%s, 'bi', 'usage')", [role]).fetchone() == (True,)
        assert pg.execute(
            "select has_table_privilege(%s, 'customer.customer_360', 'select')", [role]
        ).fetchone() == (False,)

        pg.execute(sql.SQL("set role {}").format(sql.Identifier(role)))
        on_postgres = dict(pg.execute("select customer_id, email_sha256 from bi.customer_360").fetchall())
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            pg.execute("select email from customer.customer_360")
    on_duckdb = dict(con.execute("select customer_id, email_sha256 from bi.customer_360").fetchall())
    assert on_postgres == on_duckdb
