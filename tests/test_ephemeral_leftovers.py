"""Tables no model owns any more: a model made ephemeral leaves its old table behind, and
dbt-duckdb leaves the staged rows of each incremental Python model's build in a
<model>__dbt_tmp<timestamp> table. Every dbt run drops both, so no stale rows (and no personal
data an erasure's rebuild cannot reach) stay in the warehouse."""

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


def test_rows_staged_for_a_python_model_and_left_behind_are_dropped_by_the_next_run(built: Project) -> None:
    # As dbt-duckdb leaves them, in the default schema; a run killed before its end leaves them too.
    leftover = "main.int_identity__probabilistic_pairs__dbt_tmp20261204120459304937"
    alike = "main.int_identity__probabilistic_pairs__dbt_tmp_notes"  # not dbt's name: no timestamp
    with duckdb.connect(str(built.warehouse)) as con:
        con.execute(f"create table {leftover} as select 'crm_contacts' as left_source_table")
        con.execute(f"create table {alike} as select 1 as kept")

    result = run_dbt(built, ["run", "--select", "customer_prediction_params"], quiet=True)

    assert result.ok, dict(result.statuses)
    with duckdb.connect(str(built.warehouse), read_only=True) as con:
        assert not table_exists(con, leftover)
        assert table_exists(con, alike)
        assert table_exists(con, "identity.int_identity__probabilistic_pairs__scored_records")
