"""The fitted BG/NBD and Gamma-Gamma parameters, one row per parameter.

Maximum likelihood (cdp.predictive) on every customer of int_customer__purchase_summary
(BG/NBD) and on its repeat buyers with a positive mean spend (Gamma-Gamma). When the data
cannot support a model yet (no orders, no repeat buyers) its rows say why in fit_status and
carry no values, so a young shop's build still passes (a warn-severity test reports it);
a fit that does not converge fails the model.

A build without --full-refresh keeps the stored fits (cdp.model_reuse) while both were fitted,
in the same time unit and as of the same date, and the customers changed by less than
cdp_customer.predictive.refit_after_growth since; --full-refresh always refits.
"""

from datetime import date

import pyarrow as pa

from cdp import model_reuse
from cdp.errors import UnfittableDataError
from cdp.predictive import bgnbd, gamma_gamma

FITTED = "fitted"
COLUMNS = [
    "model_name",
    "parameter_name",
    "parameter_value",
    "log_likelihood",
    "customers",
    "fit_status",
    "time_unit",
    "as_of_date",
]


def _fit(fit, *columns):
    """(params or None, fit_status)."""
    try:
        return fit(*columns), FITTED
    except UnfittableDataError as exc:
        return None, f"not fitted: {exc}"


def _still_fits(stored: pa.Table, customers: int, time_unit: str, as_of_date: date, growth: float) -> bool:
    """Whether the stored fits may serve this build: this version's columns, both fitted, in
    ``time_unit``, as of the same date, on a number of customers within ``growth`` of today's."""
    if stored.num_rows == 0 or set(stored.column_names) != set(COLUMNS):
        return False
    rows = stored.to_pylist()
    same_settings = all(
        row["fit_status"] == FITTED and row["time_unit"] == time_unit and row["as_of_date"] == as_of_date
        for row in rows
    )
    return same_settings and all(
        model_reuse.within_growth(row["customers"], customers, growth)
        for row in rows
        if row["model_name"] == bgnbd.MODEL
    )


def _as_of_date(summary: pa.Table, as_of: str, session) -> date:
    if summary.num_rows:
        return summary.column("as_of_date")[0].as_py()
    if as_of:  # no customers: the as-of date the summary would have used
        return date.fromisoformat(as_of)
    return session.sql("select current_date").fetchall()[0][0]


def model(dbt, session) -> pa.Table:
    dbt.config(
        materialized="incremental",
        unique_key=["model_name", "parameter_name"],
        on_schema_change="sync_all_columns",
    )
    # dbt reads config.get keys by parsing this file: keep each call a plain assignment.
    time_unit = dbt.config.get("time_unit")
    as_of = dbt.config.get("as_of")
    refit_after = dbt.config.get("refit_after_growth")
    growth = model_reuse.growth_setting(refit_after, "cdp_customer.predictive.refit_after_growth")
    # dbt finds refs by parsing this file: a ref chained into another call is missed.
    summary_relation = dbt.ref("int_customer__purchase_summary")
    summary = summary_relation.select(
        "as_of_date, time_unit, frequency, recency, customer_age, monetary_value"
    ).to_arrow_table()
    as_of_date = _as_of_date(summary, as_of, session)
    stored = model_reuse.stored_rows(dbt, session)
    if stored is not None and _still_fits(stored, summary.num_rows, time_unit, as_of_date, growth):
        return stored.select(COLUMNS)
    column = {name: summary.column(name).to_numpy(zero_copy_only=False) for name in summary.column_names}
    fits = {
        bgnbd: _fit(bgnbd.fit, column["frequency"], column["recency"], column["customer_age"]),
        gamma_gamma: _fit(gamma_gamma.fit, column["frequency"], column["monetary_value"]),
    }
    rows = [
        (module.MODEL, name, params, status)
        for module, (params, status) in fits.items()
        for name in module.PARAMETERS
    ]
    return pa.table(
        {
            "model_name": [model_name for model_name, *_ in rows],
            "parameter_name": [name for _, name, _, _ in rows],
            "parameter_value": pa.array(
                [getattr(params, name) if params else None for _, name, params, _ in rows], pa.float64()
            ),
            "log_likelihood": pa.array(
                [params.log_likelihood if params else None for _, _, params, _ in rows], pa.float64()
            ),
            "customers": pa.array([params.n if params else 0 for _, _, params, _ in rows], pa.int64()),
            "fit_status": [status for *_, status in rows],
            "time_unit": [time_unit] * len(rows),
            "as_of_date": pa.array([as_of_date] * len(rows), pa.date32()),
        }
    )
