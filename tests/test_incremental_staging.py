"""Incremental staging: a build after new raw files types only those rows, yet its base, stg and
quarantine models equal a full rebuild's; rows deleted from a raw table stop the build."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from cdp.dbt_runner import DbtResult, run_dbt
from cdp.load import load_landing
from cdp.project import Project
from cdp.source_config import raw_tables

from .conftest import Deliveries
from .test_quality import copy_of, execute

STAGING_MODELS = [
    (stage, f"{stage}_{name}")
    for stage in ("base", "stg", "quarantine")
    for name in (
        "crm__contacts",
        "shop__customers",
        "shop__orders",
        "shop__order_lines",
        "web__events",
        "support__tickets",
        "email__engagement",
        "consent__records",
    )
]


def build_staging(project: Project, *flags: str) -> None:
    args = ["build", "--select", "staging", "--indirect-selection", "cautious", *flags]
    result = run_dbt(project, args, quiet=True)
    assert result.ok, f"dbt build of staging failed: {dict(result.statuses)}"


@pytest.fixture(scope="module")
def warehouses(
    deliveries: Deliveries, project_root: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Project, Project]:
    """(incremental, full): one built after each delivery, one built once after both."""
    folder = tmp_path_factory.mktemp("incremental-staging")
    incremental = Project(project_root, folder / "incremental.duckdb")
    full = Project(project_root, folder / "full.duckdb")
    tables = raw_tables(project_root)
    load_landing(deliveries.first, incremental.warehouse, tables)
    build_staging(incremental)
    load_landing(deliveries.second, incremental.warehouse, tables)
    build_staging(incremental)
    load_landing(deliveries.first, full.warehouse, tables)
    load_landing(deliveries.second, full.warehouse, tables)
    build_staging(full, "--full-refresh")
    return incremental, full


def rows(project: Project, model: str) -> list[tuple]:
    """Every row but its load and typing times (the two warehouses loaded the files and built
    at different times)."""
    with duckdb.connect(str(project.warehouse), read_only=True) as con:
        return con.execute(
            f"select columns(lambda c: c not in ('_loaded_at', '_typed_at')) from staging.{model}"
            " order by _source_file, _source_row"
        ).fetchall()


@pytest.mark.parametrize(("stage", "model"), STAGING_MODELS, ids=[m for _, m in STAGING_MODELS])
def test_incremental_build_equals_full_rebuild(warehouses, stage: str, model: str) -> None:
    incremental, full = warehouses
    expected = rows(full, model)
    assert expected, f"{model} is empty: the comparison would prove nothing"
    assert rows(incremental, model) == expected


def test_the_second_delivery_changed_verdicts_of_rows_already_staged(warehouses) -> None:
    """The cases incremental staging must get right did occur: rows staged after the first
    delivery were superseded or duplicated by the second, and order lines waiting for their
    order were released when it landed."""
    incremental, _ = warehouses
    with duckdb.connect(str(incremental.warehouse), read_only=True) as con:
        redelivered = con.execute("""
            select key_kind, count(distinct key)
            from (
                select 'superseded' as key_kind, contact_id as key, _quarantine_reason, _source_file
                from staging.quarantine_crm__contacts
                union all
                select 'duplicate', customer_id, _quarantine_reason, _source_file
                from staging.quarantine_shop__customers
            ) as quarantined
            where _source_file not like '%later-%' and _quarantine_reason like key_kind || '%'
                and key in (
                    select contact_id from staging.stg_crm__contacts
                    where _source_file like '%later-redelivery%'
                    union all
                    select customer_id from staging.stg_shop__customers
                    where _source_file like '%later-redelivery%'
                )
            group by 1 order by 1""").fetchall()
        released = con.execute("""
            select count(*) from staging.stg_shop__order_lines as line
            where line._source_file not like '%later-%' and line.order_id not in (
                select order_id from staging.base_shop__orders where _source_file not like '%later-%'
            )""").fetchone()[0]
        staged_again = con.execute("""
            select
                (select count(*) from staging.stg_shop__customers
                    where _source_file like '%later-redelivery%'),
                (select count(*) from staging.stg_crm__contacts
                    where _source_file like '%later-redelivery%' and city = 'Redelivered')""").fetchone()
    assert min(staged_again) >= 15  # of the 20 rows: the ones valid and not themselves duplicates
    assert redelivered == [("duplicate", staged_again[0]), ("superseded", staged_again[1])]
    assert released > 0


def test_a_build_stamps_the_rows_it_typed(warehouses) -> None:
    """_typed_at tells downstream models what changed: the second build stamped every row of
    the second delivery and every earlier row of the keys it touched, and no other row."""
    incremental, _ = warehouses
    with duckdb.connect(str(incremental.warehouse), read_only=True) as con:
        builds, unstamped_new_rows, wrongly_stamped_old_rows, retyped_old_rows = con.execute("""
            with contacts as (select * from staging.base_crm__contacts),
            later_keys as (select contact_id from contacts where _source_file like '%later-%')
            select
                count(distinct _typed_at),
                count(*) filter (where _source_file like '%later-%'
                    and _typed_at < (select max(_typed_at) from contacts)),
                count(*) filter (where _source_file not like '%later-%' and contact_id is not null
                    and (_typed_at = (select max(_typed_at) from contacts))
                        <> (contact_id in (select contact_id from later_keys))),
                count(*) filter (where _source_file not like '%later-%'
                    and _typed_at = (select max(_typed_at) from contacts))
            from contacts""").fetchone()
    assert (builds, unstamped_new_rows, wrongly_stamped_old_rows) == (2, 0, 0)
    assert retyped_old_rows > 0


def build_tickets_after(incremental: Project, tmp_path: Path, change: str) -> tuple[Project, DbtResult]:
    """A copy of the incremental warehouse with ``change`` (SQL) applied, and the result of an
    incremental build of base_support__tickets on it."""
    copy = copy_of(incremental, tmp_path)
    execute(copy, change)
    return copy, run_dbt(copy, ["build", "--select", "base_support__tickets"], capture=True)


def test_rows_deleted_from_a_raw_table_stop_the_build_with_the_fix(warehouses, tmp_path: Path) -> None:
    incremental, _ = warehouses
    copy, result = build_tickets_after(
        incremental, tmp_path, "delete from raw.support_tickets where _source_row < 5"
    )
    assert not result.ok
    assert "staging.base_support__tickets holds 422 rows" in result.output
    assert "raw.support_tickets has 412 rows" in result.output
    assert "raw rows were deleted" in result.output
    assert "dbt build --full-refresh --select base_support__tickets+" in result.output
    build_staging(copy, "--full-refresh")
    assert rows(copy, "base_support__tickets") != rows(incremental, "base_support__tickets")


def test_a_base_model_whose_columns_changed_needs_a_full_refresh(warehouses, tmp_path: Path) -> None:
    """Every row is typed by the model's current SQL: a table built by an older version (here,
    one column short) is not topped up with rows of another shape."""
    incremental, _ = warehouses
    copy, result = build_tickets_after(
        incremental,
        tmp_path,
        "alter table staging.base_support__tickets drop column requester_email_canonical",
    )
    assert not result.ok
    assert "schemas on this incremental model are out of sync" in result.output
    build_staging(copy, "--full-refresh")
    assert rows(copy, "base_support__tickets") == rows(incremental, "base_support__tickets")
