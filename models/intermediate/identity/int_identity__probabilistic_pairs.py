"""Record pairs the stored Splink model scores at or above the configured match probability.

Loads model_json from int_identity__splink_model (no retraining) and scores CRM contacts
and shop accounts with it. One row per pair, left key < right key. A build without
--full-refresh scores only the records that changed since the last one, deletes the stored
pairs of changed and gone records and keeps the others (cdp.identity.pair_scoring); it returns
the pairs it scored, which dbt appends (incremental strategy append). Each pair is stamped
with the build that scored it (_built_at), and the pairs a build drops are logged
(int_identity__probabilistic_pairs__removed).
"""

import pyarrow as pa

from cdp.identity import pair_scoring, probabilistic


def model(dbt, session) -> pa.Table:
    dbt.config(materialized="incremental", incremental_strategy="append")
    # Edges read the pairs at match_probability, the same-person groups at same_person_probability.
    # dbt reads config.get's argument at parse time: a literal each.
    match = float(dbt.config.get("match_probability"))
    thresholds = [match, float(dbt.config.get("same_person_probability"))]
    stamps = pair_scoring.Stamps.from_dbt(dbt.run_started_at, dbt.config.get("log_retention_days"))
    splink_model = dbt.ref("int_identity__splink_model")
    stored = splink_model.select("model_json").fetchall()
    if len(stored) != 1:
        raise ValueError(f"int_identity__splink_model holds {len(stored)} rows, expected exactly 1")
    # dbt finds refs by parsing this file: a ref chained into another call is missed.
    people = dbt.ref("int_identity__person_records")
    records = probabilistic.person_records_relation(
        [(table, people.filter(f"source_table = '{table}'")) for table in probabilistic.SOURCE_TABLES]
    )
    # schema.identifier, not dbt.this: the session is DuckDB on every target (cdp.model_reuse).
    this = (dbt.this.schema, dbt.this.identifier)
    return pair_scoring.score(session, this, dbt.is_incremental, records, stored[0][0], thresholds, stamps)
