"""Data tests scoped to the rows built (or, in staging, typed) since they last passed
(macros/tests/rows_built_since_last_pass.sql): a key test checks the keys of new rows
against every row, a row test checks new rows, a failed test checks the same rows again,
and --vars cdp_data_tests_check_all_rows checks every row."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cdp.dbt_runner import run_dbt
from cdp.project import Project

from .conftest import PROJECT_ROOT
from .test_quality import copy_of, execute, fetch

TOKENS = (
    "__rows_built_since_last_pass__",
    "__rows_typed_since_last_pass__",
    "__rows_clustered_since_last_pass__",
)
PASSES = "main.cdp_data_test_passes"
EVENTS = "customer.customer_events"
UNIQUE_EVENT_KEY = "unique_customer_events_event_key"
NOT_NULL_STAGE = "not_null_customer_events_journey_stage"
UNIQUE_WEB_EVENT = "unique_stg_web__events_event_id"
CHECK_ALL_ROWS = ["--vars", json.dumps({"cdp_data_tests_check_all_rows": True})]


@pytest.fixture
def project(built: Project, tmp_path: Path) -> Project:
    return copy_of(built, tmp_path)


def scoped_tests() -> set[str]:
    """Unique ids of the tests configured with a token (from the last dbt invocation's manifest)."""
    manifest = json.loads((PROJECT_ROOT / "target" / "manifest.json").read_text())
    return {
        node["unique_id"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "test"
        and any(token in (node["config"].get("where") or "") for token in TOKENS)
    }


def outcomes(
    project: Project, test_name: str, *args: str, model: str = "customer_events"
) -> dict[str, tuple[str, int]]:
    """dbt test of `model`'s test `test_name`: {unique_id: (status, failures)}."""
    run_dbt(project, ["test", "--select", f"{model},test_name:{test_name}", *args], quiet=True)
    results = json.loads((PROJECT_ROOT / "target" / "run_results.json").read_text())["results"]
    return {result["unique_id"]: (result["status"], result["failures"]) for result in results}


def only(results: dict[str, tuple[str, int]], name: str) -> tuple[str, int]:
    (found,) = [outcome for unique_id, outcome in results.items() if unique_id.split(".")[2] == name]
    return found


def insert_copy_of_event(project: Project, rank: int, stamp: str, **replaced: str) -> None:
    """Stores again the event ranked `rank` by key, with _built_at `stamp` ('stored': as it
    is) and the columns in `replaced` set to SQL expressions."""
    columns = {"_built_at": stamp, **replaced} if stamp != "stored" else replaced
    replace = (
        f"replace ({', '.join(f'{value} as {column}' for column, value in columns.items())})"
        if columns
        else ""
    )
    execute(
        project,
        f"""insert into {EVENTS}
        select * {replace} from {EVENTS}
        where event_key = (
            select distinct event_key from {EVENTS} order by event_key limit 1 offset {rank}
        )""",
    )


# A stamp after the newest recorded pass: the rows of a build that ran since.
NEWER = f"(select max(passed_run_started_at) + interval 1 second from {PASSES})"


def last_pass(project: Project, test_name: str) -> object:
    ((stamp,),) = fetch(
        project, f"select passed_run_started_at from {PASSES} where test_id like 'test.cdp.{test_name}.%'"
    )
    return stamp


def test_a_build_records_a_pass_of_every_scoped_test(built: Project) -> None:
    run_dbt(built, ["ls", "--resource-type", "test", "--quiet"], quiet=True)
    expected = scoped_tests()
    assert len(expected) > 90, "the incremental models' and staging's tests are no longer scoped"
    passes = fetch(built, f"select test_id, count(*) from {PASSES} group by test_id")
    assert dict(passes) == dict.fromkeys(expected, 1)


def test_a_scoped_key_test_checks_the_keys_of_new_rows_against_every_row(project: Project) -> None:
    # A duplicate stored before the last pass is not looked at again...
    insert_copy_of_event(project, 0, "stored")
    assert only(outcomes(project, "unique"), UNIQUE_EVENT_KEY) == ("pass", 0)
    # ...unless every row is asked for.
    assert only(outcomes(project, "unique", *CHECK_ALL_ROWS), UNIQUE_EVENT_KEY) == ("fail", 1)
    # A new row repeating the key of an old one is found; the older duplicate still is not.
    insert_copy_of_event(project, 1, NEWER)
    assert only(outcomes(project, "unique"), UNIQUE_EVENT_KEY) == ("fail", 1)
    assert only(outcomes(project, "unique", *CHECK_ALL_ROWS), UNIQUE_EVENT_KEY) == ("fail", 2)


def test_a_scoped_row_test_checks_the_rows_built_since_its_last_pass(project: Project) -> None:
    insert_copy_of_event(project, 0, "stored", journey_stage="null", event_key="'old:1'")
    insert_copy_of_event(project, 1, NEWER, journey_stage="null", event_key="'new:1'")
    built_pass = last_pass(project, NOT_NULL_STAGE)
    assert only(outcomes(project, "not_null"), NOT_NULL_STAGE) == ("fail", 1)
    # A failed test records no pass: the next run checks the same rows again.
    assert only(outcomes(project, "not_null"), NOT_NULL_STAGE) == ("fail", 1)
    assert last_pass(project, NOT_NULL_STAGE) == built_pass
    assert only(outcomes(project, "not_null", *CHECK_ALL_ROWS), NOT_NULL_STAGE) == ("fail", 2)
    execute(project, f"delete from {EVENTS} where event_key = 'new:1'")
    assert only(outcomes(project, "not_null"), NOT_NULL_STAGE) == ("pass", 0)
    # The pass is recorded (one row per test): rows built after it are checked, not before.
    assert last_pass(project, NOT_NULL_STAGE) > built_pass
    insert_copy_of_event(project, 2, NEWER, journey_stage="null", event_key="'new:2'")
    assert only(outcomes(project, "not_null"), NOT_NULL_STAGE) == ("fail", 1)


def test_staging_tests_are_scoped_by_the_typing_stamp(project: Project) -> None:
    """Staging views carry `_typed_at` (a build types new raw rows and every row of the keys
    they touch): their key tests check the keys typed since the last pass."""
    base, accepted = "staging.base_web__events", "_quarantine_reason is null"

    def type_again(rank: int, stamp: str) -> None:
        execute(
            project,
            f"""insert into {base} select * {stamp} from {base}
            where {accepted} and event_id = (select distinct event_id from {base} where {accepted}
                order by event_id limit 1 offset {rank})""",
        )

    type_again(0, "")
    assert only(outcomes(project, "unique", model="stg_web__events"), UNIQUE_WEB_EVENT) == ("pass", 0)
    type_again(1, f"replace ({NEWER} as _typed_at)")
    assert only(outcomes(project, "unique", model="stg_web__events"), UNIQUE_WEB_EVENT) == ("fail", 1)
    checked_all = outcomes(project, "unique", *CHECK_ALL_ROWS, model="stg_web__events")
    assert only(checked_all, UNIQUE_WEB_EVENT) == ("fail", 2)


def test_component_tests_are_scoped_by_the_clustering_stamp(project: Project) -> None:
    """The connected-components tables stamp every row a run writes with `_clustered_at`:
    their key tests check the nodes clustered since the last pass against every row."""
    components, unique_node = "identity.int_identity__components", "unique_int_identity__components_node_key"

    def store_again(rank: int, stamp: str) -> None:
        execute(
            project,
            f"""insert into {components} select * {stamp} from {components}
            where node_key = (
                select distinct node_key from {components} order by node_key limit 1 offset {rank}
            )""",
        )

    store_again(0, "")
    model = "int_identity__components"
    assert only(outcomes(project, "unique", model=model), unique_node) == ("pass", 0)
    store_again(1, f"replace ({NEWER} as _clustered_at)")
    assert only(outcomes(project, "unique", model=model), unique_node) == ("fail", 1)
    assert only(outcomes(project, "unique", *CHECK_ALL_ROWS, model=model), unique_node) == ("fail", 2)


def test_the_cap_check_looks_at_the_customers_with_rows_written_since(project: Project) -> None:
    """cdp_customers_within_cap (a warning) is scoped like a key test, by customer: a customer
    over the cap is seen when one of its rows was written since the check last passed."""
    table, check = "identity.customer_identifiers", "cdp_customers_within_cap_customer_identifiers_"

    def over_the_cap(rank: int, stamp: str) -> None:
        """Gives the customer ranked `rank` 50 more email addresses."""
        execute(
            project,
            f"""insert into {table}
            select * exclude (i) replace ('email:extra' || i || '@example.com' as identifier_key{stamp})
            from {table}, range(50) as extra(i)
            where identifier_key = (
                select min(identifier_key) from {table}
                where identifier_type = 'email' and customer_id = (
                    select distinct customer_id from {table} where identifier_type = 'email'
                    order by customer_id limit 1 offset {rank}
                )
            )""",
        )

    model = "customer_identifiers"
    over_the_cap(0, "")
    assert only(outcomes(project, "cdp_customers_within_cap", model=model), check) == ("pass", 0)
    assert only(outcomes(project, "cdp_customers_within_cap", *CHECK_ALL_ROWS, model=model), check) == (
        "warn",
        1,
    )
    over_the_cap(1, f", {NEWER} as _built_at")
    assert only(outcomes(project, "cdp_customers_within_cap", model=model), check) == ("warn", 1)
    assert only(outcomes(project, "cdp_customers_within_cap", *CHECK_ALL_ROWS, model=model), check) == (
        "warn",
        2,
    )


def test_only_tests_of_rows_or_keys_can_be_scoped(tmp_path: Path) -> None:
    """A relationships test checks rows against another table: a parent losing rows orphans
    old children, so scoping it to new rows would miss them."""
    test = {"unique_id": "test.cdp.orphans", "test_metadata": {"name": "relationships", "kwargs": {}}}
    sql = f"{{{{ cdp_rows_built_since_last_pass(ref('customer_events'), {test!r}) }}}}"
    result = run_dbt(
        Project(PROJECT_ROOT, tmp_path / "cdp.duckdb"), ["--quiet", "compile", "--inline", sql], capture=True
    )
    assert not result.ok
    assert "test.cdp.orphans" in result.output and "not relationships" in result.output


def test_a_run_of_one_model_records_its_run(project: Project) -> None:
    """`dbt run -s` of a model in another schema than the run records': dbt opens a
    transaction to look the table up and rolls it back after the hooks, so the record was
    lost unless the hook commits (cdp_commit_hook_writes)."""
    runs = (
        "select run_started_at from main.cdp_model_runs"
        " where model_id = 'model.cdp.customer_prediction_params'"
    )
    before = fetch(project, runs)
    assert len(before) == 1

    result = run_dbt(project, ["run", "--select", "customer_prediction_params"], quiet=True)

    assert result.ok, dict(result.statuses)
    after = fetch(project, runs)
    assert len(after) == 1 and after[0][0] > before[0][0]
