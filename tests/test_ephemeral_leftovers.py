"""A model made ephemeral leaves its old table behind; every dbt run drops it, so no stale
rows (and no personal data an erasure's rebuild cannot reach) stay in the warehouse."""

from __future__ import annotations

import duckdb

from cdp.dbt_runner import run_dbt
from cdp.project import Project
from cdp.warehouse import table_exists

LEFTOVER = "customer.int_customer__attribute_candidates"  # a table before it became ephemeral


def test_a_table_left_by_a_model_now_ephemeral_is_dropped_by_the_next_run(built: Project) -> None:
    with duckdb.connect(str(built.warehouse)) as con:
        con.execute(f"create table {LEFTOVER} as select 'ann@example.com' as email")

    result = run_dbt(built, ["run", "--select", "customer_prediction_params"], quiet=True)

    assert result.ok, dict(result.statuses)
    with duckdb.connect(str(built.warehouse), read_only=True) as con:
        assert not table_exists(con, LEFTOVER)
        assert table_exists(con, "customer.customer_prediction_params")  # other tables stay
