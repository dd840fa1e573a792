"""Per-customer BG/NBD and Gamma-Gamma predictions from the stored fit.

Reads the parameters from int_customer__prediction_fit (no refitting) and every customer
of int_customer__purchase_summary; horizon and discount rate come from
cdp_customer.predictive (config in _models.yml).
"""

import numpy as np
import pyarrow as pa

from cdp.predictive import bgnbd, clv, gamma_gamma


def model(dbt, session) -> pa.Table:
    dbt.config(materialized="table")
    horizon_months = int(dbt.config.get("horizon_months"))
    discount_rate = float(dbt.config.get("monthly_discount_rate"))
    # dbt finds refs by parsing this file: a ref chained into another call is missed.
    fit_relation = dbt.ref("int_customer__prediction_fit")
    fitted = {(m, p): v for m, p, v in fit_relation.select("model_name, parameter_name, parameter_value").fetchall()}
    summary_relation = dbt.ref("int_customer__purchase_summary")
    summary = summary_relation.select(
        "customer_id, as_of_date, time_unit, frequency, recency, customer_age, monetary_value"
    ).to_arrow_table()
    purchases = bgnbd.BgNbdParams(
        *(fitted[(bgnbd.MODEL, name)] for name in bgnbd.PARAMETERS), log_likelihood=np.nan, n=0
    )
    spend = gamma_gamma.GammaGammaParams(
        *(fitted[(gamma_gamma.MODEL, name)] for name in gamma_gamma.PARAMETERS), log_likelihood=np.nan, n=0
    )
    x, t_x, big_t, m_x = (
        summary.column(name).to_numpy(zero_copy_only=False).astype(float)
        for name in ("frequency", "recency", "customer_age", "monetary_value")
    )
    time_unit = summary.column("time_unit")[0].as_py() if summary.num_rows else "week"
    horizon = horizon_months * clv.units_per_month(time_unit)
    order_value = gamma_gamma.expected_order_value(spend, x, m_x)
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
            "expected_purchases": pa.array(bgnbd.expected_purchases(purchases, horizon, x, t_x, big_t)),
            "probability_alive": pa.array(bgnbd.probability_alive(purchases, x, t_x, big_t)),
            "expected_order_value": pa.array(order_value),
            "predicted_clv": pa.array(value),
        }
    )
