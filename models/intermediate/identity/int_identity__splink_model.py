"""The trained Splink model for probabilistic identity matching, stored as one row.

Trains on CRM contacts and shop accounts (see cdp.identity.probabilistic), on a seeded sample
of them when there are more than cdp_identity.probabilistic.training_max_records: the match
prior from deterministic rules, u by seeded random sampling, m by expectation maximisation.
Same staged records and seed give a byte-identical model_json.

A build without --full-refresh keeps the stored model (cdp.model_reuse) while the person
records changed by less than cdp_identity.probabilistic.retrain_after_growth since it was
trained and seed, sample bound and Splink version are the same.
"""

import pandas as pd

from cdp import model_reuse
from cdp.identity import probabilistic


def model(dbt, session) -> pd.DataFrame:
    dbt.config(materialized="incremental", unique_key="model_name", on_schema_change="sync_all_columns")
    # dbt reads config.get keys by parsing this file: keep each call a plain assignment.
    seed = int(dbt.config.get("probabilistic_seed"))
    max_records = int(dbt.config.get("probabilistic_training_max_records"))
    retrain_after = dbt.config.get("probabilistic_retrain_after_growth")
    growth = model_reuse.growth_setting(retrain_after, "cdp_identity.probabilistic.retrain_after_growth")
    # dbt finds refs by parsing this file: a ref chained into another call is missed.
    people = dbt.ref("int_identity__person_records")
    sources = [(table, people.filter(f"source_table = '{table}'")) for table in probabilistic.SOURCE_TABLES]
    stored = model_reuse.stored_rows(dbt, session)
    if stored is not None and probabilistic.stored_model_still_fits(
        stored, probabilistic.count_person_records(sources), seed, max_records, growth
    ):
        return stored.to_pandas()
    records = probabilistic.person_records(sources)
    sample = probabilistic.training_sample(records, max_records, seed)
    trained = probabilistic.train(sample, seed)
    return pd.DataFrame([probabilistic.model_summary(trained, sample, seed, records.num_rows)])
