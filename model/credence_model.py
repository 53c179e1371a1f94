"""The credence model's arithmetic, in NumPy: stick-breaking Betas (a generalised Dirichlet).

A member's credences are broken into three sticks, in the order `ORDER` (A, D, B, C): V_1 is
the credence in A, V_2 the share of what A leaves that D takes, V_3 the share of what is
left that B takes, and C has the rest. The sticks are independent,

    V_k ~ Beta(a_k, b_k),  a_k = kappa e^(eps_k) mu_(k),  b_k = kappa e^(eps_k) (sum of mu after k),

mu_(k) the consensus of the k-th scenario in `ORDER`, eps a zero-sum vector (model.group).
With eps = 0 this is exactly Dirichlet(kappa mu) (its stick-breaking form); eps lets each
stick have its own agreement, so scenarios can spread differently, which one kappa cannot
give (the posterior predictive check of `model.ppc` flagged it on the shipped example).
The mean credence is mu whatever eps is. The graph in `model.group` writes the same a and b
in PyTensor; here are the data side (`stick_fractions`), the moments (`credence_moments`)
and draws (`draw_credences`, `draw_log_credences`), always in the scenarios' own order A-D.
"""

from __future__ import annotations

import numpy as np

N_STICKS = 3  # four scenarios: three sticks
# The order the sticks break the credences in: A, then D's share of what A leaves, then B's
# share of B and C; C takes the rest. The two ends of the scale, where the group's
# disagreement decides most, each get a stick of their own, so their spreads are free;
# B's and C's follow from the third stick and the others.
ORDER = (0, 3, 1, 2)
_UNDO = tuple(int(i) for i in np.argsort(ORDER))


def stick_shapes(
    mu: np.ndarray, kappa: np.ndarray, dispersion: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The sticks' Beta shapes a, b (..., 3) from mu (..., 4), kappa (...), eps (..., 3)."""
    mu = np.asarray(mu, float)[..., ORDER]
    scale = np.asarray(kappa, float)[..., None] * np.exp(np.asarray(dispersion, float))
    later = np.cumsum(mu[..., ::-1], axis=-1)[..., ::-1][..., 1:]  # mu after stick k
    return scale * mu[..., :N_STICKS], scale * later


def stick_fractions(credences: np.ndarray) -> np.ndarray:
    """V (N, 3): the k-th scenario's (in `ORDER`) share of what those before it left.

    A stated 0 gives V_k = 0 and all later scenarios stated 0 give V_k = 1 (both censored in
    the model); where the earlier scenarios took everything, V_k is not defined (NaN).
    """
    p = np.asarray(credences, float)[:, ORDER]
    left = np.cumsum(p[:, ::-1], axis=1)[:, ::-1][:, :N_STICKS]  # pi_k and all after it
    with np.errstate(invalid="ignore", divide="ignore"):
        v = np.where(left > 0, p[:, :N_STICKS] / np.where(left > 0, left, 1.0), np.nan)
    # all later scenarios 0: exactly 1 (the division can round just below it)
    return np.where((left > 0) & (left == p[:, :N_STICKS]), 1.0, v)


def credence_moments(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and SD (..., 4, in A-D order) of a member's credences, from the sticks' moments.

    In stick order, E[pi_k^2] = E[V_k^2] prod_(j<k) E[(1 - V_j)^2] (V_4 = 1), with
    E[V^2] = a (a + 1) / (c (c + 1)), E[(1 - V)^2] = b (b + 1) / (c (c + 1)), c = a + b.
    """
    c = a + b
    m1, m1c = a / c, b / c
    m2, m2c = a * (a + 1) / (c * (c + 1)), b * (b + 1) / (c * (c + 1))
    ones = np.ones((*a.shape[:-1], 1))
    before1 = np.cumprod(np.concatenate([ones, m1c], axis=-1), axis=-1)  # prod_(j<k) E[1 - V_j]
    before2 = np.cumprod(np.concatenate([ones, m2c], axis=-1), axis=-1)
    mean = np.concatenate([m1, ones], axis=-1) * before1
    second = np.concatenate([m2, ones], axis=-1) * before2
    sd = np.sqrt(np.clip(second - mean**2, 0.0, None))
    return mean[..., _UNDO], sd[..., _UNDO]


def _log_gamma_draws(shape: np.ndarray, rng: np.random.Generator, size, dtype) -> np.ndarray:
    """Log G, G ~ Gamma(shape): log Gamma(shape + 1) + log(U) / shape, safe for tiny shapes."""
    one = dtype(1)
    out = np.log(rng.standard_gamma(shape + one, size=size, dtype=dtype))
    return out + np.log1p(-rng.random(size, dtype=dtype)) / shape  # log U, U in (0, 1]


def draw_log_credences(
    a: np.ndarray, b: np.ndarray, rng: np.random.Generator, size: tuple[int, ...], dtype=np.float64
) -> np.ndarray:
    """Log pi of new members, shape (*size, 4); a and b (..., 3) broadcast to (*size, 3).

    In log space throughout (V = G_a / (G_a + G_b) with log-gamma draws), so a credence far
    below the smallest double stays finite.
    """
    shape = (*size, N_STICKS)
    log_ga = _log_gamma_draws(a.astype(dtype), rng, shape, dtype)
    log_gb = _log_gamma_draws(b.astype(dtype), rng, shape, dtype)
    total = np.logaddexp(log_ga, log_gb)
    log_v, log_rest = log_ga - total, log_gb - total
    before = np.cumsum(log_rest, axis=-1)  # log prod_(j<=k) (1 - V_j)
    zero = np.zeros((*size, 1), dtype)
    out = np.concatenate([log_v, zero], axis=-1) + np.concatenate([zero, before], axis=-1)
    return out[..., _UNDO]


def draw_credences(
    a: np.ndarray, b: np.ndarray, rng: np.random.Generator, size: tuple[int, ...]
) -> np.ndarray:
    """Credences of new members, shape (*size, 4), each summing to 1 (a, b as above)."""
    v = rng.beta(a, b, size=(*size, N_STICKS))
    rest = np.cumprod(1.0 - v, axis=-1)
    ones = np.ones((*size, 1))
    out = np.concatenate([v, ones], axis=-1) * np.concatenate([ones, rest], axis=-1)
    return out[..., _UNDO]
