"""Scoring only the person records that changed since the last build.

A pair's score depends only on its two records and the model (no term-frequency
adjustments), so after a small delivery most stored pairs still hold. Beside the pairs table
a state table keeps one row per scored record: a hash of the columns the model reads
(``record_hash``), what the records were scored with (model and threshold) and a digest of
the pairs written with them. A build then keeps the stored pairs whose two records are
unchanged and scores the changed and new records against all of them. It scores everything
when there is no state (first build, --full-refresh), when the model was retrained or the
threshold changed, or when the stored pairs are not the ones the state was written with (a
build that failed between writing the state and the pairs). On Postgres and Spark,
cdp.python_models copies the pairs and the state into the model's DuckDB session and writes
both back.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from cdp.identity import probabilistic
from cdp.warehouse import table_exists

STATE_SUFFIX = "__scored_records"  # the state table: <pairs table>__scored_records
# Beyond this share of changed records a full scoring is cheaper: linking the changed records
# to all finds each pair within them twice, once per orientation.
FULL_SCORING_SHARE = 0.5
PAIR_KEY = ("left_source_table", "left_record_id", "right_source_table", "right_record_id")
HASHES = "cdp_record_hashes"  # this build's record hashes, registered in the session


def scored_with(model_json: str, threshold: float) -> str:
    """What pairs were scored with: the stored model's JSON and the threshold."""
    return hashlib.sha256(f"{model_json}\n{threshold!r}".encode()).hexdigest()


def score(
    session: duckdb.DuckDBPyConnection,
    this: tuple[str, str],
    reuse: bool,
    records: pa.Table,
    model_json: str,
    threshold: float,
) -> pa.Table:
    """The pairs of ``records`` at or above ``threshold``, as a full scoring would give them.

    ``this`` is the pairs table's (schema, identifier); ``reuse`` whether the build may reuse
    the stored pairs (dbt's is_incremental). The state table beside them is rewritten.
    """
    key = scored_with(model_json, threshold)
    model = json.loads(model_json)
    session.register("cdp_person_records", records)
    try:
        hashes = session.sql(
            f"select {probabilistic.UNIQUE_ID}, {_record_hash()} as record_hash from cdp_person_records"
        ).to_arrow_table()
    finally:
        session.unregister("cdp_person_records")
    session.register(HASHES, hashes)
    try:
        if reuse and _stored_pairs_reusable(session, this, key):
            pairs, rescored = _rescore_changed(session, this, records, model, threshold)
        else:
            pairs = probabilistic.predict(records, model, threshold)
            rescored = records.column(probabilistic.UNIQUE_ID)
        _write_state(session, this, rescored, key, pairs)
    finally:
        session.unregister(HASHES)
    return pairs


def _record_hash() -> str:
    # JSON tells a null from the text 'null' and escapes separators: equal hash, equal record.
    columns = ", ".join(f'"{c}" := "{c}"' for c in probabilistic.RECORD_COLUMNS)
    return f"md5(to_json(struct_pack({columns})))"


def _state_table(this: tuple[str, str]) -> str:
    schema, identifier = this
    return f'"{schema}"."{identifier}{STATE_SUFFIX}"'


def _pairs_digest(session: duckdb.DuckDBPyConnection, relation: str) -> str:
    """MD5 of the sorted pair keys of ``relation``: same pairs, same digest."""
    keys = f"concat_ws('|', {', '.join(PAIR_KEY)})"
    found = session.sql(f"select coalesce(md5(string_agg({keys}, ',' order by {keys})), '') from {relation}")
    return found.fetchall()[0][0]


def _stored_pairs_reusable(session: duckdb.DuckDBPyConnection, this: tuple[str, str], key: str) -> bool:
    """Whether the state is there, was scored with ``key``, and describes the stored pairs."""
    if not table_exists(session, f"{this[0]}.{this[1]}{STATE_SUFFIX}"):
        return False
    state = session.sql(f"select distinct scored_with, pairs_digest from {_state_table(this)}").fetchall()
    if len(state) != 1 or state[0][0] != key:
        return False
    return _pairs_digest(session, f'"{this[0]}"."{this[1]}"') == state[0][1]


def _rescore_changed(
    session: duckdb.DuckDBPyConnection,
    this: tuple[str, str],
    records: pa.Table,
    model: dict[str, Any],
    threshold: float,
) -> tuple[pa.Table, pa.Array]:
    """Stored pairs of two unchanged records, plus the pairs of the changed and new records
    scored against all; and the ids of those changed and new records."""
    unchanged = f"""
        select current.{probabilistic.UNIQUE_ID}
        from {HASHES} as current
        inner join {_state_table(this)} as previous
            on previous.{probabilistic.UNIQUE_ID} = current.{probabilistic.UNIQUE_ID}
            and previous.record_hash = current.record_hash
    """
    kept = session.sql(f"""
        select * from "{this[0]}"."{this[1]}"
        where left_source_table || '|' || left_record_id in ({unchanged})
            and right_source_table || '|' || right_record_id in ({unchanged})
    """).to_arrow_table()
    rescored = session.sql(f"""
        select {probabilistic.UNIQUE_ID} from {HASHES}
        where {probabilistic.UNIQUE_ID} not in ({unchanged})
    """).to_arrow_table()
    rescored = rescored.column(probabilistic.UNIQUE_ID)
    if len(rescored) == 0:
        return kept, rescored
    if len(rescored) > FULL_SCORING_SHARE * records.num_rows:
        return probabilistic.predict(records, model, threshold), records.column(probabilistic.UNIQUE_ID)
    changed = records.filter(pc.is_in(records.column(probabilistic.UNIQUE_ID), rescored))
    scored = probabilistic.predict(records, model, threshold, changed)
    pairs = pa.concat_tables([kept, scored.cast(kept.schema)])
    return pairs.sort_by([(column, "ascending") for column in PAIR_KEY]), rescored


def _write_state(
    session: duckdb.DuckDBPyConnection, this: tuple[str, str], rescored: pa.Array, key: str, pairs: pa.Table
) -> None:
    """Rewrites the state table beside ``this``: the name the next build reads, whether this
    build writes the pairs there or renames them to it (a full build)."""
    session.register("cdp_pairs", pairs)
    session.register("cdp_rescored", pa.table({probabilistic.UNIQUE_ID: rescored}))
    try:
        digest = _pairs_digest(session, "cdp_pairs")
        # On Postgres and Spark the session is an in-memory DuckDB: the schema may be missing.
        session.execute(f'create schema if not exists "{this[0]}"')
        session.execute(
            f"""
            create or replace table {_state_table(this)} as
            select
                hashes.{probabilistic.UNIQUE_ID},
                hashes.record_hash,
                hashes.{probabilistic.UNIQUE_ID} in (select {probabilistic.UNIQUE_ID} from cdp_rescored)
                    as rescored,
                ? as scored_with,
                ? as pairs_digest
            from {HASHES} as hashes
            """,
            [key, digest],
        )
    finally:
        for name in ("cdp_pairs", "cdp_rescored"):
            session.unregister(name)
