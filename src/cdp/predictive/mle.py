"""Maximum likelihood over positive parameters, shared by the BG/NBD and Gamma-Gamma fits.

Parameters are optimised on the log scale (so they stay positive) and the
objective is the mean negative log-likelihood, so its size does not depend on how many
customers there are. Identical customers are collapsed into one row with a weight first:
the likelihood only depends on (frequency, recency, T) or (frequency, monetary value), and
real data repeats those a lot.

Parameters are kept within [1e-6, 1e6]. A likelihood can keep rising towards a limit
model: with no spread in drop-out probabilities between customers, BG/NBD's a and b grow
without end at a fixed a/(a+b). Stopping at the bound gives that limit's predictions
instead of a fit that never converges.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.optimize import minimize

from cdp.errors import PredictiveError

LogLikelihood = Callable[[np.ndarray], np.ndarray]  # parameters -> per-row log-likelihoods
LOG_BOUND = float(np.log(1e6))  # |log parameter| <= this
RELATIVE_NOISE = 1e-8  # a step that lowers the objective by less is rounding, not a slope


def collapse(*columns: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """The distinct rows of ``columns`` and how often each occurs."""
    stacked = np.column_stack([np.asarray(c, dtype=float) for c in columns])
    distinct, counts = np.unique(stacked, axis=0, return_counts=True)
    return [distinct[:, i] for i in range(distinct.shape[1])], counts.astype(float)


def maximize(
    model: str, names: tuple[str, ...], row_log_likelihood: LogLikelihood, weights: np.ndarray
) -> tuple[np.ndarray, float]:
    """The parameters maximising ``sum(weights * row_log_likelihood(params))`` and that maximum.

    Starts at 1 for every parameter; raises ``PredictiveError`` naming ``model`` when the
    optimiser does not converge.
    """
    total = float(weights.sum())

    def objective(log_params: np.ndarray) -> float:
        with np.errstate(all="ignore"):
            value = -float(np.dot(weights, row_log_likelihood(np.exp(log_params)))) / total
        return value if np.isfinite(value) else np.inf

    # L-BFGS-B converges in ~100 evaluations; Nelder-Mead (slower, no gradients) takes over
    # when it stops short of an optimum.
    bounds = [(-LOG_BOUND, LOG_BOUND)] * len(names)
    result = minimize(
        objective,
        np.zeros(len(names)),
        method="L-BFGS-B",
        bounds=bounds,
        options={"ftol": 1e-15, "gtol": 1e-10, "maxiter": 2_000},
    )
    if not result.success or not _is_optimum(objective, result.x):
        result = minimize(
            objective,
            result.x if np.isfinite(result.fun) else np.zeros(len(names)),
            method="Nelder-Mead",
            bounds=bounds,
            options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 20_000, "maxfev": 40_000},
        )
    params = np.exp(result.x)
    log_likelihood = -result.fun * total
    if not np.isfinite(result.fun) or not np.all(np.isfinite(params)):
        raise PredictiveError(
            f"{model}: maximum likelihood did not converge (log-likelihood {log_likelihood}, "
            f"parameters {dict(zip(names, params, strict=True))}); the data may be too small or "
            "degenerate to fit (check the purchase summary)"
        )
    if not result.success and not _is_optimum(objective, result.x):
        raise PredictiveError(
            f"{model}: maximum likelihood did not converge ({result.message}; parameters "
            f"{dict(zip(names, np.round(params, 6), strict=True))}); the data may be too small or "
            "degenerate to fit (check the purchase summary)"
        )
    return params, float(log_likelihood)


def _is_optimum(objective: Callable[[np.ndarray], float], x: np.ndarray, step: float = 1e-4) -> bool:
    """True when no small step along any axis (within the bounds) lowers the objective by
    more than its rounding noise (an optimiser can report failure at an optimum, and success
    short of one). Near the BG/NBD limit model (a and b in the tens of thousands) the
    log-gamma terms are ~1e7, so the mean log-likelihood is only good to ~1e-9 and moves up
    and down by that much in every direction: Nelder-Mead then runs out of evaluations on a
    plateau whose predictions no longer change."""
    here = objective(x)
    tolerance = RELATIVE_NOISE * max(1.0, abs(here))
    for i in range(len(x)):
        for sign in (-1.0, 1.0):
            moved = x.copy()
            moved[i] = np.clip(moved[i] + sign * step, -LOG_BOUND, LOG_BOUND)
            if objective(moved) < here - tolerance:
                return False
    return True
