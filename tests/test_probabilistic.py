"""Probabilistic identity matching (Splink) on the generated sample, against ground truth."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb
import pytest

from cdp.dbt_runner import run_dbt
from cdp.generate import GenerationResult
from cdp.identity import pair_scoring, probabilistic
from cdp.project import Project

from .conftest import PROJECT_ROOT
from .identity_fixtures import identity_config
from .test_quality import copy_of, execute, fetch

PAIRS = "identity.int_identity__probabilistic_pairs"
MODEL = "identity.int_identity__splink_model"


@pytest.fixture
def con(built: Project, sample: GenerationResult) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(built.warehouse), read_only=True)
    for table in ("record_truth", "people"):
        con.execute(f"create temp view {table} as select * from '{sample.out_dir}/_truth/{table}/*.parquet'")
    con.execute(f"""
        create temp view all_judged_pairs as
        select p.*, lt.person_id as left_person_id, rt.person_id as right_person_id,
            lp.household_id as left_household_id, rp.household_id as right_household_id
        from {PAIRS} p
        join record_truth lt on lt.source_table = p.left_source_table and lt.record_id = p.left_record_id
        join record_truth rt on rt.source_table = p.right_source_table and rt.record_id = p.right_record_id
        join people lp on lp.person_id = lt.person_id
        join people rp on rp.person_id = rt.person_id""")
    # The table also keeps lower-scored pairs for max_partners; edges are those at or above this.
    threshold = identity_config(PROJECT_ROOT)["probabilistic"]["match_probability"]
    con.execute(
        "create temp view judged_pairs as select * from all_judged_pairs "
        f"where match_probability >= {threshold}"
    )
    return con


def _one(con: duckdb.DuckDBPyConnection, sql: str):
    return con.execute(sql).fetchall()[0][0]


def _records(warehouse: Path):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        people = con.sql("select * from identity.int_identity__person_records")
        return probabilistic.person_records(
            [(table, people.filter(f"source_table = '{table}'")) for table in probabilistic.SOURCE_TABLES]
        )


def test_every_pair_has_ground_truth(con) -> None:
    assert _one(con, f"select count(*) from {PAIRS}") == _one(con, "select count(*) from all_judged_pairs")


def test_pairs_are_precise(con) -> None:
    pairs, correct = con.execute(
        "select count(*), count(*) filter (where left_person_id = right_person_id) from judged_pairs"
    ).fetchall()[0]
    assert pairs > 500
    assert correct / pairs >= 0.99, f"precision {correct / pairs:.4f} ({pairs - correct} wrong of {pairs})"


def test_pairs_find_most_same_person_pairs_the_rules_can_reach(con) -> None:
    """Recall over pairs of the same person's CRM contacts and shop accounts."""
    true_pairs = _one(
        con,
        """
        with r as (
            select source_table, record_id, person_id from record_truth
            where (source_table = 'crm_contacts'
                and record_id in (select contact_id from staging.stg_crm__contacts))
               or (source_table = 'shop_customers'
                and record_id in (select customer_id from staging.stg_shop__customers))
        )
        select count(*) from r a join r b
            on a.person_id = b.person_id and (a.source_table, a.record_id) < (b.source_table, b.record_id)""",
    )
    found = _one(con, "select count(*) from judged_pairs where left_person_id = right_person_id")
    assert found / true_pairs >= 0.85, f"recall {found / true_pairs:.3f}"


def test_household_partners_are_not_matched(con) -> None:
    """Partners share an email and an address (and often a last name) but are two people."""
    households = _one(
        con,
        "select count(*) from (select household_id from people group by 1 having count(*) > 1)",
    )
    assert households > 10  # the sample has partners to confuse
    partner_pairs = _one(
        con,
        """select count(*) from judged_pairs
           where left_person_id <> right_person_id and left_household_id = right_household_id""",
    )
    assert partner_pairs <= 1


def test_links_contacts_deterministic_rules_cannot(con) -> None:
    """CRM contacts with neither email nor phone share no identifier with the person's shop
    account; only names and address link them."""
    linked, correct = con.execute(
        """
        select count(*), count(*) filter (where left_person_id = right_person_id)
        from judged_pairs p
        join staging.stg_crm__contacts c on c.contact_id = p.left_record_id
        where p.left_source_table = 'crm_contacts' and p.right_source_table = 'shop_customers'
            and c.email_canonical is null and c.phone_e164 is null""",
    ).fetchall()[0]
    assert linked >= 5
    assert correct == linked


def test_evidence_names_every_comparison(con) -> None:
    evidence = _one(con, f"select evidence from {PAIRS} order by left_record_id, right_record_id limit 1")
    names = [part.split(": ")[0] for part in evidence.split(", ")]
    assert names == ["first_name", "last_name", "dob", "address", "email", "phone"]


def test_stored_model_is_the_settings_with_trained_parameters(con, sample: GenerationResult) -> None:
    model_json, seed, available, records, trained_on = con.execute(
        f"select model_json, seed, person_records, training_records, trained_on from {MODEL}"
    ).fetchall()[0]
    model = json.loads(model_json)
    assert seed == 42
    assert model["link_type"] == "dedupe_only"
    assert 0 < model["probability_two_random_records_match"] < 0.01
    for comparison in model["comparisons"]:
        for level in comparison["comparison_levels"]:
            if not level.get("is_null_level"):
                assert level.get("m_probability") is not None, (comparison["output_column_name"], level)
                assert level.get("u_probability") is not None, (comparison["output_column_name"], level)
    assert records == _one(
        con,
        "select (select count(*) from staging.stg_crm__contacts)"
        " + (select count(*) from staging.stg_shop__customers)",
    )
    assert available == records  # fewer than training_max_records: no sample
    assert len(trained_on) == 64


def test_retraining_on_the_same_data_is_byte_identical(built: Project) -> None:
    def stored() -> tuple[str, str]:
        with duckdb.connect(str(built.warehouse), read_only=True) as con:
            return con.execute(f"select model_json, trained_on from {MODEL}").fetchall()[0]

    before = stored()
    result = run_dbt(built, ["run", "--select", "int_identity__splink_model"], quiet=True)
    assert result.ok, dict(result.statuses)
    assert stored() == before

    records = _records(built.warehouse)
    assert probabilistic.fingerprint(records) == before[1]
    assert probabilistic.model_json(probabilistic.train(records, seed=42)) == before[0]


def test_person_records_are_counted_without_reading_them(built: Project) -> None:
    """The count the stored model's reuse is decided on is the records' own."""
    with duckdb.connect(str(built.warehouse), read_only=True) as con:
        people = con.sql("select * from identity.int_identity__person_records")
        sources = [
            (table, people.filter(f"source_table = '{table}'")) for table in probabilistic.SOURCE_TABLES
        ]
        counted = probabilistic.count_person_records(sources)
    assert counted > 0
    assert counted == _records(built.warehouse).num_rows


def test_training_sample_is_seeded_sorted_and_bounded(built: Project) -> None:
    records = _records(built.warehouse)
    assert probabilistic.training_sample(records, records.num_rows, seed=42) is records
    sample = probabilistic.training_sample(records, 1_000, seed=42)
    ids = sample.column("unique_id").to_pylist()
    assert len(ids) == 1_000
    assert ids == sorted(ids)
    assert set(ids) <= set(records.column("unique_id").to_pylist())
    assert probabilistic.training_sample(records, 1_000, seed=42).equals(sample)
    assert probabilistic.training_sample(records, 1_000, seed=43).column("unique_id").to_pylist() != ids
    # Uniform, not the first 1,000 by key: both sources are in it, near their share.
    crm_share = records.column("source_table").to_pylist().count("crm_contacts") / records.num_rows
    assert abs(sample.column("source_table").to_pylist().count("crm_contacts") / 1_000 - crm_share) < 0.06


def test_the_model_trains_on_a_sample_beyond_training_max_records(built: Project, tmp_path: Path) -> None:
    project = copy_of(built, tmp_path)
    config = identity_config(PROJECT_ROOT)
    config["probabilistic"]["training_max_records"] = 1_000
    vars_ = json.dumps({"cdp_identity": config})
    result = run_dbt(project, ["run", "--select", "int_identity__splink_model", "--vars", vars_], quiet=True)
    assert result.ok, dict(result.statuses)
    with duckdb.connect(str(project.warehouse), read_only=True) as con:
        row = con.execute(
            f"select person_records, training_records, crm_contacts_records + shop_customers_records,"
            f" trained_on from {MODEL}"
        ).fetchall()[0]
    records = _records(project.warehouse)
    sample = probabilistic.training_sample(records, 1_000, seed=42)
    assert row == (records.num_rows, 1_000, 1_000, probabilistic.fingerprint(sample))


def test_a_too_small_training_max_records_is_refused_by_name(built: Project, tmp_path: Path) -> None:
    config = identity_config(PROJECT_ROOT)
    config["probabilistic"]["training_max_records"] = 10
    result = run_dbt(
        copy_of(built, tmp_path),
        ["run", "--select", "int_identity__splink_model", "--vars", json.dumps({"cdp_identity": config})],
        capture=True,
    )
    assert not result.ok
    assert "cdp_identity.probabilistic.training_max_records: must be a whole number >= 1000, got 10" in (
        result.output
    )


def _identity_models(built: Project, *extra: str) -> set[str]:
    args = ["--quiet", "ls", "--resource-type", "model", "--select", "intermediate.identity"]
    result = run_dbt(built, [*args, "--output", "name", *extra], capture=True)
    assert result.ok, result.output
    return set(result.output.split())


def test_models_are_disabled_when_probabilistic_matching_is_off(built: Project) -> None:
    splink_models = {"int_identity__splink_model", "int_identity__probabilistic_pairs"}
    assert splink_models <= _identity_models(built)
    config = identity_config(built.root)
    config["probabilistic"]["enabled"] = False
    without = _identity_models(built, "--vars", json.dumps({"cdp_identity": config}))
    assert "int_identity__edges" in without
    assert not splink_models & without


def test_nicknames_match_their_formal_names(con) -> None:
    """Bob / Robert: the seed first_name_groups makes them one name, and the pairs are right."""
    pairs, correct = con.execute(
        "select count(*), count(*) filter (where left_person_id = right_person_id) from judged_pairs "
        "where evidence like 'first_name: nickname%'"
    ).fetchall()[0]
    assert pairs >= 5
    assert correct == pairs


PEOPLE = "identity.int_identity__person_records"
SCORED = "identity.int_identity__probabilistic_pairs__scored_records"
SCORING = "identity.int_identity__probabilistic_pairs__scoring"
PAIR_KEYS = "left_source_table || '|' || left_record_id, right_source_table || '|' || right_record_id"


def _run_pairs(project: Project, *flags: str) -> list[tuple]:
    result = run_dbt(project, ["run", "--select", "int_identity__probabilistic_pairs", *flags], quiet=True)
    assert result.ok, dict(result.statuses)
    return fetch(project, f"select * exclude (_built_at) from {PAIRS} order by all")


def _rescored(project: Project) -> set[str]:
    return {row[0] for row in fetch(project, f"select unique_id from {SCORED} where rescored")}


def _change_paired_records(project: Project) -> set[str]:
    """Of the records that have pairs, 10 change (their pairs must go), 10 go, 10 come again as
    new copies. Returns the unique_id of those changed and gone."""
    key = "source_table || '|' || record_id"
    execute(
        project,
        f"""
        create table picked as
        select {key} as key, row_number() over (order by {key}) as n from {PEOPLE}
        where {key} in (select unnest([{PAIR_KEYS}]) from {PAIRS});
        update {PEOPLE} set first_name = 'Zelda', date_of_birth = date '1901-01-01'
        where {key} in (select key from picked where n <= 10);
        insert into {PEOPLE} by name
        select * replace (record_id || '-copy' as record_id) from {PEOPLE}
        where {key} in (select key from picked where n between 11 and 20);
        delete from {PEOPLE} where {key} in (select key from picked where n between 21 and 30);
        """,
    )
    changed = fetch(project, "select key from picked where n <= 10 or n between 21 and 30")
    execute(project, "drop table picked")
    return {row[0] for row in changed}


def test_an_incremental_build_stamps_the_pairs_it_scores_and_logs_those_it_drops(
    built: Project, tmp_path: Path
) -> None:
    """The pairs of rescored records carry the build's stamp, the others keep theirs; the
    stored pairs of changed and gone records are in the removal log, which a full scoring
    empties."""
    project = copy_of(built, tmp_path)
    _run_pairs(project)
    stamps = f"select {PAIR_KEYS}, _built_at from {PAIRS}"
    before = {row[:2]: row[2] for row in fetch(project, stamps)}
    changed = _change_paired_records(project)
    _run_pairs(project)
    after = {row[:2]: row[2] for row in fetch(project, stamps)}
    rescored = _rescored(project)
    latest = max(after.values())
    assert latest > max(before.values())
    new = {pair for pair, stamp in after.items() if stamp == latest}
    assert new and new == {pair for pair in after if set(pair) & rescored}
    assert all(after[pair] == before[pair] for pair in set(after) - new)
    log = f"select {PAIR_KEYS}, _removed_at from {PAIRS}__removed"
    logged = fetch(project, log)
    assert {row[2] for row in logged} == {latest}
    assert {row[:2] for row in logged} == {pair for pair in before if set(pair) & changed}
    _run_pairs(project, "--full-refresh")
    assert fetch(project, log) == []


def test_an_incremental_build_scores_only_changed_records_and_equals_a_full_scoring(
    built: Project, tmp_path: Path
) -> None:
    project = copy_of(built, tmp_path)
    _run_pairs(project)
    assert _rescored(project) == set()
    _change_paired_records(project)
    incremental = _run_pairs(project)
    rescored = _rescored(project)
    assert len(rescored) == 20
    assert sum(1 for key in rescored if key.endswith("-copy")) == 10
    assert _run_pairs(project, "--full-refresh") == incremental
    copies = fetch(
        project,
        f"select count(*) from {PAIRS} where left_record_id like '%-copy' or right_record_id like '%-copy'",
    )
    assert copies[0][0] >= 10  # each copy pairs with at least its original: new records were scored
    assert _rescored(project) == {row[0] for row in fetch(project, f"select unique_id from {SCORED}")}


def test_a_state_hashed_the_earlier_way_is_scored_anew(built: Project, tmp_path: Path) -> None:
    """The state of an earlier version (record_hash an MD5 text, scored_with without the way
    records are hashed, both in the state table, no scoring table) is not compared with this
    version's 64-bit hashes: every record is scored again, giving the pairs of a full scoring."""
    project = copy_of(built, tmp_path)
    expected = _run_pairs(project)
    (model_json,) = fetch(project, "select model_json from identity.int_identity__splink_model")[0]
    threshold = 0.5  # min(match_probability, same_person_probability) of dbt_project.yml
    earlier_key = hashlib.sha256(f"{model_json}\n{threshold!r}".encode()).hexdigest()
    execute(
        project,
        f"create or replace table {SCORED} as select unique_id, md5(unique_id) as record_hash,"
        f" false as rescored, '{earlier_key}' as scored_with,"
        f" (select pairs_digest from {SCORING}) as pairs_digest from {SCORED};"
        f" drop table {SCORING}",
    )
    assert _run_pairs(project) == expected
    assert fetch(project, f"select count(*) from {SCORING}") == [(1,)]
    assert len(_rescored(project)) == fetch(project, f"select count(*) from {PEOPLE}")[0][0]


def test_a_change_to_how_records_are_hashed_changes_what_pairs_were_scored_with(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The state's key covers the hashing SQL itself: a state hashed another way is never
    compared with this one's hashes (which would rescore nothing, or everything, silently)."""
    model_json, thresholds = '{"link_type": "dedupe_only"}', (0.5, 0.9)
    current = pair_scoring.scored_with(model_json, thresholds)
    assert pair_scoring.scored_with(model_json, thresholds) == current
    monkeypatch.setattr(pair_scoring, "_record_hash", lambda: "hash(struct_pack(email := email))")
    assert pair_scoring.scored_with(model_json, thresholds) != current


def test_either_threshold_the_pairs_are_read_with_changes_what_they_were_scored_with() -> None:
    """A new same_person_probability keeps the lower threshold (match_probability) but scores
    every pair anew, so its readers see every pair newer than their last build."""
    model_json = '{"link_type": "dedupe_only"}'
    current = pair_scoring.scored_with(model_json, (0.5, 0.9))
    assert pair_scoring.scored_with(model_json, (0.5, 0.8)) != current
    assert pair_scoring.scored_with(model_json, (0.4, 0.9)) != current


def test_record_hashes_are_signed_bigints_every_target_can_store(built: Project) -> None:
    """Postgres has no unsigned 64-bit type and Spark takes no uint64 from Arrow: the state
    cdp.python_models writes to those targets must hold a signed bigint."""
    with duckdb.connect(str(built.warehouse), read_only=True) as con:
        schema, table = SCORED.split(".")
        (data_type,) = con.execute(
            "select data_type from information_schema.columns"
            " where table_schema = ? and table_name = ? and column_name = 'record_hash'",
            [schema, table],
        ).fetchone()
        assert data_type == "BIGINT"
        assert con.execute(f"select count(*) from {SCORED} where record_hash < 0").fetchone()[0] > 0


def test_a_new_threshold_rescores_every_record(built: Project, tmp_path: Path) -> None:
    project = copy_of(built, tmp_path)
    _run_pairs(project)
    config = identity_config(PROJECT_ROOT)
    config["probabilistic"]["match_probability"] = 0.2
    config["probabilistic"]["same_person_probability"] = 0.2
    pairs = _run_pairs(project, "--vars", json.dumps({"cdp_identity": config}))
    assert len(_rescored(project)) == fetch(project, f"select count(*) from {PEOPLE}")[0][0]
    assert min(row[4] for row in pairs) < 0.5  # the lower threshold's pairs are there


def test_a_build_that_changed_most_records_scores_them_all(built: Project, tmp_path: Path) -> None:
    project = copy_of(built, tmp_path)
    _run_pairs(project)
    execute(project, f"update {PEOPLE} set city = 'Moved' where hash(record_id) % 10 < 6")
    pairs = _run_pairs(project)
    assert len(_rescored(project)) == fetch(project, f"select count(*) from {PEOPLE}")[0][0]
    assert _run_pairs(project, "--full-refresh") == pairs


def test_blocking_columns_are_read_from_the_model_and_refused_unless_equalities() -> None:
    model = probabilistic.settings()
    model["blocking_rules_to_generate_predictions"] = [
        {"blocking_rule": '(l."postcode" = r."postcode") AND (l."last_name" = r."last_name")'},
        {"blocking_rule": 'l."date_of_birth" = r."date_of_birth"'},
    ]
    assert probabilistic.blocking_columns(model) == [("postcode", "last_name"), ("date_of_birth",)]
    for rule in ('l."postcode" = r."city"', 'substr(l."postcode", 1, 3) = substr(r."postcode", 1, 3)'):
        model["blocking_rules_to_generate_predictions"] = [{"blocking_rule": rule}]
        assert probabilistic.blocking_columns(model) is None, rule


def test_the_pairs_digest_is_of_the_set_of_pairs() -> None:
    con = duckdb.connect()
    con.execute(
        "create table a as select * from (values ('crm_contacts', 'c1', 'shop_customers', 's1'),"
        " ('crm_contacts', 'c2', 'crm_contacts', 'c3')) as t(" + ", ".join(pair_scoring.PAIR_KEY) + ")"
    )
    con.execute("create table b as select * from a order by left_record_id desc")
    con.execute("create table c as select * replace ('c4' as right_record_id) from a")
    digest = {name: pair_scoring._pairs_digest(con, name) for name in "abc"}
    assert digest["a"] == digest["b"]
    assert digest["a"] != digest["c"]
    assert pair_scoring._pairs_digest(con, "(select * from a where false)") == "0:"


def test_the_digest_of_pairs_removed_and_added_is_the_digest_of_the_pairs_left() -> None:
    con = duckdb.connect()
    con.execute(
        "create table stored as select * from (values ('crm_contacts', 'c1', 'shop_customers', 's1'),"
        " ('crm_contacts', 'c2', 'crm_contacts', 'c3'), ('crm_contacts', 'c4', 'crm_contacts', 'c5'))"
        " as t(" + ", ".join(pair_scoring.PAIR_KEY) + ")"
    )
    con.execute("create table removed as select * from stored where left_record_id <> 'c1'")
    con.execute("create table added as select * replace ('c9' as right_record_id) from removed")
    con.execute("create table left_after as select * from stored where left_record_id = 'c1'")
    digest = {name: pair_scoring._pairs_digest(con, name) for name in ("stored", "removed", "added")}
    after = pair_scoring._changed_digest(digest["stored"], digest["removed"], digest["added"])
    pairs_after = "(select * from left_after union all select * from added)"
    assert after == pair_scoring._pairs_digest(con, pairs_after)
    assert after != digest["stored"]
    everything_gone = pair_scoring._changed_digest(digest["stored"], digest["stored"], "0:")
    assert everything_gone == pair_scoring._pairs_digest(con, "(select * from stored where false)") == "0:"


def test_the_scoring_digest_follows_the_stored_pairs_and_a_mismatch_scores_everything(
    built: Project, tmp_path: Path
) -> None:
    """An incremental build deletes stale pairs in place and dbt appends the scored ones: the
    digest it records (updated from those removed and added, not recomputed) is that of the
    stored pairs. Stored pairs that differ from it (a build that failed between deleting and
    appending) are scored anew in full."""
    project = copy_of(built, tmp_path)
    _run_pairs(project)
    _change_paired_records(project)
    incremental = _run_pairs(project)
    (recorded,) = fetch(project, f"select pairs_digest from {SCORING}")[0]
    con = duckdb.connect(str(project.warehouse), read_only=True)
    try:
        assert recorded == pair_scoring._pairs_digest(con, PAIRS)
    finally:
        con.close()
    execute(project, f"delete from {PAIRS} where left_record_id = (select min(left_record_id) from {PAIRS})")
    assert _run_pairs(project) == incremental
    assert len(_rescored(project)) == fetch(project, f"select count(*) from {PEOPLE}")[0][0]


def _rules(model: dict) -> list[str]:
    return [rule["blocking_rule"] for rule in model["blocking_rules_to_generate_predictions"]]


def test_blocking_rules_that_cannot_reach_the_threshold_are_not_scored_and_the_pairs_are_the_same(
    con,
) -> None:
    """On the sample's trained model: as the threshold rises, rules whose pairs cannot reach
    it go (first and last name alone, first), and the pairs at or above it stay the same."""
    model = json.loads(_one(con, f"select model_json from {MODEL}"))
    people = con.sql("select * from identity.int_identity__person_records")
    records = probabilistic.person_records(
        [(table, people.filter(f"source_table = '{table}'")) for table in probabilistic.SOURCE_TABLES]
    )
    every_rule = _rules(model)
    kept_counts = []
    for threshold in (0.01, 0.5, 0.99, 0.9999):
        pruned = probabilistic.rules_that_can_reach(model, threshold)
        kept = _rules(pruned)
        assert kept == [rule for rule in every_rule if rule in kept]  # order kept
        kept_counts.append(len(kept))
        if len(kept) < len(every_rule):
            assert probabilistic.predict(records, pruned, threshold) == probabilistic.predict(
                records, model, threshold
            ), threshold
    assert kept_counts[0] == len(every_rule)  # a low threshold needs every rule
    assert kept_counts[-1] < len(every_rule)  # a high one does not need the name rule
    assert kept_counts == sorted(kept_counts, reverse=True)
    assert '(l."first_name" = r."first_name") AND (l."last_name" = r."last_name")' not in _rules(
        probabilistic.rules_that_can_reach(model, 0.9999)
    )


def _weighted(sql: str, weight: float) -> dict:
    m = 0.5
    level = {"sql_condition": sql, "label_for_charts": "level"}
    return {**level, "m_probability": m, "u_probability": m / 2**weight}


def _toy_model(rules: list[str], prior_weight: float = -15.0, email_weight: float = 20.0) -> dict:
    """Email exact weighs ``email_weight``, the name 5; a random pair's prior weight ``prior_weight``."""
    null = {"sql_condition": "x", "label_for_charts": "null", "is_null_level": True}
    return {
        "probability_two_random_records_match": 2**prior_weight / (1 + 2**prior_weight),
        "blocking_rules_to_generate_predictions": [{"blocking_rule": rule} for rule in rules],
        "comparisons": [
            {
                "output_column_name": "email",
                "comparison_levels": [
                    null,
                    _weighted('"email_l" = "email_r" and ("name_l" is not null)', email_weight),
                    _weighted("else", -10),
                ],
            },
            {
                "output_column_name": "name",
                "comparison_levels": [null, _weighted('"name_l" = "name_r"', 5), _weighted("else", -10)],
            },
        ],
    }


def test_a_rule_goes_only_when_the_rules_kept_before_it_exclude_its_strong_levels() -> None:
    email, name = 'l."email" = r."email"', 'l."name" = r."name"'
    # After the email rule, a name-only pair has no email match: -15 + 5 < 0 (p 0.5).
    assert _rules(probabilistic.rules_that_can_reach(_toy_model([email, name]), 0.5)) == [email]
    # Alone, or before it, the name rule may admit a pair that matches on email too.
    assert _rules(probabilistic.rules_that_can_reach(_toy_model([name]), 0.5)) == [name]
    assert _rules(probabilistic.rules_that_can_reach(_toy_model([name, email]), 0.5)) == [name, email]
    # A weaker email: -15 + 9 + 5 = -1, below log2(0.4 / 0.6) but not log2(0.3 / 0.7).
    weak = _toy_model([email, name], email_weight=9)
    assert _rules(probabilistic.rules_that_can_reach(weak, 0.4)) == []
    assert _rules(probabilistic.rules_that_can_reach(weak, 0.3)) == [email]
    # A higher prior (a small data set) keeps the name rule.
    assert _rules(probabilistic.rules_that_can_reach(_toy_model([email, name], prior_weight=-4), 0.5)) == [
        email,
        name,
    ]


def test_rules_are_all_kept_when_a_weight_or_rule_cannot_be_bounded() -> None:
    email, name = 'l."email" = r."email"', 'l."name" = r."name"'
    model = _toy_model([email, name])
    del model["comparisons"][1]["comparison_levels"][1]["u_probability"]  # never trained
    assert _rules(probabilistic.rules_that_can_reach(model, 0.5)) == [email, name]
    tf = _toy_model([email, name])
    tf["comparisons"][1]["comparison_levels"][1]["tf_adjustment_column"] = "name"
    assert _rules(probabilistic.rules_that_can_reach(tf, 0.5)) == [email, name]
    fuzzy = _toy_model([email, 'substr(l."name", 1, 3) = substr(r."name", 1, 3)'])
    assert probabilistic.rules_that_can_reach(fuzzy, 0.5) == fuzzy
    both = _toy_model([email, name])
    for threshold in (0.0, 1.0):
        assert probabilistic.rules_that_can_reach(both, threshold) == both
