"""Customer marts incremental by customer: after a second delivery, a build recomputes only
the customers whose inputs changed (customer_events, int_customer__golden_attributes,
customer_360), yet its rows equal a full rebuild's; a change of the rules rebuilds every
customer. Likewise the identity models incremental by record
(int_identity__record_identifiers, int_identity__record_nodes) and the verdicts written by
difference."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from cdp.dbt_runner import run_dbt
from cdp.load import load_landing
from cdp.project import Project
from cdp.source_config import raw_tables

from .conftest import PROJECT_ROOT, Deliveries
from .test_quality import copy_of, execute, fetch

MARTS = {  # model: (relation, row key, columns compared)
    "customer_events": ("customer.customer_events", "event_key", "* exclude (_built_at)"),
    "int_customer__golden_attributes": (
        "customer.int_customer__golden_attributes",
        "customer_id, attribute_name",
        "* exclude (_built_at)",
    ),
    "customer_360": ("customer.customer_360", "customer_id", "* exclude (_built_at)"),
    "int_customer__consent": ("customer.int_customer__consent", "customer_id", "* exclude (_built_at)"),
    "int_customer__orders": ("customer.int_customer__orders", "order_id", "* exclude (_built_at)"),
    "int_customer__purchase_summary": (
        "customer.int_customer__purchase_summary",
        "customer_id",
        "* exclude (_built_at)",
    ),
}
TAMPERED_COLUMNS = {  # model: a text column every stored row's mark goes in
    "customer_events": "journey_stage",
    "int_customer__golden_attributes": "survivorship_rule",
    "customer_360": "channels",
    "int_customer__consent": "email_marketing",
    "int_customer__orders": "currency",  # read by no model downstream
    "int_customer__purchase_summary": "time_unit",
}
# customer_identifiers too: an identity mart incremental by identifier (customer_360 reads it);
# and identity_edge_audit, incremental by record.
SELECTION = [
    "--select",
    " ".join(f"+{model}" for model in [*MARTS, "customer_identifiers", "identity_edge_audit"]),
    "--indirect-selection",
    "cautious",
]
TAMPERED = "tampered"


def build_marts(project: Project, *flags: str, command: str = "build") -> None:
    """dbt build (or run: no tests, for warehouses with tampered rows) of the marts."""
    result = run_dbt(project, [command, *SELECTION, *flags], quiet=True)
    assert result.ok, f"dbt build of the customer marts failed: {dict(result.statuses)}"


@pytest.fixture(scope="module")
def warehouses(
    deliveries: Deliveries, project_root: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Project, Project, Project]:
    """(first, incremental, full): built after the first delivery; a copy of it built again
    after the second; one built once after both."""
    folder = tmp_path_factory.mktemp("incremental-marts")
    tables = raw_tables(project_root)
    first = Project(project_root, folder / "first.duckdb")
    load_landing(deliveries.first, first.warehouse, tables)
    build_marts(first)
    (folder / "incremental").mkdir()
    incremental = copy_of(first, folder / "incremental")
    load_landing(deliveries.second, incremental.warehouse, tables)
    build_marts(incremental)
    full = Project(project_root, folder / "full.duckdb")
    load_landing(deliveries.first, full.warehouse, tables)
    load_landing(deliveries.second, full.warehouse, tables)
    build_marts(full, "--full-refresh")
    return first, incremental, full


def rows(project: Project, model: str, except_customers: set[str] = frozenset()) -> list[tuple]:
    relation, key, columns = MARTS[model]
    with duckdb.connect(str(project.warehouse), read_only=True) as con:
        return con.execute(
            f"select {columns} from {relation}"
            f" where not list_contains(?::varchar[], customer_id) order by {key}",
            [sorted(except_customers)],
        ).fetchall()


def customers(project: Project, model: str = "customer_events") -> set[str]:
    return {customer for (customer,) in fetch(project, f"select customer_id from {MARTS[model][0]}")}


def test_an_incremental_build_leaves_no_staged_rows_behind(warehouses) -> None:
    """dbt-duckdb stages an incremental Python model's rows (the Splink pairs, the Splink
    model, the prediction fit) in <model>__dbt_tmp<timestamp> and does not drop it; on-run-end
    does (macros/maintenance/python_model_leftovers.sql)."""
    _, incremental, _ = warehouses
    staged = fetch(
        incremental,
        "select schema_name || '.' || table_name from duckdb_tables() where table_name like '%__dbt_tmp%'",
    )
    assert staged == []


@pytest.mark.parametrize("model", MARTS)
def test_incremental_build_equals_full_rebuild(warehouses, model: str) -> None:
    _, incremental, full = warehouses
    expected = rows(full, model)
    assert expected, f"{model} is empty: the comparison would prove nothing"
    assert rows(incremental, model) == expected


def test_the_second_delivery_merged_customers_and_added_new_ones(warehouses) -> None:
    """The cases replace_customers must get right did occur: customers of the first build
    that the second merged away (their rows must go), and new ones."""
    first, incremental, _ = warehouses
    before, after = customers(first), customers(incremental)
    assert before - after, "no customer was merged away"
    assert after - before, "no customer was added"


def _tamper(project: Project) -> None:
    """Marks every stored row: a build that recomputes a customer replaces its marks."""
    for model, column in TAMPERED_COLUMNS.items():
        execute(project, f"update {MARTS[model][0]} set {column} = '{TAMPERED}'")


def _tampered_customers(project: Project) -> dict[str, set[str]]:
    return {
        model: {
            customer
            for (customer,) in fetch(
                project, f"select distinct customer_id from {MARTS[model][0]} where {column} = '{TAMPERED}'"
            )
        }
        for model, column in TAMPERED_COLUMNS.items()
    }


def test_an_incremental_build_recomputes_only_the_customers_whose_inputs_changed(
    warehouses, deliveries: Deliveries, project_root: Path, tmp_path: Path
) -> None:
    first, _, full = warehouses
    project = copy_of(first, tmp_path)
    _tamper(project)
    load_landing(deliveries.second, project.warehouse, raw_tables(project_root))
    build_marts(project, command="run")
    kept = _tampered_customers(project)
    for model in MARTS:
        # Customers the second delivery did not touch kept their stored rows...
        assert len(kept[model]) > len(customers(first, model)) / 2, model
        # ...and every other customer was recomputed: outside the kept ones, rows equal a full rebuild's.
        assert rows(project, model, kept[model]) == rows(full, model, kept[model]), model


def _customer_config_with(rule: str) -> dict:
    """The project's cdp_customer var with one rule changed."""
    config = yaml.safe_load((PROJECT_ROOT / "dbt_project.yml").read_text())["vars"]["cdp_customer"]
    if rule == "loyalty_order_threshold":
        config[rule] += 1
    elif rule == "reporting_currency":
        config[rule] = "EUR"
    elif rule == "consent_purposes":
        config[rule] = config[rule][::-1]
    elif rule == "as_of":
        config[rule] = "2030-01-01"
    else:
        config["survivorship"]["email"]["rule"] = "most_frequent"
    return config


@pytest.mark.parametrize(
    ("rule", "model"),
    [
        ("loyalty_order_threshold", "customer_events"),
        ("survivorship", "int_customer__golden_attributes"),
        ("reporting_currency", "customer_360"),
        ("reporting_currency", "customer_events"),
        ("reporting_currency", "int_customer__orders"),
        # purchase_summary follows every customer int_customer__orders rewrote
        ("reporting_currency", "int_customer__purchase_summary"),
        ("as_of", "int_customer__purchase_summary"),
        ("consent_purposes", "int_customer__consent"),
    ],
)
def test_changed_rules_recompute_every_customer(warehouses, tmp_path: Path, rule: str, model: str) -> None:
    first, _, _ = warehouses
    project = copy_of(first, tmp_path)
    _tamper(project)
    build_marts(project, "--vars", json.dumps({"cdp_customer": _customer_config_with(rule)}), command="run")
    assert _tampered_customers(project)[model] == set()


@pytest.mark.parametrize(
    ("rule", "upstream"),
    [("loyalty_order_threshold", "customer_events"), ("survivorship", "int_customer__golden_attributes")],
)
def test_customer_360_follows_the_customers_its_inputs_recomputed(
    warehouses, tmp_path: Path, rule: str, upstream: str
) -> None:
    """A rule of customer_events or the golden record rewrites every customer of that
    model: customer_360 recomputes them all, and keeps only customers with no rows there."""
    first, _, _ = warehouses
    project = copy_of(first, tmp_path)
    _tamper(project)
    build_marts(project, "--vars", json.dumps({"cdp_customer": _customer_config_with(rule)}), command="run")
    tampered = _tampered_customers(project)
    assert tampered[upstream] == set()
    assert len(tampered["customer_360"]) < len(customers(first, "customer_360")) / 2
    assert tampered["customer_360"].isdisjoint(customers(project, upstream))


@pytest.mark.parametrize(
    ("seed_change", "model"),
    [
        (
            "update customer.currency_rates set rate_to_usd = rate_to_usd * 2 where currency = 'EUR'",
            "customer_events",
        ),
        (
            "update customer.journey_event_stages set pre_purchase_stage = 'consideration'"
            " where event_type = 'page_view'",
            "customer_events",
        ),
        (
            "insert into identity.identity_blocklist values"
            " ('email', 'exact', 'nobody@nowhere.example', 'a test placeholder')",
            "int_customer__golden_attributes",
        ),
        (
            "update customer.currency_rates set rate_to_usd = rate_to_usd * 2 where currency = 'EUR'",
            "customer_360",
        ),
        (
            "update customer.currency_rates set rate_to_usd = rate_to_usd * 2 where currency = 'EUR'",
            "int_customer__orders",
        ),
    ],
)
def test_a_changed_seed_recomputes_every_customer(
    warehouses, tmp_path: Path, seed_change: str, model: str
) -> None:
    """The marts find their customers from stamps, which a seed loaded again does not move:
    their rules_digest covers the seeds they read."""
    first, _, _ = warehouses
    project = copy_of(first, tmp_path)
    _tamper(project)
    execute(project, seed_change)
    build_marts(project, command="run")  # run: no seeding, the changed seed stays
    assert _tampered_customers(project)[model] == set()


def test_stored_digests_are_one_per_customer(warehouses) -> None:
    _, incremental, _ = warehouses
    with duckdb.connect(str(incremental.warehouse), read_only=True) as con:
        for relation, digest in (
            ("customer.customer_events", "rules_digest"),
            ("customer.int_customer__golden_attributes", "rules_digest"),
            ("customer.customer_360", "rules_digest"),
            ("customer.int_customer__consent", "rules_digest"),
            ("customer.int_customer__orders", "rules_digest"),
            ("customer.int_customer__purchase_summary", "rules_digest"),
        ):
            per_customer = con.execute(
                f"select count(distinct {digest}), count(distinct customer_id) from {relation}"
                f" group by customer_id having count(distinct {digest}) <> 1"
            ).fetchall()
            assert per_customer == [], relation


REMOVAL_LOGS = {  # model: (relation, its removal log, the group key and logged columns)
    "customer_records": (
        "identity.customer_records",
        "identity.customer_records__removed",
        "source_table, record_id, customer_id",
    ),
    "customer_identifiers": (
        "identity.customer_identifiers",
        "identity.customer_identifiers__removed",
        "identifier_key, customer_id",
    ),
}


@pytest.mark.parametrize("model", REMOVAL_LOGS)
def test_an_incremental_build_logs_the_rows_it_replaced(warehouses, tmp_path: Path, model: str) -> None:
    """The customer marts find the customer a record or an identifier left in the removal
    log: every customer merged away is there and each logged row was a stored row; a full
    build (after which every customer downstream is rebuilt) leaves it empty."""
    relation, log, columns = REMOVAL_LOGS[model]
    first, incremental, _ = warehouses
    assert fetch(first, f"select * from {log}") == [], "a full build logged rows"
    logged = set(fetch(incremental, f"select {columns} from {log}"))
    assert logged and logged <= set(fetch(first, f"select {columns} from {relation}"))
    merged_away = customers(first) - customers(incremental)
    assert merged_away and merged_away <= {row[-1] for row in logged}
    project = copy_of(incremental, tmp_path)
    result = run_dbt(project, ["run", "--select", model, "--full-refresh"], quiet=True)
    assert result.ok, dict(result.statuses)
    assert fetch(project, f"select * from {log}") == []


RECORD_IDENTIFIERS = "identity.int_identity__record_identifiers"
PLACEHOLDER_TIME = "timestamp '1900-01-01 00:00:00'"


def identifier_rows(
    project: Project, *, observed: bool = True, except_records: list[str] = ()
) -> list[tuple]:
    """Rows of int_identity__record_identifiers but their load and typing times (and
    observed_at unless ``observed``), leaving out records named '<source_table>:<record_id>'."""
    left_out = "_loaded_at, _typed_at, _built_at" + ("" if observed else ", observed_at")
    with duckdb.connect(str(project.warehouse), read_only=True) as con:
        return con.execute(
            f"select * exclude ({left_out}) from {RECORD_IDENTIFIERS}"
            " where not list_contains(?::varchar[], source_table || ':' || record_id)"
            " order by source_table, record_id, identifier_type",
            [sorted(except_records)],
        ).fetchall()


def records_with(project: Project, condition: str) -> list[str]:
    """'<source_table>:<record_id>' of the records with rows matching ``condition``."""
    record = "source_table || ':' || record_id"
    sql = f"select distinct {record} from {RECORD_IDENTIFIERS} where {condition}"
    return [name for (name,) in fetch(project, sql)]


def test_an_incremental_build_extracts_only_the_records_staging_typed_again(
    warehouses, deliveries: Deliveries, project_root: Path, tmp_path: Path
) -> None:
    first, _, full = warehouses
    project = copy_of(first, tmp_path)
    execute(project, f"update {RECORD_IDENTIFIERS} set observed_at = {PLACEHOLDER_TIME}")
    load_landing(deliveries.second, project.warehouse, raw_tables(project_root))
    build_marts(project, command="run")
    kept = records_with(project, f"observed_at = {PLACEHOLDER_TIME}")
    extracted_again = set(records_with(first, "true")) - set(kept)
    # Most records kept their stored rows; some earlier records were extracted again...
    assert len(kept) > len(records_with(first, "true")) / 2
    assert extracted_again, "no record of the first build was extracted again"
    # ...and all rows but the kept ones' marks equal a full rebuild's.
    assert identifier_rows(project, except_records=kept) == identifier_rows(full, except_records=kept)
    assert identifier_rows(project, observed=False) == identifier_rows(full, observed=False)


def delete_crm_contacts(project: Project, count: int = 5) -> str:
    """Deletes the raw rows of ``count`` CRM contacts; their record ids, as an SQL list."""
    gone = [
        record
        for (record,) in fetch(
            project,
            f"""
        select distinct record_id from {RECORD_IDENTIFIERS}
        where source_table = 'crm_contacts' order by record_id limit {count}""",
        )
    ]
    gone_list = ", ".join(f"'{record}'" for record in gone)
    execute(
        project,
        f"""
        delete from raw.crm_contacts where (_source_file, _source_row) in (
            select (_source_file, _source_row) from staging.base_crm__contacts
            where contact_id in ({gone_list}))""",
    )
    return gone_list


def test_a_source_staged_again_in_full_replaces_all_its_records(warehouses, tmp_path: Path) -> None:
    """After raw rows were deleted and their base model rebuilt with --full-refresh alone, an
    incremental build drops the records gone from staging, as a full rebuild would."""
    _, incremental, _ = warehouses
    (tmp_path / "incremental").mkdir()
    project = copy_of(incremental, tmp_path / "incremental")
    gone_list = delete_crm_contacts(project)
    for args in (
        ["run", "--full-refresh", "--select", "base_crm__contacts"],
        ["run", "--select", "int_identity__record_identifiers"],
    ):
        assert run_dbt(project, args, quiet=True).ok, args
    assert records_with(project, f"source_table = 'crm_contacts' and record_id in ({gone_list})") == []
    rebuilt = copy_of(project, tmp_path)
    full_refresh = ["run", "--full-refresh", "--select", "int_identity__record_identifiers"]
    assert run_dbt(rebuilt, full_refresh, quiet=True).ok
    assert identifier_rows(project) == identifier_rows(rebuilt)


BLOCKLISTED = "identity.int_identity__blocklisted_identifiers"
PERSON_RECORDS = "identity.int_identity__person_records"
COMPONENTS = "identity.int_identity__components"
SAME_PERSON_GROUPS = "identity.int_identity__same_person_groups"
AUDIT = "identity.identity_edge_audit"
IDENTITY_MODELS = {  # model: (relation, stamps left out, row key)
    "int_identity__record_identifiers": (
        RECORD_IDENTIFIERS,
        "_loaded_at, _typed_at, _built_at",
        "source_table, record_id, identifier_type",
    ),
    "int_identity__blocklisted_identifiers": (BLOCKLISTED, "_built_at", "identifier_key"),
    "int_identity__person_records": (PERSON_RECORDS, "_built_at", "source_table, record_id"),
    "int_identity__record_nodes": (
        "identity.int_identity__record_nodes",
        "_built_at",
        "source_table, record_id",
    ),
    "int_identity__identifier_verdicts": (
        "identity.int_identity__identifier_verdicts",
        "usability_changed_at, _built_at",
        "identifier_key",
    ),
    # Without the probability: --full-refresh retrains the Splink model (after a blocklist
    # change, on other records), whose scores differ in the 12th digit; which edges exist
    # and their evidence are compared.
    "int_identity__edges": (
        "identity.int_identity__edges",
        "_built_at, match_probability",
        "source_table, record_id, node_b, link_rule",
    ),
    "int_identity__same_person_groups": (SAME_PERSON_GROUPS, "_clustered_at", "node_key"),
    "int_identity__components": (COMPONENTS, "_clustered_at", "node_key"),
    "int_identity__node_clusters": ("identity.int_identity__node_clusters", "_built_at", "node_key"),
    "customer_records": ("identity.customer_records", "_built_at", "source_table, record_id"),
    "customer_identifiers": ("identity.customer_identifiers", "_built_at", "identifier_key"),
    # Without the probability, as the edges.
    "identity_edge_audit": (AUDIT, "_built_at, match_probability", "source_table, record_id, guard, node_b"),
}


GUARDED = (
    "int_identity__identifier_verdicts",
    "int_identity__record_nodes",
    "int_identity__edges",
    "int_identity__node_clusters",
    "customer_records",
    "customer_identifiers",
)
# The blocklist's guard and every identity model after it.
FROM_THE_BLOCKLIST = " ".join(
    f"int_identity__blocklisted_identifiers+,path:models/{layer}/identity"
    for layer in ("intermediate", "marts")
)


def identity_rows(project: Project, model: str) -> list[tuple]:
    relation, stamps, key = IDENTITY_MODELS[model]
    return fetch(project, f"select * exclude ({stamps}) from {relation} order by {key}")


@pytest.mark.parametrize("model", IDENTITY_MODELS)
def test_identity_models_incremental_equal_a_full_rebuild(warehouses, model: str) -> None:
    _, incremental, full = warehouses
    expected = identity_rows(full, model)
    assert expected, f"{model} is empty: the comparison would prove nothing"
    assert identity_rows(incremental, model) == expected


VERDICTS = "identity.int_identity__identifier_verdicts"
TAMPERED_COUNT = -1


def verdicts(project: Project) -> list[tuple]:
    return identity_rows(project, "int_identity__identifier_verdicts")


def run_or_fail(project: Project, *args: str) -> None:
    result = run_dbt(project, ["run", *args], quiet=True)
    assert result.ok, f"dbt run {' '.join(args)} failed: {dict(result.statuses)}"


def test_record_identifiers_log_the_rows_a_build_replaced(warehouses) -> None:
    """int_identity__record_identifiers__removed: the identifiers the records written again
    carried before, which the verdicts re-count; a full build leaves it empty."""
    first, incremental, _ = warehouses
    log = f"{RECORD_IDENTIFIERS}__removed"
    columns = "source_table, record_id, identifier_key"
    assert fetch(first, f"select * from {log}") == []
    logged = set(fetch(incremental, f"select {columns} from {log}"))
    assert logged and logged <= set(fetch(first, f"select {columns} from {RECORD_IDENTIFIERS}"))
    rewritten = fetch(
        incremental,
        f"select distinct source_table, record_id from {RECORD_IDENTIFIERS}"
        f" where _built_at = (select max(_built_at) from {RECORD_IDENTIFIERS})",
    )
    assert {(table, record) for table, record, _ in logged} <= set(rewritten)


def test_an_incremental_build_recomputes_only_the_verdicts_whose_inputs_changed(
    warehouses, deliveries: Deliveries, project_root: Path, tmp_path: Path
) -> None:
    """After the second delivery most identifiers keep their stored verdict unread (their
    tampered count stays), yet every verdict equals a full rebuild's but for those marks."""
    first, _, full = warehouses
    project = copy_of(first, tmp_path)
    execute(project, f"update {VERDICTS} set records = {TAMPERED_COUNT}")
    load_landing(deliveries.second, project.warehouse, raw_tables(project_root))
    run_or_fail(project, "--select", "+int_identity__identifier_verdicts")
    kept = fetch(project, f"select identifier_key from {VERDICTS} where records = {TAMPERED_COUNT}")
    assert len(kept) > len(fetch(first, f"select identifier_key from {VERDICTS}")) / 2
    assert len(kept) < len(fetch(project, f"select identifier_key from {VERDICTS}"))
    unmarked = f"select * exclude (records, usability_changed_at, _built_at) from {VERDICTS} order by 1"
    assert fetch(project, unmarked) == fetch(full, unmarked)
    stamps = "usability_changed_at, _built_at"
    recomputed = f"select * exclude ({stamps}) from {VERDICTS} where records <> {TAMPERED_COUNT}"
    assert set(fetch(project, recomputed)) <= set(fetch(full, recomputed))


def test_an_incremental_build_matches_only_the_identifiers_written_since_against_the_blocklist(
    warehouses, deliveries: Deliveries, project_root: Path, tmp_path: Path
) -> None:
    """A stored row of an identifier no new record carries is not matched again (a planted
    one stays); one of an identifier no record carries any more goes; the rest equals a full
    rebuild's. A changed seed matches every identifier again."""
    first, incremental, full = warehouses
    # Carried before and after the second delivery, on no record that delivery rewrote.
    ((untouched,),) = fetch(
        incremental,
        f"""select identifier_key from {RECORD_IDENTIFIERS}
        where identifier_key not in (select identifier_key from {BLOCKLISTED})
        group by identifier_key having max(_built_at) < (select max(_built_at) from {RECORD_IDENTIFIERS})
        order by identifier_key limit 1""",
    )
    project = copy_of(first, tmp_path)
    planted = f"""insert into {BLOCKLISTED}
        select ?, 'email', 'planted', '{TAMPERED}', any_value(rules_digest), max(_built_at)
        from {BLOCKLISTED}"""
    with duckdb.connect(str(project.warehouse)) as con:
        for key in (untouched, "email:gone@example.invalid"):
            con.execute(planted, [key])
        con.execute(
            f"""insert into {RECORD_IDENTIFIERS}__removed
                (record_key, source_table, record_id, identifier_key, _removed_at)
            select 1, 'crm_contacts', 'gone', 'email:gone@example.invalid', max(_built_at) + interval 1 second
            from {BLOCKLISTED}"""
        )
    load_landing(deliveries.second, project.warehouse, raw_tables(project_root))
    run_or_fail(project, "--select", "+int_identity__blocklisted_identifiers")
    rows = dict(fetch(project, f"select identifier_key, reason from {BLOCKLISTED}"))
    assert rows.pop(untouched) == TAMPERED
    assert rows == dict(fetch(full, f"select identifier_key, reason from {BLOCKLISTED}"))
    execute(
        project, "insert into identity.identity_blocklist values ('phone', 'exact', '+10000000000', 'test')"
    )
    run_or_fail(project, "--select", "int_identity__blocklisted_identifiers")
    assert fetch(project, f"select count(*) from {BLOCKLISTED} where identifier_key = '{untouched}'") == [
        (0,)
    ]


def test_a_changed_same_person_group_recounts_identifiers_on_records_not_touched(
    warehouses, tmp_path: Path
) -> None:
    """Without the probabilistic pairs, a person's CRM contact and shop account no longer
    count as one: their shared inbox exceeds max_partners people. No record changed, yet
    the incremental verdicts equal a full rebuild's, through the groups' log."""
    _, incremental, _ = warehouses
    (tmp_path / "incremental").mkdir()
    project = copy_of(incremental, tmp_path / "incremental")
    execute(project, "delete from identity.int_identity__probabilistic_pairs")
    run_or_fail(project, "--select", "int_identity__same_person_groups")
    rebuilt = copy_of(project, tmp_path)
    run_or_fail(project, "--select", "int_identity__identifier_verdicts")
    run_or_fail(rebuilt, "--full-refresh", "--select", "int_identity__identifier_verdicts")
    shared = f"select identifier_key from {VERDICTS} where guard = 'max_partners' order by 1"
    assert fetch(project, shared) != fetch(incremental, shared), "no verdict changed: proves nothing"
    assert verdicts(project) == verdicts(rebuilt)


def test_changed_identity_rules_recompute_every_verdict(warehouses, tmp_path: Path) -> None:
    _, incremental, _ = warehouses
    identity = yaml.safe_load((PROJECT_ROOT / "dbt_project.yml").read_text())["vars"]["cdp_identity"]
    identity["identifier_types"]["email"]["max_partners"]["people"] = 3
    model = "int_identity__identifier_verdicts"
    rules = ["--vars", json.dumps({"cdp_identity": identity}), "--select", model]
    (tmp_path / "incremental").mkdir()
    project = copy_of(incremental, tmp_path / "incremental")
    rebuilt = copy_of(incremental, tmp_path)
    run_or_fail(project, *rules)
    run_or_fail(rebuilt, "--full-refresh", *rules)
    shared = f"select identifier_key from {VERDICTS} where guard = 'max_partners' order by 1"
    assert fetch(project, shared) != fetch(incremental, shared), "no verdict changed: proves nothing"
    assert verdicts(project) == verdicts(rebuilt)


def test_an_incremental_build_rewrites_only_the_identifiers_that_changed(warehouses) -> None:
    """customer_identifiers after the second delivery: a row whose content changed (counts,
    dates, customer, anchor) was written by that build; every other row kept its stamp."""
    first, incremental, _ = warehouses
    query = "select identifier_key, _built_at, * exclude (_built_at) from identity.customer_identifiers"
    before = {row[0]: row[1:] for row in fetch(first, query)}
    after = {row[0]: row[1:] for row in fetch(incremental, query)}
    (latest,) = fetch(incremental, "select max(_built_at) from identity.customer_identifiers")[0]
    changed = {key for key, row in after.items() if before.get(key, (None,))[1:] != row[1:]}
    rewritten = {key for key, row in after.items() if row[0] == latest}
    assert changed, "the second delivery changed no identifier: the test would prove nothing"
    assert len(rewritten) < len(after) / 2, "most identifiers were rewritten"
    assert rewritten == changed


def test_an_incremental_build_rewrites_the_edges_of_the_touched_records_only(warehouses) -> None:
    """int_identity__edges after the second delivery: every record whose edges changed had
    them written by that build, and most records kept their stored edges."""
    first, incremental, _ = warehouses

    def edges_by_record(project: Project) -> dict[tuple, set[tuple]]:
        query = """select source_table, record_id, _built_at, node_a, node_b, link_rule, evidence
            from identity.int_identity__edges"""
        grouped: dict[tuple, set[tuple]] = {}
        for table, record, *edge in fetch(project, query):
            grouped.setdefault((table, record), set()).add(tuple(edge))
        return grouped

    before, after = edges_by_record(first), edges_by_record(incremental)
    (latest,) = fetch(incremental, "select max(_built_at) from identity.int_identity__edges")[0]
    content = {record: {edge[1:] for edge in edges} for record, edges in after.items()}
    changed = {record for record in after if {edge[1:] for edge in before.get(record, ())} != content[record]}
    rewritten = {record for record, edges in after.items() if {edge[0] for edge in edges} == {latest}}
    assert changed, "the second delivery changed no record's edges: the test would prove nothing"
    assert changed <= rewritten
    assert len(rewritten) < len(after) / 2, "most records had their edges rewritten"


def test_an_incremental_build_rewrites_only_the_probabilistic_edges_that_changed(
    warehouses, tmp_path: Path
) -> None:
    """With no record ranked again, a build rewrites the edges of the left records of the
    pairs the scoring stamped or logged as dropped since, and those of the pairs whose right
    record was ranked since (its node moved), and no other record's; the edges equal a full
    rebuild's, also when the pairs' log was pruned since."""
    _, incremental, _ = warehouses
    edges, pairs = "identity.int_identity__edges", "identity.int_identity__probabilistic_pairs"
    nodes = "identity.int_identity__record_nodes"
    (tmp_path / "edited").mkdir()
    project = copy_of(incremental, tmp_path / "edited")
    left_records = f"""select distinct source_table, record_id from {edges}
        where link_rule = 'probabilistic' order by 1, 2"""
    rescored, dropped, moved_left = fetch(project, f"{left_records} limit 3")
    by_left = "where left_source_table = ? and left_record_id = ?"
    with duckdb.connect(str(project.warehouse), read_only=True) as con:
        moved_right = con.execute(
            f"select right_source_table, right_record_id from {pairs} {by_left} order by 1, 2 limit 1",
            list(moved_left),
        ).fetchall()[0]
        # Every pair's left record whose right record moves: moved_left and any other.
        moved_lefts = set(
            con.execute(
                f"""select left_source_table, left_record_id from {pairs}
                where right_source_table = ? and right_record_id = ?""",
                list(moved_right),
            ).fetchall()
        )
    # What the scoring does to a pair it scores again and one it drops (cdp.identity.pair_scoring).
    later = f"(select max(_built_at) from {edges}) + interval 1 second"
    with duckdb.connect(str(project.warehouse)) as con:
        con.execute(
            f"update {pairs} set evidence = evidence || ' (rescored)', _built_at = {later} {by_left}",
            list(rescored),
        )
        con.execute(
            f"""insert into {pairs}__removed
            select left_source_table, left_record_id, right_source_table, right_record_id, {later}
            from {pairs} {by_left}""",
            list(dropped),
        )
        con.execute(f"delete from {pairs} {by_left}", list(dropped))
        con.execute(
            f"""update {nodes} set node_key = node_key || '-moved', _built_at = {later}
            where source_table = ? and record_id = ?""",
            list(moved_right),
        )
    run_or_fail(project, "--select", "int_identity__edges")
    latest = f"select max(_built_at) from {edges}"
    rewritten = set(
        fetch(project, f"select distinct source_table, record_id from {edges} where _built_at = ({latest})")
    )
    # The dropped pair's record is left without rows if it had no other edge.
    assert {rescored, moved_right} | moved_lefts <= rewritten
    assert rewritten <= {rescored, dropped, moved_right} | moved_lefts
    rebuilt = copy_of(project, tmp_path)
    run_or_fail(rebuilt, "--full-refresh", "--select", "int_identity__edges")
    assert identity_rows(project, "int_identity__edges") == identity_rows(rebuilt, "int_identity__edges")

    # A pair dropped, its log row pruned since (only the horizon row tells): every pair's edge
    # is written again.
    (pruned,) = fetch(project, f"{left_records} offset 3 limit 1")
    with duckdb.connect(str(project.warehouse)) as con:
        con.execute(f"delete from {pairs} {by_left}", list(pruned))
        con.execute(f"insert into {pairs}__removed (_removed_at) select {later}")
    run_or_fail(project, "--select", "int_identity__edges")
    (tmp_path / "pruned").mkdir()
    rebuilt = copy_of(project, tmp_path / "pruned")
    run_or_fail(rebuilt, "--full-refresh", "--select", "int_identity__edges")
    assert identity_rows(project, "int_identity__edges") == identity_rows(rebuilt, "int_identity__edges")


def test_incremental_models_compare_stamps_with_a_literal_watermark(built: Project, tmp_path: Path) -> None:
    """An incremental model reads its watermark (the later of its newest stamp and its last
    run) once when it runs and compares stamps with it as a literal, not a subquery that hid
    from DuckDB's planner how few rows pass (README, Watermarks). customer_360 compares them
    in its touched customers, which it counts first into a temporary table (cdp_counted_set)."""
    models = {
        "customer_360": "customer.customer_360",
        "int_identity__node_clusters": "identity.int_identity__node_clusters",
    }
    target, logs = tmp_path / "target", tmp_path / "logs"
    result = run_dbt(
        built,
        [
            "compile",
            "--select",
            *models,
            "base_crm__contacts",
            "--target-path",
            str(target),
            "--log-path",
            str(logs),
        ],
        capture=True,
    )
    assert result.ok, result.output
    log = (logs / "dbt.log").read_text()
    counted = 'create or replace temporary table "customer_360__touched_customers" as'
    assert log.count(counted) == 1
    touched_customers = log.split(counted)[1].split("SQL status")[0]
    with duckdb.connect(str(built.warehouse), read_only=True) as con:
        for model, table in models.items():
            (watermark,) = con.execute(
                f"select cast(greatest(max(_built_at), (select max(run_started_at) from main.cdp_model_runs"
                f" where model_id = 'model.cdp.{model}')) as varchar) from {table}"
            ).fetchone()
            compiled = next(target.rglob(f"{model}.sql")).read_text()
            compared = touched_customers if model == "customer_360" else compiled
            assert f"_built_at > cast('{watermark}' as timestamp)" in compared, model
            assert "watermark" not in compiled and "select greatest(" not in compiled, model
    customer_360 = next(target.rglob("customer_360.sql")).read_text()
    assert 'select * from temp.main."customer_360__touched_customers"' in customer_360
    # read once per model, by every check that needs it (each read is three round trips to
    # the warehouse): the log holds one newest-stamp query per model, and no other
    assert log.count("select cast((select greatest(") == log.count("select greatest(") == len(models)
    assert log.count("coalesce(max(_loaded_at)") == 1, "base_crm__contacts: one read of _loaded_at"


def test_the_edge_audit_rewrites_only_the_records_whose_inputs_changed(warehouses, tmp_path: Path) -> None:
    """With nothing changed since, a build of identity_edge_audit rewrites only the records
    with a cluster-cap cut (recomputed on every build): a planted reason on another stays."""
    _, incremental, _ = warehouses
    (tmp_path / "edited").mkdir()
    project = copy_of(incremental, tmp_path / "edited")
    capped = f"select source_table, record_id from {AUDIT} where guard = 'cluster_cap'"
    (planted,) = fetch(
        project,
        f"""select source_table, record_id from {AUDIT}
        where guard = 'max_partners' and (source_table, record_id) not in ({capped})
        order by 1, 2 limit 1""",
    )
    by_record = "where source_table = ? and record_id = ?"
    ((before,),) = fetch(project, f"select max(_built_at) from {AUDIT}")
    with duckdb.connect(str(project.warehouse)) as con:
        con.execute(f"update {AUDIT} set reason = '{TAMPERED}' {by_record}", list(planted))
    run_or_fail(project, "--select", "identity_edge_audit")
    with duckdb.connect(str(project.warehouse), read_only=True) as con:
        rewritten = con.execute(f"select source_table, record_id from {AUDIT} where _built_at > ?", [before])
        rewritten = set(rewritten.fetchall())
        reasons = con.execute(f"select distinct reason from {AUDIT} {by_record}", list(planted)).fetchall()
    assert rewritten <= set(fetch(project, capped))
    assert reasons == [(TAMPERED,)]


CAPPED_EDGES = "identity.int_identity__capped_edges"
CAPPED_KEY = "source_table, record_id, node_a, node_b"
VERDICTS_THEN_CAPPED = "int_identity__identifier_verdicts int_identity__capped_edges"


def lower_crm_cap() -> list[str]:
    """--vars with a CRM contact cap of 1: the sample has no component over the default caps,
    and 52 with two CRM contacts after the first delivery, 81 after both."""
    identity = yaml.safe_load((PROJECT_ROOT / "dbt_project.yml").read_text())["vars"]["cdp_identity"]
    identity["identifier_types"]["crm_contact_id"]["max_per_cluster"] = 1
    return ["--vars", json.dumps({"cdp_identity": identity})]


def capped_edges(project: Project) -> list[tuple]:
    return fetch(project, f"select * exclude (_built_at) from {CAPPED_EDGES} order by {CAPPED_KEY}")


def test_capped_edges_after_a_delivery_equal_a_full_rebuild(
    warehouses, deliveries: Deliveries, project_root: Path, tmp_path: Path
) -> None:
    """Under a cap the sample exceeds: built after the first delivery, then incrementally after
    the second, the capped edges equal a full rebuild's, and the delivery changed them."""
    first, _, full = warehouses
    project = copy_of(first, tmp_path)
    run_or_fail(project, *lower_crm_cap(), "--select", "+int_identity__capped_edges")
    before = capped_edges(project)
    load_landing(deliveries.second, project.warehouse, raw_tables(project_root))
    run_or_fail(project, *lower_crm_cap(), "--select", "+int_identity__capped_edges")
    (tmp_path / "full").mkdir()
    rebuilt = copy_of(full, tmp_path / "full")
    run_or_fail(rebuilt, *lower_crm_cap(), "--full-refresh", "--select", "int_identity__capped_edges")
    assert before, "nothing over the lower cap: the comparison would prove nothing"
    assert capped_edges(project) != before, "the delivery changed no capped component: proves nothing"
    assert capped_edges(project) == capped_edges(rebuilt)


def test_the_cluster_cap_recounts_only_components_whose_nodes_or_verdicts_changed(
    warehouses, tmp_path: Path
) -> None:
    """A lower CRM contact cap, with nothing clustered or judged since: a build of the capped edges
    alone recounts only the components capped before, so none is capped anew; once the
    verdicts are rebuilt under it (the caps are in their rules digest) the capped edges
    equal a full rebuild's."""
    _, incremental, _ = warehouses
    lower_cap = lower_crm_cap()
    capped = f"select distinct component_key from {CAPPED_EDGES}"
    (tmp_path / "incremental").mkdir()
    project = copy_of(incremental, tmp_path / "incremental")
    rebuilt = copy_of(incremental, tmp_path)

    run_or_fail(project, *lower_cap, "--select", "int_identity__capped_edges")
    assert set(fetch(project, capped)) <= set(fetch(incremental, capped))

    run_or_fail(project, *lower_cap, "--select", VERDICTS_THEN_CAPPED)
    run_or_fail(rebuilt, *lower_cap, "--full-refresh", "--select", "int_identity__capped_edges")
    assert len(fetch(rebuilt, capped)) > len(fetch(incremental, capped)), "the lower cap capped nothing new"
    assert capped_edges(project) == capped_edges(rebuilt)


def test_the_cluster_cap_recounts_a_component_clustered_since(warehouses, tmp_path: Path) -> None:
    """Two components with one CRM contact each, merged in int_identity__components and stamped
    as a clustering would, no verdict rewritten: a build of the capped edges alone finds the
    merged one over a cap of 1, as a full rebuild does."""
    _, incremental, _ = warehouses
    (tmp_path / "incremental").mkdir()
    project = copy_of(incremental, tmp_path / "incremental")
    run_or_fail(project, *lower_crm_cap(), "--select", VERDICTS_THEN_CAPPED)
    (kept,), (merged,) = fetch(
        project,
        f"""select components.component_key from {COMPONENTS} as components
        inner join {VERDICTS} as verdicts on components.node_key = verdicts.identifier_key
        where verdicts.identifier_type = 'crm_contact_id'
            and components.component_key not in (select component_key from {CAPPED_EDGES})
        group by components.component_key having count(*) = 1 order by 1 limit 2""",
    )
    execute(
        project,
        f"""update {COMPONENTS} set component_key = '{kept}',
            _clustered_at = (select max(_built_at) from {VERDICTS}) + interval 1 second
        where component_key = '{merged}'""",
    )
    rebuilt = copy_of(project, tmp_path)
    run_or_fail(project, *lower_crm_cap(), "--select", "int_identity__capped_edges")
    run_or_fail(rebuilt, *lower_crm_cap(), "--full-refresh", "--select", "int_identity__capped_edges")
    assert (kept,) in fetch(project, f"select distinct component_key from {CAPPED_EDGES}")
    assert capped_edges(project) == capped_edges(rebuilt)


def test_an_incremental_build_compares_only_the_edges_written_or_removed_since(
    warehouses, deliveries: Deliveries, project_root: Path, tmp_path: Path
) -> None:
    """The components compare with their stored edges only the edges and record nodes
    written since their last run and those the removal logs list: a planted stored edge no
    input wrote or removed stays, and the components equal a full rebuild's."""
    first, _, full = warehouses
    project = copy_of(first, tmp_path)
    execute(project, f"insert into {COMPONENTS}__edges values ('planted:a', 'planted:b')")
    load_landing(deliveries.second, project.warehouse, raw_tables(project_root))
    run_or_fail(project, "--select", "+int_identity__components")
    state = f"select count(*) from {COMPONENTS}__edges where node_a = 'planted:a'"
    assert fetch(project, state) == [(1,)]
    assert identity_rows(project, "int_identity__components") == identity_rows(
        full, "int_identity__components"
    )


def _group_of(project: Project, node: str) -> str:
    rows = fetch(project, f"select component_key from {SAME_PERSON_GROUPS} where node_key = '{node}'")
    return rows[0][0] if rows else node


def _deliver_contact_with_phone_of(
    project: Project, deliveries: Deliveries, project_root: Path, folder: Path
) -> tuple[str, str]:
    """A third delivery: a later version of one CRM contact, its phone now that of a shop
    account in another same-person group that no other person record shares. The account's
    edge, not the contact's, then links them (a person's phone edge goes to the smallest
    holder, and CRM keys sort first), though no row of the account was written. Returns the
    two graph nodes."""
    contacts = pq.read_table(sorted((deliveries.first / "crm_contacts").glob("*.parquet"))[0]).slice(0, 1)
    contact = contacts.column("contact_id")[0].as_py()
    contact_node = f"crm_contact_id:{contact}"
    account, phone = fetch(
        project,
        f"""
        select record_id, substr(identifier_key, length('phone:') + 1) from {RECORD_IDENTIFIERS}
        where source_table = 'shop_customers' and identifier_type = 'phone'
        and identifier_key in (
            select identifier_key from {RECORD_IDENTIFIERS}
            where source_table in ('crm_contacts', 'shop_customers')
            group by 1 having count(*) = 1)
        and 'shop_customer_id:' || record_id not in (
            select node_key from {SAME_PERSON_GROUPS}
            where component_key = '{_group_of(project, contact_node)}')
        order by record_id limit 1
        """,
    )[0]
    for column, value in (("phone", phone), ("updated_at", "2026-11-30 00:00:00")):
        contacts = contacts.set_column(contacts.schema.get_field_index(column), column, pa.array([value]))
    (folder / "crm_contacts").mkdir(parents=True)
    pq.write_table(contacts, folder / "crm_contacts" / "third-delivery.parquet")
    load_landing(folder, project.warehouse, raw_tables(project_root))
    return contact_node, f"shop_customer_id:{account}"


def test_same_person_groups_compare_only_the_edges_of_persons_touched_since(
    warehouses, deliveries: Deliveries, project_root: Path, tmp_path: Path
) -> None:
    """The same-person groups compute and compare only the edges of the persons whose phones
    or pairs changed since their last run, so a planted stored edge of no such person stays.
    A contact delivered again with another person's phone joins that person's group (its
    identifiers are written again); then contacts paired with a person record whose phone
    they do not share change beyond recognition, so Splink drops their pairs (logged; no
    identifier is written). After each, the groups equal a full rebuild's."""
    _, incremental, _ = warehouses
    (tmp_path / "edited").mkdir()
    project = copy_of(incremental, tmp_path / "edited")
    groups, pairs = "int_identity__same_person_groups", "identity.int_identity__probabilistic_pairs"
    planted = f"select count(*) from {SAME_PERSON_GROUPS}__edges where node_a = 'planted:a'"
    execute(project, f"insert into {SAME_PERSON_GROUPS}__edges values ('planted:a', 'planted:b')")

    contact, account = _deliver_contact_with_phone_of(project, deliveries, project_root, tmp_path / "third")
    run_or_fail(project, "--select", "+int_identity__same_person_groups")
    assert _group_of(project, contact) == _group_of(project, account)
    rescored = fetch(project, f"select count(*) from {pairs}__scored_records where rescored")
    assert rescored == [(1,)], "every pair was scored anew: every edge was compared"
    assert fetch(project, planted) == [(1,)]
    assert identity_rows(project, groups) == _rebuilt_groups(project, tmp_path / "rebuilt-1")

    execute(
        project,
        f"""
        update identity.int_identity__person_records
        set first_name = 'Zelda' || md5(record_id), last_name = 'Quux' || md5(record_id),
            date_of_birth = null, email_canonical = null, street_address = null, postcode = null
        where source_table = 'crm_contacts' and record_id in (
            select pairs.left_record_id from {pairs} as pairs
            where pairs.left_source_table = 'crm_contacts' and pairs.match_probability >= 0.5
            and not exists (
                select 1 from {RECORD_IDENTIFIERS} as left_phones
                inner join {RECORD_IDENTIFIERS} as right_phones
                    on left_phones.identifier_key = right_phones.identifier_key
                where left_phones.identifier_type = 'phone'
                and left_phones.source_table = 'crm_contacts'
                and left_phones.record_id = pairs.left_record_id
                and right_phones.source_table = pairs.right_source_table
                and right_phones.record_id = pairs.right_record_id)
            order by 1 limit 10)
        """,
    )
    before = identity_rows(project, groups)
    run_or_fail(project, "--select", "int_identity__probabilistic_pairs int_identity__same_person_groups")
    assert fetch(project, f"select count(*) > 0 from {pairs}__removed") == [(True,)]
    changed = "select record_id from identity.int_identity__person_records where first_name like 'Zelda%'"
    paired = (
        f"select count(*) from {pairs} where left_record_id in ({changed}) or right_record_id in ({changed})"
    )
    assert fetch(project, paired) == [(0,)], "a changed contact has a new pair: the log would not be needed"
    assert fetch(project, planted) == [(1,)]
    rebuilt = _rebuilt_groups(project, tmp_path / "rebuilt-2")
    assert rebuilt != before, "no group changed: the test would prove nothing"
    assert identity_rows(project, groups) == rebuilt


def _rebuilt_groups(project: Project, folder: Path) -> list[tuple]:
    """The same-person groups of a copy of ``project`` rebuilt in full."""
    folder.mkdir()
    rebuilt = copy_of(project, folder)
    run_or_fail(rebuilt, "--full-refresh", "--select", "int_identity__same_person_groups")
    return identity_rows(rebuilt, "int_identity__same_person_groups")


def test_an_incremental_build_rewrites_the_changed_components_only(warehouses) -> None:
    """int_identity__node_clusters after the second delivery: every node whose cluster,
    customer or anchor changed (or that is new) was written by that build, and most kept
    their stored row; the nodes gone were deleted."""
    first, incremental, _ = warehouses
    clusters = "identity.int_identity__node_clusters"
    query = f"select node_key, _built_at, * exclude (node_key, _built_at) from {clusters}"
    before = {row[0]: row[2:] for row in fetch(first, query)}
    after = {row[0]: row[1:] for row in fetch(incremental, query)}
    (latest,) = fetch(incremental, f"select max(_built_at) from {clusters}")[0]
    changed = {node for node, row in after.items() if before.get(node) != row[1:]}
    rewritten = {node for node, row in after.items() if row[0] == latest}
    assert changed, "the second delivery changed no cluster: the test would prove nothing"
    assert changed <= rewritten
    assert len(rewritten) < len(after) / 2, "most nodes were rewritten"
    components = fetch(incremental, "select node_key from identity.int_identity__components")
    assert set(after) == {node for (node,) in components}


def test_the_assignment_log_records_every_customer_change_of_an_incremental_build(warehouses) -> None:
    """customer_id_assignments compares only the nodes int_identity__node_clusters rewrote,
    yet the rows the second build appended are exactly the nodes whose customer_id changed
    or that are new, each with its customer before."""
    first, incremental, _ = warehouses
    clusters = "select node_key, customer_id from identity.int_identity__node_clusters"
    before, after = dict(fetch(first, clusters)), dict(fetch(incremental, clusters))
    expected = {
        (node, customer, before.get(node)) for node, customer in after.items() if before.get(node) != customer
    }
    appended = set(
        fetch(
            incremental,
            """select node_key, customer_id, previous_customer_id from identity.customer_id_assignments
            where assigned_at = (select max(assigned_at) from identity.customer_id_assignments)""",
        )
    )
    assert any(previous is not None for _, _, previous in expected), "no customer changed: proves little"
    assert appended == expected


def test_a_verdict_that_changes_moves_the_records_staging_did_not_touch(warehouses, tmp_path: Path) -> None:
    """Blocklisting a usable node (in the seed's table, without new raw rows) re-ranks the
    records hanging from it in an incremental build and moves the records of the customers
    that split, as a full rebuild does."""
    _, incremental, _ = warehouses
    # The anchor email of a customer (its id is a hash of it) from which records hang, and
    # whose customer also has records that do not carry it: blocking it re-ranks the first
    # and changes the customer id of the others without re-ranking them.
    node, records_elsewhere = fetch(
        incremental,
        """with clusters as (select * from identity.int_identity__node_clusters)
        select anchors.node_key, count(*)
        from clusters as anchors
        inner join clusters as members on anchors.cluster_key = members.cluster_key
        inner join identity.customer_records as records on members.node_key = records.node_key
        where anchors.is_anchor and anchors.node_key like 'email:%'
            and anchors.node_key in (select node_key from identity.customer_records)
            and not exists (
                select 1 from identity.int_identity__record_identifiers as carried
                where carried.source_table = records.source_table and carried.record_id = records.record_id
                    and carried.identifier_key = anchors.node_key)
        group by anchors.node_key order by count(*) desc, anchors.node_key limit 1""",
    )[0]
    assert records_elsewhere > 1
    rebuilt = {}
    for name, flags in (("incremental", []), ("full", ["--full-refresh"])):
        (tmp_path / name).mkdir()
        project = copy_of(incremental, tmp_path / name)
        value = node.removeprefix("email:")
        execute(
            project, f"insert into identity.identity_blocklist values ('email', 'exact', '{value}', 'test')"
        )
        assert run_dbt(project, ["run", "--select", FROM_THE_BLOCKLIST, *flags], quiet=True).ok, name
        rebuilt[name] = project
    moved = fetch(
        rebuilt["incremental"],
        f"select count(*) from identity.int_identity__record_nodes where node_key = '{node}'",
    )
    assert moved == [(0,)]
    for model in GUARDED:
        assert identity_rows(rebuilt["incremental"], model) == identity_rows(rebuilt["full"], model), model
    changed = fetch(
        rebuilt["incremental"],
        """with verdicts as (select * from identity.int_identity__identifier_verdicts)
        select identifier_key from verdicts
        where usability_changed_at = (select max(usability_changed_at) from verdicts)""",
    )
    assert changed == [(node,)]
    # Records whose node stayed but whose customer changed (the cluster lost its anchor or
    # split): customer_records found them through customer_id_assignments.
    placed = "select source_table, record_id, node_key, customer_id from identity.customer_records"
    before = {
        (table, record): (node_key, customer)
        for table, record, node_key, customer in fetch(incremental, placed)
    }
    after = fetch(rebuilt["incremental"], placed)
    assert any(before[(table, record)] == (node_key, customer) for table, record, node_key, customer in after)
    assert any(
        before[(table, record)][0] == node_key and before[(table, record)][1] != customer
        for table, record, node_key, customer in after
    )


def _person_records_written_by_the_last_run(project: Project) -> int:
    newest = f"(select max(_built_at) from {PERSON_RECORDS})"
    return fetch(project, f"select count(*) from {PERSON_RECORDS} where _built_at = {newest}")[0][0]


def _rebuilt_person_records(project: Project, folder: Path) -> list[tuple]:
    folder.mkdir()
    rebuilt = copy_of(project, folder)
    run_or_fail(rebuilt, "--full-refresh", "--select", "int_identity__person_records")
    return identity_rows(rebuilt, "int_identity__person_records")


def test_person_records_rebuild_the_records_typed_since_or_all_when_a_seed_changed(
    warehouses, tmp_path: Path
) -> None:
    """The build after the second delivery rewrote only the person records staging typed
    again; a build with nothing new rewrites none. A blocklist change (an email stopped, then
    freed) and a changed first_name_groups seed each rewrite every record, and the rows
    equal a full rebuild's."""
    _, incremental, _ = warehouses
    total = fetch(incremental, f"select count(*) from {PERSON_RECORDS}")[0][0]
    assert 0 < _person_records_written_by_the_last_run(incremental) < total / 2
    (tmp_path / "edited").mkdir()
    project = copy_of(incremental, tmp_path / "edited")
    guarded = "int_identity__blocklisted_identifiers int_identity__person_records"
    newest = f"select max(_built_at) from {PERSON_RECORDS}"
    before = fetch(project, newest)
    run_or_fail(project, "--select", guarded)
    assert fetch(project, newest) == before, "a build with nothing new rewrote records"

    email = fetch(
        project,
        f"""select email_canonical from {PERSON_RECORDS} where email_canonical is not null
        group by email_canonical order by count(*) desc, email_canonical limit 1""",
    )[0][0]
    carrying = f"select count(*) from {PERSON_RECORDS} where email_canonical = '{email}'"
    carriers = fetch(project, carrying)
    steps = [
        ("stopped", f"insert into identity.identity_blocklist values ('email', 'exact', '{email}', 'test')"),
        ("freed", f"delete from identity.identity_blocklist where pattern = '{email}'"),
        (
            "renamed",
            "update identity.first_name_groups set name_group = 'william-' where name_group = 'william'",
        ),
    ]
    for name, change in steps:
        execute(project, change)
        run_or_fail(project, "--select", guarded)
        assert _person_records_written_by_the_last_run(project) == total, name
        assert fetch(project, carrying) == ([(0,)] if name == "stopped" else carriers), name
        assert identity_rows(project, "int_identity__person_records") == _rebuilt_person_records(
            project, tmp_path / name
        ), name
    grouped = f"select count(*) from {PERSON_RECORDS} where first_name_group = 'william-'"
    assert fetch(project, grouped)[0][0] > 0


def test_identifiers_of_deleted_records_leave_customer_identifiers(warehouses, tmp_path: Path) -> None:
    """Five CRM contacts deleted: the verdicts of their contact ids go, an incremental build of
    customer_identifiers finds those identifiers in the record identifiers' removal log (not
    by looking up every stored identifier) and deletes their rows, as a full rebuild would."""
    _, incremental, _ = warehouses
    (tmp_path / "deleted").mkdir()
    project = copy_of(incremental, tmp_path / "deleted")
    gone_list = delete_crm_contacts(project)
    run_or_fail(project, "--full-refresh", "--select", "base_crm__contacts")
    gone_keys = gone_list.replace("'", "'crm_contact_id:", 1).replace(", '", ", 'crm_contact_id:")
    stored = f"select identifier_key from identity.customer_identifiers where identifier_key in ({gone_keys})"
    assert len(fetch(project, stored)) == 5  # stored before the build
    build_marts(project, command="run")
    log = f"select count(*) - count(record_key) from {RECORD_IDENTIFIERS}__removed"
    assert fetch(project, log) == [(0,)]  # no horizon: the log told which identifiers left
    assert fetch(project, stored) == []
    rebuilt = copy_of(project, tmp_path)
    build_marts(rebuilt, "--full-refresh", command="run")
    assert identity_rows(project, "customer_identifiers") == identity_rows(rebuilt, "customer_identifiers")


REMOVAL_LOG_KEYS = {  # each removal log of the selection: its first group key, null in a horizon
    "identity.int_identity__record_identifiers__removed": "record_key",
    "identity.int_identity__record_nodes__removed": "record_key",
    "identity.int_identity__edges__removed": "record_key",
    "identity.customer_records__removed": "source_table",
    "identity.customer_identifiers__removed": "identifier_key",
    "identity.int_identity__probabilistic_pairs__removed": "left_source_table",
}
KEEP_NO_LOG_ROWS = ["--vars", "{cdp_log_retention_days: 0}"]


def test_pruned_logs_leave_incremental_builds_equal_to_a_full_rebuild(
    warehouses, deliveries: Deliveries, project_root: Path, tmp_path: Path
) -> None:
    """Each write of a log prunes the rows older than cdp_log_retention_days (0 here: every
    earlier run's) and leaves a horizon row. Five CRM contacts are deleted (their verdicts
    and golden records must go) and int_identity__record_identifiers runs twice before its
    readers, so the second run prunes what the first logged for them; then customer_records
    and customer_identifiers likewise. The readers see the horizon and recompute everything,
    and every model equals a full rebuild. Built again keeping no rows, each log keeps only
    its last write's rows, one of them a horizon at most, and the models still equal the
    full rebuild."""
    first, _, _ = warehouses
    (tmp_path / "pruned").mkdir()
    project = copy_of(first, tmp_path / "pruned")
    load_landing(deliveries.second, project.warehouse, raw_tables(project_root))
    gone_list = delete_crm_contacts(project)
    run_or_fail(project, "--full-refresh", "--select", "base_crm__contacts")
    # The readers of record_identifiers' log miss its rows, then those of the marts' logs.
    for writers in ("+int_identity__record_identifiers", "+customer_records +customer_identifiers"):
        for _ in range(2):
            run_or_fail(project, "--select", writers, *KEEP_NO_LOG_ROWS)
    log = f"{RECORD_IDENTIFIERS}__removed"
    assert fetch(project, f"select count(*), count(record_key) from {log}") == [(1, 0)]
    build_marts(project, command="run")
    gone_contacts = f"select * from {VERDICTS} where identifier_value in ({gone_list})"
    assert fetch(project, gone_contacts) == []
    rebuilt = copy_of(project, tmp_path)
    build_marts(rebuilt, "--full-refresh", command="run")
    for keep in ([], KEEP_NO_LOG_ROWS):
        if keep:
            build_marts(project, *keep, command="run")
        for model in IDENTITY_MODELS:
            assert identity_rows(project, model) == identity_rows(rebuilt, model), (model, keep)
        for model in MARTS:
            assert rows(project, model) == rows(rebuilt, model), (model, keep)
    for log, key in REMOVAL_LOG_KEYS.items():
        # Only the last write's rows (one stamp), at most one of them a horizon.
        figures = f"select count(distinct _removed_at), count(*) - count({key}) from {log}"
        assert fetch(project, figures)[0] in ((0, 0), (1, 0), (1, 1)), log
    for log in ("int_identity__same_person_groups__reclustered", "int_identity__components__reclustered"):
        stamps = fetch(project, f"select distinct _reclustered_at from identity.{log} order by 1")
        assert len(stamps) == 1, f"{log} kept rows of earlier runs: {stamps}"


def test_a_negative_log_retention_fails_the_build_with_the_var_named(warehouses, tmp_path: Path) -> None:
    _, incremental, _ = warehouses
    project = copy_of(incremental, tmp_path)
    args = ["run", "--select", "int_identity__record_identifiers", "--vars", "{cdp_log_retention_days: -1}"]
    result = run_dbt(project, args, capture=True)
    assert not result.ok
    assert "cdp_log_retention_days must be a number of days >= 0, got -1" in result.output


BLOCKLIST_RUN = (
    "select run_started_at from main.cdp_model_runs"
    " where model_id = 'model.cdp.int_identity__blocklisted_identifiers'"
)


def test_a_model_writing_nothing_keeps_its_watermark_past_a_pruned_log(warehouses, tmp_path: Path) -> None:
    """The blocklist writes rows only for blocklisted identifiers, so its own rows say little
    of when it last ran. Here they and the record identifiers' log look 40 days old: a build
    with the default retention (30 days) prunes that log, leaving a horizon 30 days back.
    The blocklist's watermark is its last successful run (cdp_model_runs), after the
    horizon, so it stays scoped and rewrites none of its rows; taken from its rows, it would
    match every identifier again and rewrite them all."""
    _, incremental, _ = warehouses
    project = copy_of(incremental, tmp_path)
    last_run = fetch(project, BLOCKLIST_RUN)
    assert len(last_run) == 1
    log = f"{RECORD_IDENTIFIERS}__removed"
    assert fetch(project, f"select count(*) from {log}")[0][0] > 0, "nothing to prune: it would prove nothing"
    execute(project, f"update {BLOCKLISTED} set _built_at = _built_at - interval 40 day")
    execute(project, f"update {log} set _removed_at = _removed_at - interval 40 day")
    run_or_fail(project, "--select", "int_identity__record_identifiers int_identity__blocklisted_identifiers")
    assert fetch(project, f"select count(*) - count(record_key) from {log}") == [(1,)], "no horizon was left"
    assert fetch(project, f"select count(*) from {BLOCKLISTED}")[0][0] > 0
    rewritten = f"select count(*) from {BLOCKLISTED} where _built_at > timestamp '{last_run[0][0]}'"
    assert fetch(project, rewritten) == [(0,)]
    newer = fetch(project, BLOCKLIST_RUN)
    assert len(newer) == 1 and newer[0][0] > last_run[0][0]
