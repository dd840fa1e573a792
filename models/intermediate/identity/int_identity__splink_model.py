"""The trained Splink model for probabilistic identity matching, stored as one row.

Trains on CRM contacts and shop accounts (see cdp.identity.probabilistic), on a seeded sample
of them when there are more than cdp_identity.probabilistic.training_max_records: the match
prior from deterministic rules, u by seeded random sampling, m by expectation maximisation.
Same staged records and seed give a byte-identical model_json.
"""

import pandas as pd

from cdp.identity import probabilistic


def model(dbt, session) -> pd.DataFrame:
    dbt.config(materialized="table")
    seed = int(dbt.config.get("probabilistic_seed"))
    max_records = int(dbt.config.get("probabilistic_training_max_records"))
    # dbt finds refs by parsing this file: a ref chained into another call is missed.
    people = dbt.ref("int_identity__person_records")
    records = probabilistic.person_records(
        [(table, people.filter(f"source_table = '{table}'")) for table in probabilistic.SOURCE_TABLES]
    )
    sample = probabilistic.training_sample(records, max_records, seed)
    trained = probabilistic.train(sample, seed)
    return pd.DataFrame([probabilistic.model_summary(trained, sample, seed, records.num_rows)])
