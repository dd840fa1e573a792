"""The fitted BG/NBD and Gamma-Gamma parameters, one row per parameter.

Maximum likelihood (cdp.predictive) on every customer of int_customer__purchase_summary
(BG/NBD) and on its repeat buyers with a positive mean spend (Gamma-Gamma). A fit that
cannot run (no repeat buyers, no convergence) fails the model with the reason.
"""

import pyarrow as pa

from cdp.predictive import bgnbd, gamma_gamma


def model(dbt, session) -> pa.Table:
    dbt.config(materialized="table")
    # dbt finds refs by parsing this file: a ref chained into another call is missed.
    summary_relation = dbt.ref("int_customer__purchase_summary")
    summary = summary_relation.select(
        "as_of_date, time_unit, frequency, recency, customer_age, monetary_value"
    ).to_arrow_table()
    column = {name: summary.column(name).to_numpy(zero_copy_only=False) for name in summary.column_names}
    purchases = bgnbd.fit(column["frequency"], column["recency"], column["customer_age"])
    spend = gamma_gamma.fit(column["frequency"], column["monetary_value"])
    rows = [
        (name, params.MODEL, fitted)
        for params, fitted in ((bgnbd, purchases), (gamma_gamma, spend))
        for name in params.PARAMETERS
    ]
    as_of_date = summary.column("as_of_date")[0].as_py()
    time_unit = summary.column("time_unit")[0].as_py()
    return pa.table(
        {
            "model_name": [model_name for _, model_name, _ in rows],
            "parameter_name": [name for name, _, _ in rows],
            "parameter_value": pa.array([getattr(fitted, name) for name, _, fitted in rows], pa.float64()),
            "log_likelihood": pa.array([fitted.log_likelihood for _, _, fitted in rows], pa.float64()),
            "customers": pa.array([fitted.n for _, _, fitted in rows], pa.int64()),
            "time_unit": [time_unit] * len(rows),
            "as_of_date": pa.array([as_of_date] * len(rows), pa.date32()),
        }
    )
