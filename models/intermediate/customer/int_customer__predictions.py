"""Per-customer BG/NBD and Gamma-Gamma predictions from the stored fit.

Reads the parameters from int_customer__prediction_fit (no refitting) and every customer
of int_customer__purchase_summary; horizon and discount rate come from
cdp_customer.predictive (config in _models.yml). Scores of a model that could not be
fitted (fit_status) are null.
"""

import numpy as np
import pyarrow as pa

from cdp.predictive import bgnbd, clv, gamma_gamma


def _params(fitted: dict, module, params_class):
    values = [fitted.get((module.MODEL, name)) for name in module.PARAMETERS]
    if any(value is None for value in values):
        return None
    return params_class(*values, log_likelihood=np.nan, n=0)


def _nullable(values, fitted) -> pa.Array:
    return pa.array(values if fitted else [None] * len(values), pa.float64())


def model(dbt, session) -> pa.Table:
    dbt.config(materialized="table")
    time_unit = dbt.config.get("time_unit")
    horizon_months = int(dbt.config.get("horizon_months"))
    discount_rate = float(dbt.config.get("monthly_discount_rate"))
    # dbt finds refs by parsing this file: a ref chained into another call is missed.
    fit_relation = dbt.ref("int_customer__prediction_fit")
    fitted = {
        (m, p): v for m, p, v in fit_relation.select("model_name, parameter_name, parameter_value").fetchall()
    }
    summary_relation = dbt.ref("int_customer__purchase_summary")
    summary = summary_relation.select(
        "customer_id, as_of_date, time_unit, frequency, recency, customer_age, monetary_value"
    ).to_arrow_table()
    purchases = _params(fitted, bgnbd, bgnbd.BgNbdParams)
    spend = _params(fitted, gamma_gamma, gamma_gamma.GammaGammaParams)
    x, t_x, big_t, m_x = (
        summary.column(name).to_numpy(zero_copy_only=False).astype(float)
        for name in ("frequency", "recency", "customer_age", "monetary_value")
    )
    empty = np.full(len(x), np.nan)
    expected = alive = order_value = value = empty
    if purchases:
        horizon = horizon_months * clv.units_per_month(time_unit)
        expected = bgnbd.expected_purchases(purchases, horizon, x, t_x, big_t)
        alive = bgnbd.probability_alive(purchases, x, t_x, big_t)
    if spend:
        order_value = gamma_gamma.expected_order_value(spend, x, m_x)
    if purchases and spend:
        value = clv.customer_lifetime_value(
            purchases,
            order_value,
            x,
            t_x,
            big_t,
            time_unit=time_unit,
            horizon_months=horizon_months,
            monthly_discount_rate=discount_rate,
        )
    return pa.table(
        {
            "customer_id": summary.column("customer_id"),
            "as_of_date": summary.column("as_of_date"),
            "time_unit": summary.column("time_unit"),
            "frequency": summary.column("frequency"),
            "recency": summary.column("recency"),
            "customer_age": summary.column("customer_age"),
            "monetary_value": summary.column("monetary_value"),
            "expected_purchases": _nullable(expected, purchases),
            "probability_alive": _nullable(alive, purchases),
            "expected_order_value": _nullable(order_value, spend),
            "predicted_clv": _nullable(value, purchases and spend),
        }
    )
