"""Identity accuracy evaluation on hand-made warehouses and truth, with the answers worked out by hand.

Record names below are short: crm/1 is (crm_contacts, '1'), web/1 (web_events, '1'),
shop/1 (shop_customers, '1'). A pair is two distinct records; pairs(n) = n(n-1)/2.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from cdp.cli import app
from cdp.errors import EvaluationError
from cdp.evaluate import (
    IdentityEvaluation,
    OverMergedCustomer,
    SourceEvaluation,
    SplitPerson,
    evaluate_identity,
)

Row = tuple[str, str, str | None]
SOURCES = {"crm": "crm_contacts", "web": "web_events", "shop": "shop_customers"}


def records(**clusters: list[str]) -> list[Row]:
    """(source_table, record_id, cluster) rows from cluster=["crm/1", "web/1"] keyword arguments."""
    rows = []
    for cluster, members in clusters.items():
        for member in members:
            source, record_id = member.split("/")
            rows.append((SOURCES[source], record_id, cluster))
    return rows


def make_warehouse(folder: Path, rows: list[Row]) -> Path:
    """A DuckDB file with identity.customer_records holding ``rows``."""
    path = folder / "wh.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema identity")
        con.execute(
            "create table identity.customer_records (source_table text, record_id text, customer_id text)"
        )
        if rows:
            con.executemany("insert into identity.customer_records values (?, ?, ?)", rows)
    return path


def make_truth(folder: Path, rows: list[Row]) -> Path:
    """A _truth folder with record_truth/part-00000.parquet holding ``rows``, written by DuckDB COPY."""
    truth = folder / "_truth"
    (truth / "record_truth").mkdir(parents=True)
    with duckdb.connect() as con:
        con.execute("create table t (source_table text, record_id text, person_id text)")
        if rows:
            con.executemany("insert into t values (?, ?, ?)", rows)
        con.execute(f"copy t to '{truth / 'record_truth' / 'part-00000.parquet'}' (format parquet)")
    return truth


def evaluate(tmp_path: Path, predicted: list[Row], truth: list[Row], examples: int = 5) -> IdentityEvaluation:
    return evaluate_identity(make_warehouse(tmp_path, predicted), make_truth(tmp_path, truth), examples)


def metrics(result: IdentityEvaluation) -> tuple[float, ...]:
    return (
        result.pairwise_precision,
        result.pairwise_recall,
        result.pairwise_f1,
        result.bcubed_precision,
        result.bcubed_recall,
        result.bcubed_f1,
    )


# p1 = crm/1, shop/1, web/1; p2 = crm/2, web/2; p3 = crm/3
TRUTH = records(
    p1=["crm/1", "shop/1", "web/1"],
    p2=["crm/2", "web/2"],
    p3=["crm/3"],
)
# A takes all of p1 and p2: 5 records.
OVER_MERGED = records(A=["crm/1", "shop/1", "web/1", "crm/2", "web/2"], C=["crm/3"])


def test_perfect_clustering_scores_one_everywhere(tmp_path: Path) -> None:
    predicted = records(A=["crm/1", "shop/1", "web/1"], B=["crm/2", "web/2"], C=["crm/3"])
    result = evaluate(tmp_path, predicted, TRUTH)
    # true pairs = pairs(3) + pairs(2) + pairs(1) = 3 + 1 + 0 = 4, the same 4 predicted, all correct
    assert (result.true_pairs, result.predicted_pairs, result.correct_pairs) == (4, 4, 4)
    assert metrics(result) == (1.0, 1.0, 1.0, 1.0, 1.0, 1.0)
    assert (result.records, result.customers, result.persons) == (6, 3, 3)
    assert (result.records_without_truth, result.records_missing) == (0, 0)
    assert (result.over_merged_customers, result.split_persons) == (0, 0)
    assert (result.over_merged, result.split) == ((), ())


def test_one_over_merge(tmp_path: Path) -> None:
    result = evaluate(tmp_path, OVER_MERGED, TRUTH)
    # cells: (A,p1) = 3, (A,p2) = 2, (C,p3) = 1; customers A = 5, C = 1
    # correct = pairs(3) + pairs(2) = 4; predicted = pairs(5) = 10; true = 3 + 1 = 4
    assert (result.true_pairs, result.predicted_pairs, result.correct_pairs) == (4, 10, 4)
    assert result.pairwise_precision == pytest.approx(0.4)
    assert result.pairwise_recall == 1.0
    assert result.pairwise_f1 == pytest.approx(2 * 0.4 / 1.4)  # 4/7
    # B-cubed precision: 3 records at 3/5, 2 at 2/5, 1 at 1/1 -> (9/5 + 4/5 + 1) / 6 = 18/30 = 0.6
    assert result.bcubed_precision == pytest.approx(0.6)
    assert result.bcubed_recall == 1.0
    assert result.bcubed_f1 == pytest.approx(0.75)  # 2 * 0.6 / 1.6
    assert (result.customers, result.persons) == (2, 3)
    assert (result.over_merged_customers, result.split_persons) == (1, 0)
    assert result.over_merged == (OverMergedCustomer("A", persons=2, records=5),)


def test_one_split(tmp_path: Path) -> None:
    truth = records(p1=["crm/1", "shop/1", "web/1", "web/2"], p2=["crm/2"])
    predicted = records(A=["crm/1", "shop/1"], B=["web/1", "web/2"], C=["crm/2"])
    result = evaluate(tmp_path, predicted, truth)
    # cells: (A,p1) = 2, (B,p1) = 2, (C,p2) = 1; correct = 1 + 1 = 2 = predicted; true = pairs(4) = 6
    assert (result.true_pairs, result.predicted_pairs, result.correct_pairs) == (6, 2, 2)
    assert result.pairwise_precision == 1.0
    assert result.pairwise_recall == pytest.approx(1 / 3)
    assert result.pairwise_f1 == pytest.approx(0.5)  # 2 * (1/3) / (4/3)
    # B-cubed recall: p1's 4 records at 2/4, crm/2 at 1/1 -> (2 + 1) / 5 = 0.6
    assert result.bcubed_precision == 1.0
    assert result.bcubed_recall == pytest.approx(0.6)
    assert result.bcubed_f1 == pytest.approx(0.75)
    assert (result.over_merged_customers, result.split_persons) == (0, 1)
    assert result.split == (SplitPerson("p1", customers=2, records=4),)


def test_examples_are_the_largest_first_and_limited(tmp_path: Path) -> None:
    truth = records(
        p1=["crm/1"], p2=["crm/2"], p3=["crm/3"], p4=["crm/4", "web/4"], p5=["crm/5", "web/5"], p6=["crm/6"]
    )
    # over-merged: A (3 persons, 3 records) and B (2 persons, 4 records); C holds p6 alone
    predicted = records(A=["crm/1", "crm/2", "crm/3"], B=["crm/4", "web/4", "crm/5", "web/5"], C=["crm/6"])
    result = evaluate(tmp_path, predicted, truth, examples=1)
    assert result.over_merged_customers == 2
    assert result.over_merged == (OverMergedCustomer("A", persons=3, records=3),)
    result = evaluate_identity(tmp_path / "wh.duckdb", tmp_path / "_truth", examples=5)
    assert result.over_merged == (
        OverMergedCustomer("A", persons=3, records=3),
        OverMergedCustomer("B", persons=2, records=4),
    )


def test_all_singletons_score_one(tmp_path: Path) -> None:
    result = evaluate(tmp_path, records(A=["crm/1"], B=["crm/2"]), records(p1=["crm/1"], p2=["crm/2"]))
    # no pairs anywhere: pairwise metrics are defined as 1.0, and every cell is its whole cluster
    assert (result.true_pairs, result.predicted_pairs, result.correct_pairs) == (0, 0, 0)
    assert metrics(result) == (1.0, 1.0, 1.0, 1.0, 1.0, 1.0)


def test_predicted_singletons_of_one_person(tmp_path: Path) -> None:
    truth = records(p1=["crm/1", "web/1", "shop/1"])
    result = evaluate(tmp_path, records(A=["crm/1"], B=["web/1"], C=["shop/1"]), truth)
    # predicted pairs 0 -> precision 1.0; true pairs 3, correct 0 -> recall 0.0, F1 0.0
    # B-cubed recall: each record is 1/3 of its person -> 1/3; F1 = 2 * (1/3) / (4/3) = 0.5
    assert (result.true_pairs, result.predicted_pairs, result.correct_pairs) == (3, 0, 0)
    assert metrics(result) == pytest.approx((1.0, 0.0, 0.0, 1.0, 1 / 3, 0.5))
    assert result.split == (SplitPerson("p1", customers=3, records=3),)


def test_one_customer_of_true_singletons(tmp_path: Path) -> None:
    truth = records(p1=["crm/1"], p2=["web/1"], p3=["shop/1"])
    result = evaluate(tmp_path, records(A=["crm/1", "web/1", "shop/1"]), truth)
    # predicted pairs 3, correct 0 -> precision 0.0; true pairs 0 -> recall 1.0; F1 0.0
    # B-cubed precision: each record is 1/3 of its customer -> 1/3; F1 = 0.5
    assert (result.true_pairs, result.predicted_pairs, result.correct_pairs) == (0, 3, 0)
    assert metrics(result) == pytest.approx((0.0, 1.0, 0.0, 1 / 3, 1.0, 0.5))
    assert result.over_merged == (OverMergedCustomer("A", persons=3, records=3),)


def test_records_on_one_side_only_are_counted_not_evaluated(tmp_path: Path) -> None:
    predicted = records(A=["crm/1", "web/1", "web/anon"], B=["crm/2"])
    # crm/3 and web/7 were quarantined; shop/9's table is not in customer_records, so out of scope
    truth = records(p1=["crm/1", "web/1", "shop/9"], p2=["crm/2"], p3=["crm/3", "web/7"])
    result = evaluate(tmp_path, predicted, truth)
    assert (result.records, result.records_without_truth, result.records_missing) == (3, 1, 2)
    # evaluated: (A,p1) = crm/1, web/1 and (B,p2) = crm/2: perfect
    assert (result.customers, result.persons) == (2, 2)
    assert metrics(result) == (1.0, 1.0, 1.0, 1.0, 1.0, 1.0)
    assert result.sources == (
        SourceEvaluation("crm_contacts", 2, records_without_truth=0, records_missing=1, **_perfect()),
        SourceEvaluation("web_events", 1, records_without_truth=1, records_missing=1, **_perfect()),
    )


def _perfect() -> dict[str, float]:
    return {"pairwise_precision": 1.0, "pairwise_recall": 1.0}


def test_per_source_pairs_are_those_involving_its_records(tmp_path: Path) -> None:
    result = evaluate(tmp_path, OVER_MERGED, TRUTH)
    # crm: records crm/1 (A,p1), crm/2 (A,p2), crm/3 (C,p3).
    # predicted pairs with a crm record in A (5 records, 2 crm): pairs(5) - pairs(3) = 7
    # correct: (A,p1) 3 records, 1 crm: 3 - 1 = 2; (A,p2) 2 records, 1 crm: 1 - 0 = 1 -> 3
    # true: p1 3 - 1 = 2, p2 1 - 0 = 1 -> 3.  So precision 3/7, recall 1.0
    crm, shop, web = result.sources
    assert (crm.source_table, crm.records) == ("crm_contacts", 3)
    assert crm.pairwise_precision == pytest.approx(3 / 7)
    assert crm.pairwise_recall == 1.0
    # shop/1 is alone in p1's cell of 3 with 2 others: correct 2; in A with 4 others: predicted 4
    assert (shop.source_table, shop.records, shop.pairwise_precision) == ("shop_customers", 1, 0.5)
    # web: web/1 (A,p1), web/2 (A,p2): predicted pairs(5) - pairs(3) = 7; correct (3-1) + (1-0) = 3
    assert (web.source_table, web.records) == ("web_events", 2)
    assert web.pairwise_precision == pytest.approx(3 / 7)


def test_exact_duplicate_rows_count_once(tmp_path: Path) -> None:
    predicted = records(A=["crm/1", "crm/1", "web/1"])
    truth = records(p1=["crm/1", "web/1", "web/1"])
    result = evaluate(tmp_path, predicted, truth)
    assert (result.records, result.true_pairs, result.predicted_pairs) == (2, 1, 1)


# -- errors -------------------------------------------------------------------------------------


def test_missing_warehouse_says_to_build(tmp_path: Path) -> None:
    truth = make_truth(tmp_path, TRUTH)
    with pytest.raises(EvaluationError, match=r"wh.duckdb does not exist: run `cdp load` and `cdp build`"):
        evaluate_identity(tmp_path / "wh.duckdb", truth)


def test_missing_identity_table_says_to_build(tmp_path: Path) -> None:
    duckdb.connect(str(tmp_path / "wh.duckdb")).close()
    truth = make_truth(tmp_path, TRUTH)
    with pytest.raises(EvaluationError, match=r"has no table identity.customer_records: run `cdp build`"):
        evaluate_identity(tmp_path / "wh.duckdb", truth)


def test_missing_column_is_named(tmp_path: Path) -> None:
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        con.execute("create schema identity")
        con.execute("create table identity.customer_records (source_table text, record_id text, cid text)")
    truth = make_truth(tmp_path, TRUTH)
    with pytest.raises(
        EvaluationError, match=r"identity.customer_records in .* lacks column\(s\) customer_id"
    ):
        evaluate_identity(tmp_path / "wh.duckdb", truth)


def test_missing_truth_folder_says_to_generate(tmp_path: Path) -> None:
    warehouse = make_warehouse(tmp_path, OVER_MERGED)
    with pytest.raises(
        EvaluationError, match=r"ground truth folder .*nope does not exist: run `cdp generate"
    ):
        evaluate_identity(warehouse, tmp_path / "nope")


def test_truth_folder_without_record_truth(tmp_path: Path) -> None:
    warehouse = make_warehouse(tmp_path, OVER_MERGED)
    (tmp_path / "_truth").mkdir()
    with pytest.raises(EvaluationError, match=r"record_truth has no .parquet files"):
        evaluate_identity(warehouse, tmp_path / "_truth")


@pytest.mark.parametrize(
    ("predicted", "truth", "message"),
    [
        (
            [("crm_contacts", "1", "A"), ("crm_contacts", "1", "B")],
            TRUTH,
            r"identity.customer_records: 1 record\(s\) have more than one customer_id",
        ),
        ([("crm_contacts", "1", None)], TRUTH, r"identity.customer_records: 1 row\(s\) have no customer_id"),
        (
            OVER_MERGED,
            [("crm_contacts", "1", "p1"), ("crm_contacts", "1", "p2")],
            r"record_truth/\*\.parquet: 1 record\(s\) have more than one person_id",
        ),
        ([], TRUTH, r"identity.customer_records in .* is empty: run `cdp load` and `cdp build`"),
        (
            records(A=["crm/8", "web/8"]),
            TRUTH,
            r"none of the 2 records of identity.customer_records in .* is in .*record_truth",
        ),
    ],
)
def test_unusable_inputs_are_explained(
    tmp_path: Path, predicted: list[Row], truth: list[Row], message: str
) -> None:
    with pytest.raises(EvaluationError, match=message):
        evaluate(tmp_path, predicted, truth)


# -- CLI ----------------------------------------------------------------------------------------


def run_cli(tmp_path: Path, project_root: Path, *args: str) -> tuple[int, str, str]:
    warehouse = make_warehouse(tmp_path, OVER_MERGED)
    truth = make_truth(tmp_path, TRUTH)
    common = ["--project-dir", str(project_root), "--warehouse", str(warehouse), "--truth", str(truth)]
    result = CliRunner().invoke(app, ["evaluate", *common, *args])
    return result.exit_code, result.stdout, result.stderr


def test_cli_json(tmp_path: Path, project_root: Path) -> None:
    code, out, _ = run_cli(tmp_path, project_root, "--json")
    assert code == 0
    data = json.loads(out)
    assert (data["records"], data["true_pairs"], data["predicted_pairs"], data["correct_pairs"]) == (
        6,
        4,
        10,
        4,
    )
    assert data["pairwise_precision"] == pytest.approx(0.4)
    assert data["over_merged"] == [{"customer_id": "A", "persons": 2, "records": 5}]
    assert [s["source_table"] for s in data["sources"]] == ["crm_contacts", "shop_customers", "web_events"]


def test_cli_tables(tmp_path: Path, project_root: Path) -> None:
    code, out, _ = run_cli(tmp_path, project_root)
    assert code == 0
    assert "pairwise │ 0.4000    │ 1.0000 │ 0.5714" in out
    assert "B-cubed  │ 0.6000    │ 1.0000 │ 0.7500" in out
    assert "1 over-merged customers" in out
    assert "│ A           │ 2       │ 5       │" in out


def test_cli_precision_gate_fails_below(tmp_path: Path, project_root: Path) -> None:
    code, _, err = run_cli(tmp_path, project_root, "--json", "--min-precision", "0.5")
    assert code == 1
    assert err == "error: pairwise precision 0.4000 is below --min-precision 0.5\n"


def test_cli_gates_pass_at_equality(tmp_path: Path, project_root: Path) -> None:
    code, _, err = run_cli(tmp_path, project_root, "--min-precision", "0.4", "--min-recall", "1.0")
    assert (code, err) == (0, "")


def test_cli_default_truth_is_in_the_project(tmp_path: Path) -> None:
    (tmp_path / "dbt_project.yml").write_text("name: x\n")
    make_warehouse(tmp_path, OVER_MERGED)
    make_truth(tmp_path / "data" / "landing", TRUTH)  # -> data/landing/_truth
    result = CliRunner().invoke(
        app, ["evaluate", "--project-dir", str(tmp_path), "--warehouse", "wh.duckdb", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["correct_pairs"] == 4


def test_cli_error_is_one_line_and_exit_code_1(tmp_path: Path, project_root: Path) -> None:
    truth = make_truth(tmp_path, TRUTH)
    args = ["evaluate", "--warehouse", str(tmp_path / "wh.duckdb"), "--truth", str(truth)]
    completed = subprocess.run(
        [sys.executable, "-m", "cdp.cli", *args],
        cwd=project_root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 1
    assert completed.stderr.startswith(
        f"error: warehouse {tmp_path / 'wh.duckdb'} does not exist: run `cdp load`"
    )
    assert len(completed.stderr.strip().splitlines()) == 1


def test_anonymous_records_are_left_out_unless_asked_for(tmp_path: Path) -> None:
    # Person P: crm/1, shop/1 and web/1 (web/1 anonymous: a device P never logged in on).
    # Predicted: crm/1 + shop/1 together, web/1 alone.
    predicted = records(c1=["crm/1", "shop/1"], c2=["web/1"])
    warehouse = make_warehouse(tmp_path, predicted)
    truth = tmp_path / "_truth"
    (truth / "record_truth").mkdir(parents=True)
    with duckdb.connect() as con:
        con.execute(
            "create table t as select * from (values ('crm_contacts', '1', 'P', 'false'), "
            "('shop_customers', '1', 'P', 'false'), ('web_events', '1', 'P', 'true')) "
            "as v(source_table, record_id, person_id, anonymous)"
        )
        con.execute(f"copy t to '{truth / 'record_truth' / 'part-00000.parquet'}' (format parquet)")
    linkable = evaluate_identity(warehouse, truth)
    # Without web/1: 1 true pair (crm/1, shop/1), predicted and correct.
    assert (linkable.records, linkable.records_anonymous, linkable.records_without_truth) == (2, 1, 0)
    assert (linkable.pairwise_precision, linkable.pairwise_recall) == (1.0, 1.0)
    everything = evaluate_identity(warehouse, truth, include_anonymous=True)
    # With web/1: 3 true pairs, 1 predicted and correct -> recall 1/3.
    assert (everything.records, everything.records_anonymous) == (3, 0)
    assert everything.pairwise_recall == pytest.approx(1 / 3)


def test_ambiguous_records_are_left_out_when_asked(tmp_path: Path) -> None:
    # P and Q share the inbox h@x; crm/1 (P) and crm/2 (Q) carry it and their own phone;
    # web/1 (Q's newsletter click, say) carries only the inbox. Predicted: web/1 with P.
    predicted = records(c1=["crm/1", "web/1"], c2=["crm/2"])
    truth = [("crm_contacts", "1", "P"), ("web_events", "1", "Q"), ("crm_contacts", "2", "Q")]
    warehouse = make_warehouse(tmp_path, predicted)
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "create table identity.int_identity__record_identifiers as select * from (values "
            "('crm_contacts', '1', 'email:h@x'), ('crm_contacts', '1', 'phone:+1'), "
            "('crm_contacts', '2', 'email:h@x'), ('crm_contacts', '2', 'phone:+2'), "
            "('web_events', '1', 'email:h@x')) as v(source_table, record_id, identifier_key)"
        )
    truth_dir = make_truth(tmp_path, truth)
    everything = evaluate_identity(warehouse, truth_dir)
    # 1 predicted pair (crm/1, web/1), wrong; 1 true pair (web/1, crm/2), missed.
    assert (everything.pairwise_precision, everything.pairwise_recall) == (0.0, 0.0)
    clear = evaluate_identity(warehouse, truth_dir, exclude_ambiguous=True)
    # web/1 only carries the shared inbox: left out; crm/1 and crm/2 have a phone of their own.
    assert (clear.records, clear.records_ambiguous) == (2, 1)
    assert (clear.pairwise_precision, clear.pairwise_recall) == (1.0, 1.0)


def test_excluding_ambiguous_records_needs_the_identity_models(tmp_path: Path) -> None:
    warehouse = make_warehouse(tmp_path, records(c1=["crm/1"]))
    with pytest.raises(
        EvaluationError, match="int_identity__record_identifiers, which --exclude-ambiguous reads"
    ):
        evaluate_identity(
            warehouse, make_truth(tmp_path, [("crm_contacts", "1", "P")]), exclude_ambiguous=True
        )
