"""Probabilistic identity matching with Splink on DuckDB.

Person-like records (CRM contacts, shop accounts) are compared pairwise with a
Fellegi-Sunter model: each comparison (first name, date of birth, email, ...) falls into
one level per pair, and each level carries a match weight learnt from the data. The dbt
Python models ``int_identity__splink_model`` (trains, stores the model JSON) and
``int_identity__probabilistic_pairs`` (scores pairs with the stored model) are thin
wrappers around ``train`` and ``predict``.

Splink runs on its own in-memory DuckDB connection fed with Arrow tables of only the
columns it needs, so nothing it creates lands in the warehouse.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import math
import re
from typing import Any

import duckdb
import pyarrow as pa
import sqlglot
from splink import DuckDBAPI, Linker, block_on
from sqlglot import exp

from cdp import model_reuse

LINKER_UID = "cdp_identity"  # fixed: Splink otherwise writes a random uid into the model JSON
UNIQUE_ID = "unique_id"  # source_table || '|' || record_id
MODEL_NAME = "identity_match"  # int_identity__splink_model's key: the one model it holds
SOURCE_TABLES = ("crm_contacts", "shop_customers")  # rows of int_identity__person_records
# The columns of int_identity__splink_model (model_summary's keys).
SUMMARY_COLUMNS = frozenset(
    {
        "model_name",
        "model_json",
        "seed",
        "person_records",
        "training_records",
        "crm_contacts_records",
        "shop_customers_records",
        "trained_on",
        "probability_two_random_records_match",
        "comparisons",
        "splink_version",
    }
)
RECORD_COLUMNS = (
    "first_name",
    "first_name_group",  # nickname group (seed first_name_groups): Bob and Robert are one
    "last_name",
    "date_of_birth",
    "street_address",
    "city",
    "postcode",
    "country_code",
    "email_canonical",
    "phone_e164",
)
# u is estimated on up to this many random pairs; the sample is a hash of the record ids and
# the seed, so it is the same on every run.
U_MAX_PAIRS = 5e6


def _jw(column: str, threshold: float) -> str:
    return f'jaro_winkler_similarity("{column}_l", "{column}_r") >= {threshold}'


def _null(*columns: str) -> str:
    return " or ".join(f'"{c}_l" is null or "{c}_r" is null' for c in columns)


def _exact(column: str) -> str:
    return f'"{column}_l" = "{column}_r"'


def _level(sql: str, label: str, *, null: bool = False, m: float | None = None) -> dict[str, Any]:
    level: dict[str, Any] = {"sql_condition": sql, "label_for_charts": label}
    if null:
        level["is_null_level"] = True
    if m is not None:  # starting value; kept when the training pairs never reach the level
        level["m_probability"] = m
    return level


def _name(column: str, group_column: str | None = None) -> dict[str, Any]:
    """Exact, then (with ``group_column``) the same nickname group (Bob / Robert), then
    Jaro-Winkler levels."""
    nickname = [_level(_exact(group_column), "nickname")] if group_column else []
    return {
        "output_column_name": column,
        "comparison_levels": [
            _level(_null(column), "null", null=True),
            _level(_exact(column), "exact"),
            *nickname,
            _level(_jw(column, 0.92), "jw>=0.92"),
            _level(_jw(column, 0.8), "jw>=0.8"),
            _level("else", "different"),
        ],
    }


def _exact_only(column: str, output: str | None = None) -> dict[str, Any]:
    return {
        "output_column_name": output or column,
        "comparison_levels": [
            _level(_null(column), "null", null=True),
            _level(_exact(column), "exact"),
            _level("else", "different"),
        ],
    }


# Email and address are shared by households (partners: same inbox, same home, often the
# same last name, but a different first name, birth date and phone). Among different people
# who share them they are strongly correlated, so scoring each as independent evidence
# matched partners at p > 0.9999. They therefore only count as evidence between records
# that look like the same person: first names present and close, and no conflicting birth
# date or phone. Otherwise a shared email or address is no evidence either way (m = u, fixed).
SAME_PERSON = (
    '"first_name_l" is not null and "first_name_r" is not null'
    f" and ({_jw('first_name', 0.92)} or {_exact('first_name_group')})"
    ' and not coalesce("date_of_birth_l" <> "date_of_birth_r", false)'
    ' and not coalesce("phone_e164_l" <> "phone_e164_r", false)'
)
NEUTRAL = {"m_probability": 0.01, "u_probability": 0.01, "fix_m_probability": True, "fix_u_probability": True}
SAME_ADDRESS = f'"postcode_l" = "postcode_r" and {_jw("street_address", 0.9)}'


def _shared(condition: str) -> dict[str, Any]:
    return {**_level(f"({condition}) and not ({SAME_PERSON})", "shared (other person)"), **NEUTRAL}


def _email() -> dict[str, Any]:
    return {
        "output_column_name": "email",
        "comparison_levels": [
            _level(_null("email_canonical"), "null", null=True),
            _level(f"{_exact('email_canonical')} and {SAME_PERSON}", "exact"),
            _shared(_exact("email_canonical")),
            _level("else", "different"),
        ],
    }


def _address() -> dict[str, Any]:
    """Postcode, street and city as one comparison: they move together, so scoring them
    separately would count one address three times."""
    return {
        "output_column_name": "address",
        "comparison_levels": [
            _level(_null("postcode", "street_address"), "null", null=True),
            _level(f"{SAME_ADDRESS} and {SAME_PERSON}", "postcode exact & street jw>=0.9"),
            _shared(SAME_ADDRESS),
            # Matches rarely reach the next two levels (a mistyped street, a moved-within-town
            # record), so training may not see them: m starts from a small prior.
            _level(_exact("postcode"), "postcode exact", m=0.01),
            _level(f'"city_l" is not null and {_jw("city", 0.9)}', "city jw>=0.9", m=0.01),
            _level("else", "different"),
        ],
    }


# Pairs are only scored when they share one of these (blocking); every pair a rule admits
# is scored once, whichever rule admits it.
# Postcode is paired with a whole name, never alone or with an initial: a postcode holds
# thousands of people at scale, and its pairs would grow with the square of the data. So is
# the birth date: alone it admitted 5.9M pairs at 1M people (up to 48 records a day), a fifth
# of all scored, and would admit 100 times as many at 10M; with a name, 68,000.
PREDICTION_BLOCKING_RULES = (
    block_on("postcode", "last_name"),
    block_on("postcode", "first_name_group"),  # a typo in the last name
    block_on("date_of_birth", "first_name_group"),  # moved, new surname, email and phone
    block_on("date_of_birth", "last_name"),  # moved, first name mistyped
    block_on("email_canonical"),
    block_on("phone_e164"),
    block_on("first_name", "last_name"),
)
# Rules that admit almost no false matches: estimate the share of pairs that match.
DETERMINISTIC_RULES = (
    block_on("email_canonical", "first_name"),
    block_on("phone_e164", "first_name"),
    block_on("first_name", "last_name", "date_of_birth"),
)
DETERMINISTIC_RECALL = 0.7
# Expectation maximisation runs once per rule; comparisons a rule blocks on are not
# estimated in that session, so between them every comparison is estimated at least once.
EM_BLOCKING_RULES = (
    block_on("email_canonical"),
    block_on("postcode", "last_name"),
    block_on("date_of_birth"),
)


def settings() -> dict[str, Any]:
    """The model specification (no parameters yet): comparisons, levels, blocking."""
    return {
        "link_type": "dedupe_only",
        "unique_id_column_name": UNIQUE_ID,
        "linker_uid": LINKER_UID,
        "comparisons": [
            _name("first_name", "first_name_group"),
            _name("last_name"),
            _exact_only("date_of_birth", "dob"),
            _address(),
            _email(),
            _exact_only("phone_e164", "phone"),
        ],
        "blocking_rules_to_generate_predictions": list(PREDICTION_BLOCKING_RULES),
        "additional_columns_to_retain": ["source_table", "record_id"],
        "retain_matching_columns": True,  # Splink 5 keeps gamma_ columns only with this,
        "retain_intermediate_calculation_columns": False,
        "max_iterations": 25,
        "em_convergence": 0.0001,
    }


def person_records(sources: list[tuple[str, duckdb.DuckDBPyRelation]]) -> pa.Table:
    """One Arrow table of (unique_id, source_table, record_id, RECORD_COLUMNS), sorted.

    ``sources`` pairs a source_table name with a relation that has a ``record_id`` column
    and any of RECORD_COLUMNS (missing ones become null).
    """
    return person_records_relation(sources).to_arrow_table().sort_by([(UNIQUE_ID, "ascending")])


def person_records_relation(sources: list[tuple[str, duckdb.DuckDBPyRelation]]) -> duckdb.DuckDBPyRelation:
    """The rows of ``person_records(sources)`` as one relation, unsorted and not yet read: an
    incremental scoring reads only some of them (cdp.identity.pair_scoring)."""
    parts = []
    for source_table, relation in sources:
        present = set(relation.columns)
        columns = ", ".join(
            (
                f'"{c}"'
                if c in present
                else f'cast(null as {"date" if c == "date_of_birth" else "varchar"}) as "{c}"'
            )
            for c in RECORD_COLUMNS
        )
        parts.append(
            relation.select(
                f"'{source_table}' || '|' || record_id as {UNIQUE_ID}, "
                f"'{source_table}' as source_table, record_id, {columns}"
            )
        )
    return functools.reduce(lambda left, right: left.union(right), parts)


def blocking_columns(model: dict[str, Any]) -> list[tuple[str, ...]] | None:
    """The columns each of ``model``'s prediction blocking rules requires equal, or None when
    a rule is anything but equalities of a column on both sides (then no rule tells which
    records a pair can come from)."""
    equality = re.compile(r'^\(?l\."(\w+)" = r\."(\w+)"\)?$')
    found = []
    for rule in model["blocking_rules_to_generate_predictions"]:
        columns = []
        for term in rule["blocking_rule"].split(" AND "):
            match = equality.match(term.strip())
            if match is None or match.group(1) != match.group(2):
                return None
            columns.append(match.group(1))
        found.append(tuple(columns))
    return found


def rules_that_can_reach(model: dict[str, Any], threshold: float) -> dict[str, Any]:
    """``model`` without the prediction blocking rules that cannot admit a pair scoring at or
    above ``threshold``: the pairs above it are the same, and scoring costs less.

    Splink admits a pair by the first rule it satisfies, and a pair's score does not depend
    on the rule. So a rule only adds pairs that satisfy none of the rules kept before it, and
    each comparison of such a pair can only be at a level that does not complete one of
    those rules together with the rule's own equalities (a level ``"email_l" = "email_r" and
    ...`` does not occur under a later rule when ``email`` alone is a kept rule). The prior
    plus each comparison's highest weight among those levels bounds the rule's pairs from
    above (comparisons taken one at a time, so the bound can only be too high); a rule whose
    bound stays below the threshold goes. Why: at 1M people blocking on first and last name
    compared 8.2M pairs, 5 of the 17 s of scoring, and found no pair at 0.5, since a name
    alone weighs less than the prior of two records matching; in a small data set the prior
    is higher and the rule is kept.

    The model is returned unchanged when a rule is not plain equalities, a level's weight is
    unbounded (term frequencies, u = 0) or the threshold is not strictly between 0 and 1.
    """
    rules = blocking_columns(model)
    prior = model.get("probability_two_random_records_match")
    if rules is None or not prior or not 0 < prior < 1 or not 0 < threshold < 1:
        return model
    levels = [_level_bounds(comparison) for comparison in model["comparisons"]]
    needed = math.log2(threshold / (1 - threshold)) - 1e-9  # float sums of the same weights
    kept: list[tuple[int, frozenset[str]]] = []
    for index, columns in enumerate(rules):
        equal = frozenset(columns)
        bound = math.log2(prior / (1 - prior))
        for comparison in levels:
            possible = [
                weight
                for implied, weight in comparison
                if not any(earlier <= equal | implied for _, earlier in kept)
            ]
            bound += max(possible, default=-math.inf)
        if bound >= needed:
            kept.append((index, equal))
    spec = model["blocking_rules_to_generate_predictions"]
    return {**model, "blocking_rules_to_generate_predictions": [spec[index] for index, _ in kept]}


def _level_bounds(comparison: dict[str, Any]) -> list[tuple[frozenset[str], float]]:
    """Each level of ``comparison`` as (the columns a pair at it has equal on both sides, its
    match weight): a null level weighs 0, a level without trained m and u (or with term
    frequencies) is unbounded."""
    bounds = []
    for level in comparison["comparison_levels"]:
        if level.get("is_null_level"):
            bounds.append((frozenset(), 0.0))
            continue
        m, u = level.get("m_probability"), level.get("u_probability")
        if level.get("tf_adjustment_column") or not u or m is None:
            weight = math.inf
        else:
            weight = math.log2(m / u) if m > 0 else -math.inf
        bounds.append((_equal_columns(level["sql_condition"]), weight))
    return bounds


def _equal_columns(condition: str) -> frozenset[str]:
    """The columns ``X`` a Splink level condition requires equal: its top-level conjuncts
    ``"X_l" = "X_r"``. Anything else (or unparsable) implies nothing, which only raises a
    bound."""
    if condition.strip().lower() == "else":
        return frozenset()
    try:
        tree = sqlglot.parse_one(condition, read="duckdb")
    except sqlglot.errors.ParseError:
        return frozenset()
    found = set()
    for term in _conjuncts(tree):
        sides = (term.left, term.right) if isinstance(term, exp.EQ) else ()
        if sides and all(isinstance(side, exp.Column) for side in sides):
            left, right = term.left.name, term.right.name
            if left.endswith("_l") and right.endswith("_r") and left[:-2] == right[:-2]:
                found.add(left[:-2])
    return frozenset(found)


def _conjuncts(node: exp.Expression) -> list[exp.Expression]:
    """The terms of a condition's top-level AND, through parentheses."""
    node = node.unnest()
    if isinstance(node, exp.And):
        return _conjuncts(node.left) + _conjuncts(node.right)
    return [node]


def count_person_records(sources: list[tuple[str, duckdb.DuckDBPyRelation]]) -> int:
    """How many rows person_records(sources) holds, counted in the database: deciding whether
    the stored model still fits does not read 1.4M records at 1M people into Arrow."""
    return sum(relation.aggregate("count(*)").fetchall()[0][0] for _, relation in sources)


def fingerprint(records: pa.Table) -> str:
    """SHA-256 of the records' Arrow IPC serialisation: same records, same fingerprint."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, records.schema) as writer:
        writer.write_table(records.combine_chunks())
    return hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()


def _connection(threads: int | None = None) -> duckdb.DuckDBPyConnection:
    config = {"threads": threads} if threads else {}
    return duckdb.connect(":memory:", config=config)


def _linker(inputs: dict[str, pa.Table], model: dict[str, Any], con: duckdb.DuckDBPyConnection) -> Linker:
    """A Linker over ``inputs`` (table name -> records): one to dedupe, two to link."""
    db_api = DuckDBAPI(con)
    tables = [db_api.register(records, table_name=name) for name, records in inputs.items()]
    return Linker(tables[0] if len(tables) == 1 else tables, model, log_level=logging.ERROR)


def training_sample(records: pa.Table, max_records: int, seed: int) -> pa.Table:
    """``records`` when there are at most ``max_records``, else that many of them, chosen by
    an MD5 of each unique_id and ``seed`` (same records and seed, same sample), sorted as
    ``person_records`` sorts.

    Why: expectation maximisation blocked on date of birth compares every pair within a
    block, and blocks grow with the data, so training time grew with the square of the
    records (12 s at 142k records, 154 s at 1.4M). A uniform sample keeps the match prior
    unbiased (matching pairs and all pairs shrink alike) and still holds thousands of
    matching pairs for m.
    """
    if records.num_rows <= max_records:
        return records
    with _connection() as con:
        con.register("records", records)
        sample = con.sql(
            f"select * from records order by md5({UNIQUE_ID} || '|{int(seed)}'), {UNIQUE_ID} "
            f"limit {int(max_records)}"
        ).to_arrow_table()
    return sample.sort_by([(UNIQUE_ID, "ascending")])


def train(records: pa.Table, seed: int) -> dict[str, Any]:
    """Estimate the model on ``records``: the match prior from deterministic rules, u by
    seeded random sampling, m by expectation maximisation. Same records and seed, same
    parameters.
    """
    with _connection(threads=1) as con:
        linker = _linker({"cdp_person_records": records}, settings(), con)
        linker.training.estimate_probability_two_random_records_match(
            list(DETERMINISTIC_RULES), recall=DETERMINISTIC_RECALL
        )
        linker.training.estimate_u_using_random_sampling(max_pairs=U_MAX_PAIRS, seed=seed)
        for rule in EM_BLOCKING_RULES:
            linker.training.estimate_parameters_using_expectation_maximisation(rule)
        return linker.misc.save_model_to_json()


def model_json(model: dict[str, Any]) -> str:
    return json.dumps(model, sort_keys=True, indent=2)


def model_summary(model: dict[str, Any], records: pa.Table, seed: int, person_records: int) -> dict[str, Any]:
    """The row int_identity__splink_model stores: the model, what it was trained on
    (``records``) and how many person records there were (``person_records``)."""
    import splink

    sources = records.column("source_table").to_pylist()
    return {
        "model_name": MODEL_NAME,
        "model_json": model_json(model),
        "seed": seed,
        "person_records": person_records,
        "training_records": records.num_rows,
        "crm_contacts_records": sources.count("crm_contacts"),
        "shop_customers_records": sources.count("shop_customers"),
        "trained_on": fingerprint(records),
        "probability_two_random_records_match": float(model["probability_two_random_records_match"]),
        "comparisons": ", ".join(c["output_column_name"] for c in model["comparisons"]),
        "splink_version": splink.__version__,
    }


def stored_model_still_fits(
    stored: pa.Table, person_records: int, seed: int, max_records: int, growth: float
) -> bool:
    """Whether the stored int_identity__splink_model row may score this build's records: it has
    this version's columns, seed, sample bound, Splink version and specification (blocking
    rules and comparison levels: a model trained before they changed is retrained, not kept),
    and the person records changed by less than ``growth`` since it was trained."""
    import splink

    if stored.num_rows != 1 or set(stored.column_names) != SUMMARY_COLUMNS:
        return False
    row = stored.to_pylist()[0]
    return (
        row["seed"] == seed
        and row["training_records"] == min(row["person_records"], max_records)
        and row["splink_version"] == splink.__version__
        and specification(json.loads(row["model_json"])) == specification(settings())
        and model_reuse.within_growth(row["person_records"], person_records, growth)
    )


def specification(model: dict[str, Any]) -> tuple[Any, ...]:
    """What a model compares and which pairs it scores, from ``settings()`` or a trained
    model's JSON alike: the prediction blocking rules' SQL and every comparison's level
    conditions (Splink keeps them verbatim)."""
    rules = tuple(
        rule["blocking_rule"]
        if isinstance(rule, dict)
        else rule.get_blocking_rule("duckdb").blocking_rule_sql
        for rule in model["blocking_rules_to_generate_predictions"]
    )
    comparisons = tuple(
        (c["output_column_name"], tuple(level["sql_condition"] for level in c["comparison_levels"]))
        for c in model["comparisons"]
    )
    return rules, comparisons


def level_labels(model: dict[str, Any]) -> dict[str, dict[int, str]]:
    """Per comparison, the label of each comparison vector value (-1 = null level)."""
    labels: dict[str, dict[int, str]] = {}
    for comparison in model["comparisons"]:
        levels = comparison["comparison_levels"]
        non_null = [lv for lv in levels if not lv.get("is_null_level")]
        by_value = {len(non_null) - 1 - i: lv["label_for_charts"] for i, lv in enumerate(non_null)}
        by_value[-1] = "null"
        labels[comparison["output_column_name"]] = by_value
    return labels


def predict(
    records: pa.Table, model: dict[str, Any], threshold: float, changed: pa.Table | None = None
) -> pa.Table:
    """Scored pairs at or above ``threshold``: left/right keys ordered (left < right),
    match probability and weight, and a readable summary of each comparison's level.

    With ``changed`` (some of ``records``), only the pairs with at least one record in it:
    Splink links ``changed`` to ``records`` (every comparison is symmetric, so a pair scores
    the same either way round); self-pairs are dropped, and of a pair within ``changed``,
    found once per orientation, the one with left < right is kept.
    """
    labels = level_labels(model)
    evidence = " || ', ' || ".join(
        f"'{name}: ' || (case gamma_{name} "
        + " ".join(f"when {value} then '{label}'" for value, label in sorted(by_value.items()))
        + " end)"
        for name, by_value in labels.items()
    )
    with _connection() as con:
        if changed is None:
            linker = _linker({"cdp_person_records": records}, model, con)
            pair_filter = "true"
        else:
            inputs = {"cdp_changed": changed, "cdp_all": records}
            linker = _linker(inputs, {**model, "link_type": "link_only"}, con)
            con.register("cdp_changed_ids", changed.select([UNIQUE_ID]))
            within_changed = " and ".join(
                f"{key} in (select {UNIQUE_ID} from cdp_changed_ids)" for key in ("key_l", "key_r")
            )
            pair_filter = f"key_l <> key_r and (key_l < key_r or not ({within_changed}))"
        scored = linker.inference.predict(threshold_match_probability=threshold)
        keys = f"""
            select
                *,
                source_table_l || '|' || record_id_l as key_l,
                source_table_r || '|' || record_id_r as key_r
            from {scored.physical_name}
        """
        return con.sql(f"""
            select
                case when key_l < key_r then source_table_l else source_table_r end as left_source_table,
                case when key_l < key_r then record_id_l else record_id_r end as left_record_id,
                case when key_l < key_r then source_table_r else source_table_l end as right_source_table,
                case when key_l < key_r then record_id_r else record_id_l end as right_record_id,
                cast(match_probability as double) as match_probability,
                cast(match_weight as double) as match_weight,
                {evidence} as evidence
            from ({keys})
            where match_probability >= {threshold} and {pair_filter}
            order by left_source_table, left_record_id, right_source_table, right_record_id
        """).to_arrow_table()
