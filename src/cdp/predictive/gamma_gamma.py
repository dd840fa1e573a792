"""Gamma-Gamma model of spend per transaction.

Fader, Hardie & Lee (2005), "RFM and CLV: using iso-value curves for customer base
analysis", Journal of Marketing Research 42(4); Fader & Hardie (2013), "The Gamma-Gamma
model of monetary value". A customer's transaction values are gamma(p, nu) around their
own mean, and nu is gamma(q, v) across customers. It is fitted on repeat buyers only
(x > 0, with m_x the mean of their x repeat transactions) and assumes spend does not
depend on how often one buys.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import gammaln

from cdp.errors import PredictiveError, UnfittableDataError
from cdp.predictive import mle

MODEL = "gamma_gamma"
PARAMETERS = ("p", "q", "v")


@dataclass(frozen=True)
class GammaGammaParams:
    p: float
    q: float
    v: float
    log_likelihood: float  # of the data fitted on (nan when the parameters were given)
    n: int  # repeat buyers fitted on

    def values(self) -> dict[str, float]:
        return {name: getattr(self, name) for name in PARAMETERS}


def log_likelihood_rows(p: float, q: float, v: float, x: np.ndarray, m_x: np.ndarray) -> np.ndarray:
    """Each repeat buyer's log-likelihood of their mean spend m_x over x transactions:

    G(px+q) / (G(px) G(q)) * v^q m_x^(px-1) x^(px) / (v + x m_x)^(px+q)
    """
    return row_log_likelihoods(x, m_x)(p, q, v)


def row_log_likelihoods(x: np.ndarray, m_x: np.ndarray) -> Callable[[float, float, float], np.ndarray]:
    """log_likelihood_rows for fixed (x, m_x), as a function of (p, q, v): the gamma
    functions are computed once per distinct x (few), the logarithms of the data once."""
    frequencies, at = np.unique(x, return_inverse=True)
    log_m_x, log_x, total_spend = np.log(m_x), np.log(x), x * m_x

    def rows(p: float, q: float, v: float) -> np.ndarray:
        per_frequency = gammaln(p * frequencies + q) - gammaln(p * frequencies) - gammaln(q) + q * np.log(v)
        px = p * x
        return per_frequency[at] + (px - 1) * log_m_x + px * log_x - (px + q) * np.log(v + total_spend)

    return rows


def _repeat_buyers(frequency, monetary_value) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(frequency, dtype=float)
    m_x = np.asarray(monetary_value, dtype=float)
    if x.shape != m_x.shape:
        raise PredictiveError(f"{MODEL}: frequency and monetary_value must have the same length")
    keep = x > 0
    negative = keep & ~(m_x >= 0)
    if negative.any():
        raise PredictiveError(
            f"{MODEL}: {int(negative.sum())} repeat buyer(s) have a negative or missing monetary_value "
            f"(e.g. {m_x[negative][0]}); order amounts must be >= 0"
        )
    # A mean spend of 0 (only free orders) has zero density under a gamma: such customers
    # carry no information about spend and are left out of the fit.
    keep &= m_x > 0
    return x[keep], m_x[keep]


def log_likelihood(params: GammaGammaParams, frequency, monetary_value) -> float:
    """Total log-likelihood of the repeat buyers (frequency > 0, monetary_value > 0)."""
    x, m_x = _repeat_buyers(frequency, monetary_value)
    return float(log_likelihood_rows(params.p, params.q, params.v, x, m_x).sum())


def fit(frequency, monetary_value) -> GammaGammaParams:
    """Maximum-likelihood p, q, v on the customers with frequency > 0 and monetary_value > 0."""
    x, m_x = _repeat_buyers(frequency, monetary_value)
    if len(x) < 2:
        raise UnfittableDataError(
            f"{MODEL}: {len(x)} customer(s) bought again (on a later day, for more than 0) up to the "
            "as-of date; spend per order needs at least 2 repeat buyers to be estimated (wait for "
            "more orders or move cdp_customer.as_of later)"
        )
    (ux, um_x), weights = mle.collapse(x, m_x)
    rows = row_log_likelihoods(ux, um_x)
    params, ll = mle.maximize(MODEL, PARAMETERS, lambda p: rows(*p), weights)
    if params[1] <= 1:
        raise UnfittableDataError(
            f"{MODEL}: fitted q = {params[1]:.4f} <= 1, so the expected spend per order is infinite "
            "(spend is too heavy-tailed for the model; check order amounts for outliers)"
        )
    return GammaGammaParams(*map(float, params), log_likelihood=ll, n=len(x))


def expected_order_value(params: GammaGammaParams, frequency, monetary_value) -> np.ndarray:
    """E[spend per future order | x, m_x] = p (v + x m_x) / (p x + q - 1): a weighted mean of
    the population mean p v / (q - 1) and the customer's own m_x, which weighs more the more
    they bought. Customers without repeat purchases get the population mean."""
    x = np.asarray(frequency, dtype=float)
    m_x = np.where(x > 0, np.nan_to_num(np.asarray(monetary_value, dtype=float)), 0.0)
    p, q, v = params.p, params.q, params.v
    return p * (v + x * m_x) / (p * x + q - 1)
