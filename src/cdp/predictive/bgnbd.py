"""BG/NBD (beta-geometric / negative binomial distribution) model of repeat purchasing.

Fader, Hardie & Lee (2005), "Counting your customers the easy way: an alternative to the
Pareto/NBD model", Marketing Science 24(2). While alive, a customer buys at a Poisson rate
(gamma distributed across customers with shape r and rate alpha); after every purchase
they drop out with a probability p (beta distributed with a, b).

A customer is summarised by (x, t_x, T): repeat purchases, time of the last purchase and
time since the first purchase (frequency, recency and customer_age in
int_customer__purchase_summary), all in one time unit (day or week).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import betaln, expit, gammaln, hyp2f1

from cdp.errors import PredictiveError, UnfittableDataError
from cdp.predictive import mle

MODEL = "bg_nbd"
PARAMETERS = ("r", "alpha", "a", "b")


@dataclass(frozen=True)
class BgNbdParams:
    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float  # of the data fitted on (nan when the parameters were given)
    n: int  # customers fitted on

    def values(self) -> dict[str, float]:
        return {name: getattr(self, name) for name in PARAMETERS}


def _summary(
    frequency: np.ndarray, recency: np.ndarray, age: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x, t_x, big_t = (np.asarray(v, dtype=float) for v in (frequency, recency, age))
    if not (x.shape == t_x.shape == big_t.shape):
        raise PredictiveError(f"{MODEL}: frequency, recency and customer_age must have the same length")
    bad = (x < 0) | (t_x < 0) | (t_x > big_t) | ((x == 0) & (t_x != 0)) | ~np.isfinite(x + t_x + big_t)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise PredictiveError(
            f"{MODEL}: {int(bad.sum())} customer(s) have an impossible summary, e.g. frequency {x[i]}, "
            f"recency {t_x[i]}, customer_age {big_t[i]} (need 0 <= recency <= customer_age, and "
            "recency 0 without repeat purchases)"
        )
    return x, t_x, big_t


def log_likelihood_rows(
    r: float, alpha: float, a: float, b: float, x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray
) -> np.ndarray:
    """Each customer's log-likelihood, FHL (2005) equation 6 in log space:

    L = B(a, b+x)/B(a, b) * G(r+x) alpha^r / (G(r) (alpha+T)^(r+x))
        + [x > 0] B(a+1, b+x-1)/B(a, b) * G(r+x) alpha^r / (G(r) (alpha+t_x)^(r+x))
    """
    return row_log_likelihoods(x, t_x, big_t)(r, alpha, a, b)


def row_log_likelihoods(
    x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray
) -> Callable[[float, float, float, float], np.ndarray]:
    """log_likelihood_rows for fixed (x, t_x, T), as a function of (r, alpha, a, b).

    The gamma and beta functions depend on x alone, which takes few values (tens, against
    hundreds of thousands of customers), so they are computed once per distinct x: an
    evaluation costs little more than two logarithms per customer, and a fit evaluates
    hundreds of times.
    """
    frequencies, at = np.unique(x, return_inverse=True)
    repeat = frequencies > 0

    def rows(r: float, alpha: float, a: float, b: float) -> np.ndarray:
        common = gammaln(r + frequencies) - gammaln(r) + r * np.log(alpha) - betaln(a, b)
        alive = betaln(a, b + frequencies)
        dropped = np.where(repeat, betaln(a + 1, np.where(repeat, b + frequencies - 1, b)), -np.inf)
        exponent = r + x
        still_alive = alive[at] - exponent * np.log(alpha + big_t)
        dropped_out = dropped[at] - exponent * np.log(alpha + t_x)
        return common[at] + np.logaddexp(still_alive, dropped_out)

    return rows


def log_likelihood(params: BgNbdParams, frequency, recency, customer_age) -> float:
    """Total log-likelihood of the customers under ``params``."""
    x, t_x, big_t = _summary(frequency, recency, customer_age)
    return float(log_likelihood_rows(params.r, params.alpha, params.a, params.b, x, t_x, big_t).sum())


def fit(frequency, recency, customer_age) -> BgNbdParams:
    """Maximum-likelihood r, alpha, a, b for the customers' (x, t_x, T)."""
    x, t_x, big_t = _summary(frequency, recency, customer_age)
    if len(x) == 0:
        raise UnfittableDataError(
            f"{MODEL}: no customers to fit on (no completed orders up to the as-of date)"
        )
    if not (x > 0).any():
        raise UnfittableDataError(
            f"{MODEL}: none of the {len(x)} customers bought more than once (on more than one day) "
            "up to the as-of date, so repeat purchasing cannot be estimated; wait for more orders "
            "or move cdp_customer.as_of later"
        )
    (ux, ut_x, ubig_t), weights = mle.collapse(x, t_x, big_t)
    rows = row_log_likelihoods(ux, ut_x, ubig_t)
    params, ll = mle.maximize(MODEL, PARAMETERS, lambda p: rows(*p), weights)
    return BgNbdParams(*map(float, params), log_likelihood=ll, n=len(x))


def _dropout_odds_log(params: BgNbdParams, x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray) -> np.ndarray:
    """log of a/(b+x-1) * ((alpha+T)/(alpha+t_x))^(r+x) for repeat buyers, -inf otherwise."""
    repeat = x > 0
    safe_b = np.where(repeat, params.b + x - 1, 1.0)
    log_odds = (
        np.log(params.a)
        - np.log(safe_b)
        + (params.r + x) * (np.log(params.alpha + big_t) - np.log(params.alpha + t_x))
    )
    return np.where(repeat, log_odds, -np.inf)


def probability_alive(params: BgNbdParams, frequency, recency, customer_age) -> np.ndarray:
    """P(still a customer at T | x, t_x, T): 1 / (1 + [x > 0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x)).

    1 for customers who never repeat-bought (in BG/NBD one can only drop out after a purchase).
    """
    x, t_x, big_t = _summary(frequency, recency, customer_age)
    return expit(-_dropout_odds_log(params, x, t_x, big_t))


def expected_purchases(params: BgNbdParams, t, frequency, recency, customer_age) -> np.ndarray:
    """E[purchases in (T, T+t] | x, t_x, T], FHL (2005) equation 10:

    (a+b+x-1)/(a-1) * [1 - ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; t/(alpha+T+t))]
        * P(alive)
    """
    return expected_purchases_by_horizon(params, [t], frequency, recency, customer_age)[0]


def expected_purchases_by_horizon(
    params: BgNbdParams, horizons, frequency, recency, customer_age
) -> list[np.ndarray]:
    """expected_purchases for each horizon t in ``horizons``, the customers' summaries read once."""
    x, t_x, big_t = _summary(frequency, recency, customer_age)
    horizons = [float(t) for t in horizons]
    if any(t < 0 for t in horizons):
        raise PredictiveError(f"{MODEL}: the prediction horizon must not be negative, got {horizons}")
    alive = expit(-_dropout_odds_log(params, x, t_x, big_t))
    results = [if_alive * alive for if_alive in _expected_while_alive(params, horizons, x, big_t)]
    for t, result in zip(horizons, results, strict=True):
        if not np.all(np.isfinite(result)):
            raise PredictiveError(
                f"{MODEL}: expected purchases are not finite for some customers (parameters "
                f"{params.values()}, horizon {t}); refit on more data or use a shorter horizon"
            )
    return results


def _expected_while_alive(
    params: BgNbdParams, horizons: list[float], x: np.ndarray, big_t: np.ndarray
) -> list[np.ndarray]:
    """Per horizon t, equation 10 without P(alive): the purchases in (T, T+t] of a customer
    still alive. It depends on x and T alone, which take far fewer distinct pairs than there
    are customers (T counts days or weeks), so hyp2f1, the dear part, runs once per pair: at
    1M people the CLV's twelve horizons took 1.1 s computed per customer."""
    # One complex number per customer keys the pair: sorting it is far cheaper than unique rows.
    pairs, at = np.unique(x + 1j * big_t, return_inverse=True)
    px, pt = pairs.real, pairs.imag
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    results = []
    for t in horizons:
        z = t / (alpha + pt + t)
        hyp = hyp2f1(r + px, b + px, a + b + px - 1, z)
        bracket = 1 - np.exp((r + px) * (np.log(alpha + pt) - np.log(alpha + pt + t))) * hyp
        results.append(((a + b + px - 1) / (a - 1) * bracket)[at])
    return results
