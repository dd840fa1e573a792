"""Accuracy of identity resolution against the sample generator's ground truth.

Compares ``identity.customer_records`` (source_table, record_id, customer_id) in the warehouse
with ``<truth>/record_truth/*.parquet`` (source_table, record_id, person_id) written by
``cdp generate``. Everything is aggregated in DuckDB, so it scales to tens of millions of records.

Records are evaluated when they are in both. Records only on one side are counted, never dropped:
``records_without_truth`` (in customer_records, no truth row: e.g. anonymous events) and
``records_missing`` (truth rows of the evaluated source tables absent from customer_records:
e.g. quarantined rows). Records the truth marks ``anonymous`` (nothing in the data ties them to
their person: web events of a device its person never logged in on) are left out unless
``include_anonymous``, and counted in ``records_anonymous``. With ``exclude_ambiguous``, so are
records every identifier of which is carried by records of several true people (a household
inbox, ``test@test.com``): nothing in the data says whose they are (``records_ambiguous``).
Metrics over the evaluated records,
where a "pair" is two distinct records:

- pairwise precision = pairs in the same customer and the same person / pairs in the same customer;
  pairwise recall = the same / pairs of the same person. A metric with no pairs to judge is 1.0.
- B-cubed precision (recall) = average over records of the share of the record's customer (person)
  that belongs to its person (customer).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import duckdb

from cdp.errors import EvaluationError
from cdp.warehouse import table_exists

PREDICTED_TABLE = "identity.customer_records"
PREDICTED_COLUMNS = ("source_table", "record_id", "customer_id")
TRUTH_COLUMNS = ("source_table", "record_id", "person_id")
TRUTH_TABLE = "record_truth"


@dataclass(frozen=True)
class OverMergedCustomer:
    """A predicted customer holding records of more than one true person."""

    customer_id: str
    persons: int
    records: int


@dataclass(frozen=True)
class SplitPerson:
    """A true person whose records are spread over more than one predicted customer."""

    person_id: str
    customers: int
    records: int


@dataclass(frozen=True)
class SourceEvaluation:
    """One source table: its record counts, and pairwise metrics over the pairs involving its records."""

    source_table: str
    records: int  # evaluated: in customer_records and in truth
    records_without_truth: int
    records_missing: int
    pairwise_precision: float
    pairwise_recall: float


@dataclass(frozen=True)
class IdentityEvaluation:
    records: int  # evaluated: in customer_records and in truth
    records_without_truth: int  # in customer_records, no truth row
    records_missing: int  # truth rows of the evaluated source tables not in customer_records
    records_anonymous: int  # left out: the truth marks them anonymous (0 with include_anonymous)
    records_ambiguous: int  # left out with exclude_ambiguous: identifiers all shared by several people
    customers: int  # predicted customers among the evaluated records
    persons: int  # true persons among the evaluated records
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int  # in the same customer and the same person
    pairwise_precision: float
    pairwise_recall: float
    pairwise_f1: float
    bcubed_precision: float
    bcubed_recall: float
    bcubed_f1: float
    over_merged_customers: int
    split_persons: int
    over_merged: tuple[OverMergedCustomer, ...]  # the largest, by persons then records
    split: tuple[SplitPerson, ...]  # the worst, by customers then records
    sources: tuple[SourceEvaluation, ...]  # per source table, by name

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def evaluate_identity(
    warehouse: Path,
    truth_dir: Path,
    examples: int = 5,
    include_anonymous: bool = False,
    exclude_ambiguous: bool = False,
) -> IdentityEvaluation:
    """Evaluate ``identity.customer_records`` in ``warehouse`` against the truth in ``truth_dir``."""
    truth_glob = _truth_glob(truth_dir)
    with _connect(warehouse) as con:
        _check_predicted(con, warehouse)
        has_anonymous_flag = _check_truth(con, truth_glob)
        if exclude_ambiguous:
            _check_identifiers(con, warehouse)
        _prepare(con, truth_glob, has_anonymous_flag and not include_anonymous, exclude_ambiguous)
        totals = _totals(con, warehouse, truth_glob)
        return IdentityEvaluation(
            **totals,
            over_merged=_over_merged(con, examples),
            split=_split(con, examples),
            sources=_sources(con),
        )


def _truth_glob(truth_dir: Path) -> Path:
    if not truth_dir.is_dir():
        raise EvaluationError(
            f"ground truth folder {truth_dir} does not exist: run `cdp generate --out DIR` "
            "and pass --truth DIR/_truth (default data/landing/_truth)"
        )
    folder = truth_dir / TRUTH_TABLE
    if not any(folder.glob("*.parquet")):
        raise EvaluationError(
            f"{folder} has no .parquet files: is {truth_dir} the _truth folder written by `cdp generate`?"
        )
    return folder / "*.parquet"


def _connect(warehouse: Path) -> duckdb.DuckDBPyConnection:
    if not warehouse.is_file():
        raise EvaluationError(
            f"warehouse {warehouse} does not exist: run `cdp load` and `cdp build` first "
            "(or pass --warehouse)"
        )
    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error as exc:
        raise EvaluationError(f"cannot open warehouse {warehouse} read-only: {_first_line(exc)}") from exc
    con.execute("set enable_progress_bar = false")  # it would interleave with `cdp evaluate --json`
    return con


def _check_predicted(con: duckdb.DuckDBPyConnection, warehouse: Path) -> None:
    schema, table = PREDICTED_TABLE.split(".")
    columns = {
        row[0]
        for row in con.execute(
            "select column_name from information_schema.columns where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchall()
    }
    if not columns:
        raise EvaluationError(
            f"{warehouse} has no table {PREDICTED_TABLE}: run `cdp build` to build the identity models"
        )
    _require_columns(columns, PREDICTED_COLUMNS, f"{PREDICTED_TABLE} in {warehouse}")
    no_customer, ambiguous = con.execute(f"""
        select
            (select count(*) from {PREDICTED_TABLE} where customer_id is null),
            (select count(*) from (
                select 1 from {PREDICTED_TABLE} group by source_table, record_id
                having count(distinct customer_id) > 1))""").fetchone()
    if no_customer:
        raise EvaluationError(f"{PREDICTED_TABLE}: {no_customer:,} row(s) have no customer_id")
    if ambiguous:
        raise EvaluationError(
            f"{PREDICTED_TABLE}: {ambiguous:,} record(s) have more than one customer_id "
            "(each (source_table, record_id) must belong to exactly one customer)"
        )


def _check_identifiers(con: duckdb.DuckDBPyConnection, warehouse: Path) -> None:
    if not table_exists(con, IDENTIFIERS_TABLE):
        raise EvaluationError(
            f"{warehouse} has no table {IDENTIFIERS_TABLE}, which --exclude-ambiguous reads: run `cdp build`"
        )


def _check_truth(con: duckdb.DuckDBPyConnection, truth_glob: Path) -> bool:
    """Checks the truth files; True when they carry the ``anonymous`` flag."""
    try:
        described = con.execute(f"describe select * from read_parquet({_literal(truth_glob)})").fetchall()
    except duckdb.Error as exc:
        raise EvaluationError(f"{truth_glob}: not readable as Parquet: {_first_line(exc)}") from exc
    _require_columns({row[0] for row in described}, TRUTH_COLUMNS, str(truth_glob))
    (conflicts,) = con.execute(f"""
        select count(*) from (
            select 1 from read_parquet({_literal(truth_glob)}) group by source_table, record_id
            having count(distinct person_id) > 1)""").fetchone()
    if conflicts:
        raise EvaluationError(f"{truth_glob}: {conflicts:,} record(s) have more than one person_id")
    return "anonymous" in {row[0] for row in described}


def _require_columns(found: set[str], required: tuple[str, ...], where: str) -> None:
    missing = [c for c in required if c not in found]
    if missing:
        raise EvaluationError(
            f"{where} lacks column(s) {', '.join(missing)} (has {', '.join(sorted(found))})"
        )


def _prepare(
    con: duckdb.DuckDBPyConnection, truth_glob: Path, exclude_anonymous: bool, exclude_ambiguous: bool
) -> None:
    """Temp tables: record counts per (source, customer, person) cell; clusters of evaluated records.

    In ``_cells`` a null person_id means "no truth row" and a null customer_id "not in customer_records".
    """
    anonymous = "anonymous = 'true'" if exclude_anonymous else "false"
    con.execute(f"""
        create temp macro pairs(n) as (n * (n - 1)) // 2;
        create temp table _truly_anonymous as
            select distinct source_table, record_id from read_parquet({_literal(truth_glob)})
            where {anonymous} and source_table in (select distinct source_table from {PREDICTED_TABLE});
        create temp table _ambiguous as
            select * from ({_ambiguous_sql(truth_glob) if exclude_ambiguous else _NONE_SQL}) as shared_only
            anti join _truly_anonymous using (source_table, record_id);
        create temp table _anonymous as
            select * from _truly_anonymous union all select * from _ambiguous;
        create temp view _predicted as
            select distinct source_table::varchar as source_table, record_id::varchar as record_id,
                customer_id::varchar as customer_id
            from {PREDICTED_TABLE}
            anti join _anonymous using (source_table, record_id);
        create temp view _truth as
            select distinct source_table, record_id, person_id
            from read_parquet({_literal(truth_glob)})
            anti join _anonymous using (source_table, record_id)
            where person_id is not null
                and source_table in (select distinct source_table from {PREDICTED_TABLE});
        create temp table _cells as
            select coalesce(p.source_table, t.source_table) as source_table, p.customer_id, t.person_id,
                count(*) as n
            from _predicted as p
            full join _truth as t on p.source_table = t.source_table and p.record_id = t.record_id
            group by all;
        create temp view _matched as
            select * from _cells where customer_id is not null and person_id is not null;
        create temp table _cell as
            select customer_id, person_id, sum(n) as n from _matched group by all;
        create temp table _customer as
            select customer_id, sum(n) as n, count(*) as persons from _cell group by all;
        create temp table _person as
            select person_id, sum(n) as n, count(*) as customers from _cell group by all;
    """)


def _totals(con: duckdb.DuckDBPyConnection, warehouse: Path, truth_glob: Path) -> dict[str, Any]:
    row = con.execute("""
        select
            coalesce((select sum(n) from _cell), 0)::bigint as records,
            coalesce((select sum(n) from _cells where person_id is null), 0)::bigint,
            coalesce((select sum(n) from _cells where customer_id is null), 0)::bigint,
            (select count(*) from _truly_anonymous),
            (select count(*) from _ambiguous),
            (select count(*) from _customer),
            (select count(*) from _person),
            coalesce((select sum(pairs(n)) from _person), 0)::bigint,
            coalesce((select sum(pairs(n)) from _customer), 0)::bigint,
            coalesce((select sum(pairs(n)) from _cell), 0)::bigint,
            (select sum(c.n * c.n / k.n) from _cell as c join _customer as k using (customer_id)),
            (select sum(c.n * c.n / p.n) from _cell as c join _person as p using (person_id)),
            (select count(*) from _customer where persons > 1),
            (select count(*) from _person where customers > 1)
    """).fetchone()
    records, without, missing, anonymous, ambiguous, customers, persons, true, predicted, correct = row[:10]
    if records == 0:
        raise _nothing_to_evaluate(warehouse, truth_glob, without)
    precision, recall = _ratio(correct, predicted), _ratio(correct, true)
    bcubed_precision, bcubed_recall = row[10] / records, row[11] / records
    return {
        "records": records,
        "records_without_truth": without,
        "records_missing": missing,
        "records_anonymous": anonymous,
        "records_ambiguous": ambiguous,
        "customers": customers,
        "persons": persons,
        "true_pairs": true,
        "predicted_pairs": predicted,
        "correct_pairs": correct,
        "pairwise_precision": precision,
        "pairwise_recall": recall,
        "pairwise_f1": _f1(precision, recall),
        "bcubed_precision": bcubed_precision,
        "bcubed_recall": bcubed_recall,
        "bcubed_f1": _f1(bcubed_precision, bcubed_recall),
        "over_merged_customers": row[12],
        "split_persons": row[13],
    }


def _nothing_to_evaluate(warehouse: Path, truth_glob: Path, without_truth: int) -> EvaluationError:
    if without_truth == 0:
        return EvaluationError(f"{PREDICTED_TABLE} in {warehouse} is empty: run `cdp load` and `cdp build`")
    return EvaluationError(
        f"none of the {without_truth:,} records of {PREDICTED_TABLE} in {warehouse} is in {truth_glob}: "
        "evaluate with the _truth folder of the landing files that were loaded"
    )


def _over_merged(con: duckdb.DuckDBPyConnection, examples: int) -> tuple[OverMergedCustomer, ...]:
    rows = con.execute(
        """select customer_id, persons, n from _customer where persons > 1
        order by persons desc, n desc, customer_id limit ?""",
        [examples],
    ).fetchall()
    return tuple(OverMergedCustomer(*row) for row in rows)


def _split(con: duckdb.DuckDBPyConnection, examples: int) -> tuple[SplitPerson, ...]:
    rows = con.execute(
        """select person_id, customers, n from _person where customers > 1
        order by customers desc, n desc, person_id limit ?""",
        [examples],
    ).fetchall()
    return tuple(SplitPerson(*row) for row in rows)


def _sources(con: duckdb.DuckDBPyConnection) -> tuple[SourceEvaluation, ...]:
    """Per source S, pairs involving at least one record of S: in a cluster of n records, m of them
    from S, that is pairs(n) - pairs(n - m)."""
    rows = con.execute("""
        with counts as (
            select source_table,
                coalesce(sum(n) filter (where customer_id is not null and person_id is not null), 0),
                coalesce(sum(n) filter (where person_id is null), 0),
                coalesce(sum(n) filter (where customer_id is null), 0)
            from _cells group by source_table
        ),
        correct as (
            select m.source_table, sum(pairs(c.n) - pairs(c.n - m.n)) as pairs
            from _matched as m join _cell as c using (customer_id, person_id) group by all
        ),
        predicted as (
            select s.source_table, sum(pairs(k.n) - pairs(k.n - s.n)) as pairs
            from (select source_table, customer_id, sum(n) as n from _matched group by all) as s
            join _customer as k using (customer_id) group by all
        ),
        true_ as (
            select s.source_table, sum(pairs(p.n) - pairs(p.n - s.n)) as pairs
            from (select source_table, person_id, sum(n) as n from _matched group by all) as s
            join _person as p using (person_id) group by all
        )
        select counts.*, coalesce(correct.pairs, 0), coalesce(predicted.pairs, 0), coalesce(true_.pairs, 0)
        from counts
        left join correct using (source_table)
        left join predicted using (source_table)
        left join true_ using (source_table)
        order by source_table
    """).fetchall()
    return tuple(
        SourceEvaluation(name, int(n), int(without), int(missing), _ratio(ok, pred), _ratio(ok, true))
        for name, n, without, missing, ok, pred, true in rows
    )


IDENTIFIERS_TABLE = "identity.int_identity__record_identifiers"
_NONE_SQL = "select cast(null as varchar) as source_table, cast(null as varchar) as record_id where false"


def _ambiguous_sql(truth_glob: Path) -> str:
    """Records all of whose identifiers are carried by records of more than one true person."""
    return f"""
        with truth as (
            select source_table, record_id, person_id from read_parquet({_literal(truth_glob)})
        ),
        shared_identifiers as (
            select identifiers.identifier_key
            from {IDENTIFIERS_TABLE} as identifiers
            join truth using (source_table, record_id)
            group by identifiers.identifier_key
            having count(distinct truth.person_id) > 1
        )
        select source_table, record_id
        from {IDENTIFIERS_TABLE} as identifiers
        left join shared_identifiers using (identifier_key)
        group by source_table, record_id
        having count(*) = count(shared_identifiers.identifier_key)
    """


def _ratio(part: int, whole: int) -> float:
    """``part / whole``, and 1.0 when there is nothing to judge (no pairs)."""
    return part / whole if whole else 1.0


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
