"""When a build may reuse a stored statistical model instead of fitting it again.

The Splink match model (int_identity__splink_model) and the BG/NBD and Gamma-Gamma fits
(int_customer__prediction_fit) describe a population: 1% more people hardly moves them, yet
fitting them is among the dearest steps of a build. Both are incremental Python models: a
build with --full-refresh (the daily ``full_build`` job) always fits; a build without it (the
hourly ``incremental_build``) keeps the stored model while the rows it was fitted on changed
by less than a configured share, and its settings are the same.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa


def stored_rows(dbt: Any, session: Any) -> pa.Table | None:
    """The model's rows from the last build, or None on a full build (first run, or
    --full-refresh): what dbt's `is_incremental` says, in a Python model."""
    if not dbt.is_incremental:
        return None
    # schema.identifier, not dbt.this: the session is DuckDB on every target (on Postgres and
    # Spark, cdp.python_models copies the table into it under that name).
    return session.sql(f'select * from "{dbt.this.schema}"."{dbt.this.identifier}"').to_arrow_table()


def within_growth(fitted_on: int, available: int, growth: float) -> bool:
    """True while ``available`` rows differ from the ``fitted_on`` ones by less than ``growth``
    (a share of them, e.g. 0.1); never for a model fitted on no rows. 0 means refit always."""
    if fitted_on <= 0:
        return False
    return abs(available - fitted_on) < growth * fitted_on


def growth_setting(value: Any, key: str) -> float:
    """The configured growth share, checked: a number in [0, 1]."""
    try:
        share = float(value)
    except (TypeError, ValueError):
        share = -1.0
    if not 0 <= share <= 1:
        raise ValueError(f"{key}: must be a share in [0, 1] (0.1 = refit after 10% more rows), got {value!r}")
    return share
