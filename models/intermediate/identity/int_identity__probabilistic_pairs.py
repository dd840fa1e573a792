"""Record pairs the stored Splink model scores at or above the configured match probability.

Loads model_json from int_identity__splink_model (no retraining) and scores CRM contacts
and shop accounts with it. One row per pair, left key < right key.
"""

import json

import pyarrow as pa

from cdp.identity import probabilistic


def model(dbt, session) -> pa.Table:
    dbt.config(materialized="table")
    threshold = float(dbt.config.get("probabilistic_match_probability"))
    splink_model = dbt.ref("int_identity__splink_model")
    stored = splink_model.select("model_json").fetchall()
    if len(stored) != 1:
        raise ValueError(f"int_identity__splink_model holds {len(stored)} rows, expected exactly 1")
    # dbt finds refs by parsing this file: a ref chained into another call is missed.
    people = dbt.ref("int_identity__person_records")
    records = probabilistic.person_records(
        [(table, people.filter(f"source_table = '{table}'")) for table in probabilistic.SOURCE_TABLES]
    )
    return probabilistic.predict(records, json.loads(stored[0][0]), threshold)
