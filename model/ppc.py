"""Posterior predictive check of each quantity's spread: does the model fit the members' SD.

For every elicited quantity, simulate a group of the same size from the fitted model, once
per posterior draw (a thinned set of `DRAWS` draws), and compare the simulated groups'
SD (probability units) with the members' actual SD. The check's p-value is the share of
simulated SDs at or above the actual one; a quantity is flagged as a misfit when the
actual SD lies outside the central 94 % of the simulated ones (p < 0.03 or p > 0.97).
Credences are simulated from the credence model (its sticks, `model.credence_model`); factors,
P(scheming) and readings from logit q ~ Normal(θ, √(τ² + s²)) with s the elicitation noise,
each answer then rounded to the form's whole percent as the members' were. Above
`MAX_MEMBERS` answers a group of `MAX_MEMBERS` is simulated (the SD of so many answers is
already close to the population's), so the cost stays bounded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy.special import expit

from model.credence_model import draw_credences, stick_shapes
from priors import SCENARIO_IDS

if TYPE_CHECKING:
    from model.analysis import Analysis

DRAWS = 200
"""Posterior draws used (evenly thinned)."""

MAX_MEMBERS = 2000
"""Largest simulated group."""

TAIL = 0.03
"""Each tail of the 94 % central interval the actual SD must fall in."""


@dataclass(frozen=True)
class SpreadCheck:
    """The check for one quantity: the actual SD against the model's predictive SDs."""

    quantity: str
    observed_sd: float
    predictive_sd: tuple[float, float]
    p_value: float
    misfit: bool


def _thin(x: np.ndarray, k: int) -> np.ndarray:
    flat = x.reshape(-1, *x.shape[2:])
    idx = np.linspace(0, flat.shape[0] - 1, min(k, flat.shape[0])).astype(int)
    return flat[idx]


def _check(quantity: str, observed: float, sims: np.ndarray) -> SpreadCheck:
    lo, hi = np.quantile(sims, [TAIL, 1 - TAIL])
    p = float(np.mean(sims >= observed))
    return SpreadCheck(
        quantity, observed, (float(lo), float(hi)), p, bool(p < TAIL or p > 1 - TAIL)
    )


def spread_checks(analysis: Analysis, *, seed: int = 0) -> dict[str, SpreadCheck]:
    """The check for every quantity with two or more answers, by quantity name."""
    post = analysis.fit.idata["posterior"]
    rng = np.random.default_rng(seed)
    data = analysis.data
    out: dict[str, SpreadCheck] = {}
    n = min(data.n, MAX_MEMBERS)
    if n >= 2:
        mu = _thin(post["mu"].transpose("chain", "draw", "scenario").values, DRAWS)
        kappa = _thin(post["kappa"].values, DRAWS)
        eps = _thin(post["credence_dispersion"].transpose("chain", "draw", "stick").values, DRAWS)
        a, b = stick_shapes(mu, kappa, eps)  # (G, 3)
        sims = draw_credences(a[:, None, :], b[:, None, :], rng, (a.shape[0], n))
        sims = np.round(sims, 2)  # the form's whole percent
        sim_sd = sims.std(axis=1, ddof=1)  # (G, 4)
        for k, s in enumerate(SCENARIO_IDS):
            obs = float(np.std(data.credences[:, k], ddof=1))
            out[f"credence:{s}"] = _check(f"credence:{s}", obs, sim_sd[:, k])
    hyper = analysis.defaults.hyperpriors
    n_fixed = len(analysis.defaults.factor_ids) + 1
    theta = _thin(post["theta"].transpose("chain", "draw", "quantity").values, DRAWS)
    tau = _thin(post["tau"].transpose("chain", "draw", "quantity").values, DRAWS)
    for j, col in enumerate(data.columns):
        answers = data.values[:, j]
        answers = answers[np.isfinite(answers)]
        m = min(answers.size, MAX_MEMBERS)
        if m < 2:
            continue
        noise = hyper.factors.elicitation_sd if j < n_fixed else hyper.readings.elicitation_sd
        scale = np.sqrt(tau[:, j] ** 2 + noise**2)
        z = rng.standard_normal((theta.shape[0], m))
        sims = np.round(expit(theta[:, j, None] + scale[:, None] * z), 2)
        out[col] = _check(col, float(np.std(answers, ddof=1)), sims.std(axis=1, ddof=1))
    return out
