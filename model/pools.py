"""The classical pools, beside the model, to show how much the answer depends on pooling."""

from __future__ import annotations

import warnings

import numpy as np

EXTREMIZE_D = 1.5
MIN_TO_EXTREMIZE = 2  # answers a column needs before it is extremized


def linear_pool(p: np.ndarray) -> np.ndarray:
    """Mean of the distributions (rows of `p`, shape (N, K))."""
    return np.asarray(p, dtype=float).mean(axis=0)


def log_pool(p: np.ndarray) -> np.ndarray:
    """Normalised geometric mean of the rows.

    A single stated 0 sends that scenario to 0. When every scenario has a 0 from someone
    the pool is undefined and all entries are NaN.
    """
    with np.errstate(divide="ignore"):
        g = np.exp(np.log(np.asarray(p, dtype=float)).mean(axis=0))
    total = g.sum()
    return g / total if total > 0 else np.full_like(g, np.nan)


def median_pool(p: np.ndarray) -> np.ndarray:
    """Componentwise median, renormalised to sum to 1."""
    m = np.median(np.asarray(p, dtype=float), axis=0)
    return m / m.sum() if m.sum() > 0 else np.full_like(m, np.nan)


def _logit(p: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.log(p) - np.log1p(-p)


def _expit(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _nan_reduce(fn, x: np.ndarray) -> np.ndarray:
    """Column reduction over answered rows; NaN for a column nobody answered (no warning)."""
    with warnings.catch_warnings(), np.errstate(invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return fn(x, axis=0)


def _finite_mean_logit(p: np.ndarray) -> np.ndarray:
    """Mean logit per column over answered rows; ±inf for stated 0/1, NaN if both occur."""
    return _nan_reduce(np.nanmean, _logit(np.asarray(p, dtype=float)))


def geometric_mean_odds(p: np.ndarray) -> np.ndarray:
    """invlogit(mean logit) per column (binary events); unanswered (NaN) rows are skipped."""
    return _expit(_finite_mean_logit(p))


def extremized_geometric_mean_odds(p: np.ndarray, *, d: float = EXTREMIZE_D) -> np.ndarray:
    """invlogit(d * mean logit) per column: the geometric mean of odds, pushed outwards.

    Only a column with at least two answers is extremized: extremizing corrects for
    forecasters who share part of their information, and one answer has no one to share
    with. A column with one answer pools to that answer (d = 1), as every pool does.
    """
    p = np.asarray(p, dtype=float)
    answered = np.sum(~np.isnan(p), axis=0)
    return _expit(np.where(answered >= MIN_TO_EXTREMIZE, d, 1.0) * _finite_mean_logit(p))


def scenario_pools(p: np.ndarray) -> dict[str, np.ndarray]:
    """The pools over A-D that make sense for a distribution: linear, log, median."""
    return {"linear": linear_pool(p), "log": log_pool(p), "median": median_pool(p)}


def binary_pools(p: np.ndarray, *, d: float = EXTREMIZE_D) -> dict[str, np.ndarray]:
    """The pools for binary events (columns of `p`, NaN = unanswered)."""
    p = np.asarray(p, dtype=float)
    return {
        "linear": _nan_reduce(np.nanmean, p),
        "geometric_mean_odds": geometric_mean_odds(p),
        "extremized": extremized_geometric_mean_odds(p, d=d),
        "median": _nan_reduce(np.nanmedian, p),
    }
