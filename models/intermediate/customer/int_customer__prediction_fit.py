"""The fitted BG/NBD and Gamma-Gamma parameters, one row per parameter.

Maximum likelihood (cdp.predictive) on every customer of int_customer__purchase_summary
(BG/NBD) and on its repeat buyers with a positive mean spend (Gamma-Gamma). When the data
cannot support a model yet (no orders, no repeat buyers) its rows say why in fit_status and
carry no values, so a young shop's build still passes (a warn-severity test reports it);
a fit that does not converge fails the model.
"""

from datetime import date

import pyarrow as pa

from cdp.errors import UnfittableDataError
from cdp.predictive import bgnbd, gamma_gamma

FITTED = "fitted"


def _fit(fit, *columns):
    """(params or None, fit_status)."""
    try:
        return fit(*columns), FITTED
    except UnfittableDataError as exc:
        return None, f"not fitted: {exc}"


def model(dbt, session) -> pa.Table:
    dbt.config(materialized="table")
    # dbt reads config.get keys by parsing this file: keep each call a plain assignment.
    time_unit = dbt.config.get("time_unit")
    as_of = dbt.config.get("as_of")
    # dbt finds refs by parsing this file: a ref chained into another call is missed.
    summary_relation = dbt.ref("int_customer__purchase_summary")
    summary = summary_relation.select(
        "as_of_date, time_unit, frequency, recency, customer_age, monetary_value"
    ).to_arrow_table()
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
    if summary.num_rows:
        as_of_date = summary.column("as_of_date")[0].as_py()
    elif as_of:  # no customers: the as-of date the summary would have used
        as_of_date = date.fromisoformat(as_of)
    else:
        as_of_date = session.sql("select current_date").fetchall()[0][0]
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
