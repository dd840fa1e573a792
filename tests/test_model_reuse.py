"""Stored statistical models (Splink, BG/NBD and Gamma-Gamma) are kept by builds without
--full-refresh while the data changed little and their settings did not; refitted otherwise."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
import splink

from cdp.dbt_runner import run_dbt
from cdp.identity import probabilistic
from cdp.model_reuse import growth_setting, within_growth
from cdp.project import Project

from .test_quality import copy_of, execute

FIT_MODELS = ["int_identity__splink_model", "int_customer__prediction_fit"]


@pytest.mark.parametrize(
    ("fitted_on", "available", "growth", "reuse"),
    [
        (1000, 1000, 0.1, True),
        (1000, 1099, 0.1, True),
        (1000, 1100, 0.1, False),  # grown by the whole share: refit
        (1000, 899, 0.1, False),  # shrunk by more than it
        (1000, 1000, 0.0, False),  # 0: refit on every build
        (0, 0, 0.5, False),  # nothing was fitted
    ],
)
def test_within_growth(fitted_on: int, available: int, growth: float, reuse: bool) -> None:
    assert within_growth(fitted_on, available, growth) is reuse


@pytest.mark.parametrize("bad", ["-0.1", "1.5", "ten percent", None])
def test_a_growth_outside_0_1_is_refused_by_name(bad: object) -> None:
    with pytest.raises(
        ValueError, match=r"cdp_customer.predictive.refit_after_growth: must be a share in \[0, 1\]"
    ):
        growth_setting(bad, "cdp_customer.predictive.refit_after_growth")


def model_json(**changes: object) -> str:
    """A trained model's JSON as far as its specification goes: this version's, or with
    ``changes`` to it."""
    settings = probabilistic.settings()
    rules = [
        rule.get_blocking_rule("duckdb").blocking_rule_sql
        for rule in settings["blocking_rules_to_generate_predictions"]
    ]
    model = {
        "blocking_rules_to_generate_predictions": [
            {"blocking_rule": rule, "sql_dialect": "duckdb"} for rule in rules
        ],
        "comparisons": settings["comparisons"],
        **changes,
    }
    return json.dumps(model)


def stored_model(**changes: object) -> pa.Table:
    row = {
        "model_name": probabilistic.MODEL_NAME,
        "model_json": model_json(),
        "seed": 42,
        "person_records": 2000,
        "training_records": 2000,
        "crm_contacts_records": 1000,
        "shop_customers_records": 1000,
        "trained_on": "abc",
        "probability_two_random_records_match": 0.001,
        "comparisons": "first_name",
        "splink_version": splink.__version__,
    }
    row.update(changes)
    return pa.Table.from_pylist([{k: v for k, v in row.items() if v is not None}])


@pytest.mark.parametrize(
    ("changes", "records", "reuse"),
    [
        ({}, 2100, True),
        ({}, 2300, False),  # 15% more person records
        ({"seed": 7}, 2000, False),  # another seed configured
        ({"person_records": 5000, "training_records": 5000}, 5000, False),  # bound now 3000
        ({"splink_version": "4.0.0"}, 2000, False),
        ({"model_name": None}, 2000, False),  # stored before the table had model_name
        # trained before the birth date alone stopped being a blocking rule
        (
            {
                "model_json": model_json(
                    blocking_rules_to_generate_predictions=[
                        {"blocking_rule": 'l."date_of_birth" = r."date_of_birth"'}
                    ]
                )
            },
            2000,
            False,
        ),
        ({"model_json": model_json(comparisons=probabilistic.settings()["comparisons"][:-1])}, 2000, False),
    ],
)
def test_the_stored_splink_model_is_kept_only_while_it_still_fits(changes, records: int, reuse: bool) -> None:
    stored = stored_model(**changes)
    assert probabilistic.stored_model_still_fits(stored, records, 42, 3000, 0.1) is reuse


def test_summary_columns_are_the_stored_rows_columns() -> None:
    assert set(stored_model().column_names) == probabilistic.SUMMARY_COLUMNS


@pytest.fixture
def warehouse_copy(built: Project, tmp_path: Path) -> Project:
    copy = copy_of(built, tmp_path)
    execute(copy, "update identity.int_identity__splink_model set trained_on = 'stored'")  # marks what
    execute(copy, "update customer.int_customer__prediction_fit set log_likelihood = -1")  # was stored
    return copy


def stored(project: Project) -> tuple[str, set[float]]:
    """(the Splink model's trained_on, the fits' log-likelihoods)."""
    with duckdb.connect(str(project.warehouse), read_only=True) as con:
        (trained_on,) = con.execute("select trained_on from identity.int_identity__splink_model").fetchone()
        fits = con.execute("select log_likelihood from customer.int_customer__prediction_fit").fetchall()
    return trained_on, {row[0] for row in fits}


def run_fits(project: Project, *flags: str) -> None:
    result = run_dbt(project, ["run", "--select", *FIT_MODELS, *flags], quiet=True)
    assert result.ok, dict(result.statuses)


def test_a_build_without_full_refresh_keeps_the_stored_models(warehouse_copy: Project) -> None:
    run_fits(warehouse_copy)
    assert stored(warehouse_copy) == ("stored", {-1.0})


def test_a_splink_model_of_another_specification_is_retrained(
    warehouse_copy: Project, built: Project
) -> None:
    old_rules = [{"blocking_rule": 'l."date_of_birth" = r."date_of_birth"', "sql_dialect": "duckdb"}]
    patch = json.dumps({"blocking_rules_to_generate_predictions": old_rules})
    execute(
        warehouse_copy,
        "update identity.int_identity__splink_model"
        f" set model_json = json_merge_patch(model_json, '{patch}')",
    )
    run_fits(warehouse_copy)
    assert stored(warehouse_copy)[0] == stored(built)[0]  # retrained on the same records, not kept


def test_fits_of_another_as_of_date_are_refitted(warehouse_copy: Project, built: Project) -> None:
    execute(warehouse_copy, "update customer.int_customer__prediction_fit set as_of_date = date '2001-02-03'")
    run_fits(warehouse_copy)
    assert stored(warehouse_copy) == ("stored", stored(built)[1])


def test_full_refresh_refits_both_to_what_the_data_gives(warehouse_copy: Project, built: Project) -> None:
    run_fits(warehouse_copy, "--full-refresh")
    assert stored(warehouse_copy) == stored(built)  # the same fingerprint and fits as the first build
    assert stored(built)[0] != "stored" and -1.0 not in stored(built)[1]
