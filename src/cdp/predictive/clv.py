"""Customer lifetime value over a horizon: BG/NBD purchases times Gamma-Gamma order value,
discounted month by month.

As lifetimes' ``customer_lifetime_value``: for each month m = 1..H, the purchases expected
in that month, E[X(m)] - E[X(m-1)] (conditional on the customer's history), times the
expected order value, discounted by (1 + d)^m. A month is 30 days, converted to the unit
the BG/NBD model was fitted in.
"""

from __future__ import annotations

import numpy as np

from cdp.errors import PredictiveError
from cdp.predictive import bgnbd
from cdp.predictive.bgnbd import BgNbdParams

DAYS_PER_MONTH = 30
DAYS_PER_UNIT = {"day": 1, "week": 7}


def units_per_month(time_unit: str) -> float:
    """Months to the fitting time unit: 30 days per month."""
    if time_unit not in DAYS_PER_UNIT:
        raise PredictiveError(f"time_unit must be one of {', '.join(DAYS_PER_UNIT)}, got {time_unit!r}")
    return DAYS_PER_MONTH / DAYS_PER_UNIT[time_unit]


def customer_lifetime_value(
    params: BgNbdParams,
    expected_order_value: np.ndarray,
    frequency,
    recency,
    customer_age,
    *,
    time_unit: str,
    horizon_months: int,
    monthly_discount_rate: float,
) -> np.ndarray:
    """Discounted value of each customer's purchases expected over the next ``horizon_months``."""
    if horizon_months < 1:
        raise PredictiveError(f"clv: horizon_months must be >= 1, got {horizon_months}")
    if not 0 <= monthly_discount_rate < 1:
        raise PredictiveError(f"clv: monthly_discount_rate must be in [0, 1), got {monthly_discount_rate}")
    month = units_per_month(time_unit)
    months = range(1, horizon_months + 1)
    by_month = bgnbd.expected_purchases_by_horizon(
        params, [m * month for m in months], frequency, recency, customer_age
    )
    value = np.zeros(np.shape(frequency), dtype=float)
    previous = np.zeros_like(value)
    for m, cumulative in zip(months, by_month, strict=True):
        value += (cumulative - previous) * expected_order_value / (1 + monthly_discount_rate) ** m
        previous = cumulative
    return value
