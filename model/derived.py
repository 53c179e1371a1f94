"""Derived quantities of the group posterior: the evidence update, scheming, spreads.

The evidence enters only here, as a derived update of what the group believes, never as a
likelihood term of the group model. Per posterior draw:

- consensus posterior: the group's predictive update, mu_s E[L_s(d)] normalised, the
  expectation over the group's spread of readings d (each reading column's logit-normal,
  theta and tau), by quadrature; not the median reading plugged into the likelihood;
- new member's posterior: the exact update of a simulated new member (credences from the
  credence model's sticks, readings from their logit-normals), averaged by Monte Carlo;
- scheming: the four factors' logits are correlated (model.group), so the group's view of a
  member's product is an expectation under the correlated normal, by common random numbers.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import xarray as xr
from scipy import stats
from scipy.special import expit, gammaln

from model.credence_model import credence_moments, draw_log_credences, stick_shapes
from model.individual import counts_rates, update_terms
from model.schema import GroupData
from priors import SCENARIO_IDS, CountsEvidence, Defaults, LikelihoodEvidence

# Nodes z and weights w with sum_k w_k f(z_k) ~ E f(Z), Z ~ N(0, 1), for f = expit(theta + tau z).
# f has poles at Im z = pi / tau, so Gauss-Hermite loses accuracy as tau grows: 64 nodes are
# within 1e-9 of adaptive quadrature up to tau = 2 but off by 2e-4 at tau = 5. Above that,
# the trapezoid rule on a fine grid is exponentially accurate (error ~ exp(-2 pi^2 / (tau h)):
# about 2e-11 at tau = 20) and cuts the normal's tails at 9 SD (mass 2e-19).
_GH_TAU_MAX = 2.0
_GH_X, _GH_W = np.polynomial.hermite.hermgauss(64)
_GH_NODES, _GH_WEIGHTS = np.sqrt(2.0) * _GH_X, _GH_W / np.sqrt(np.pi)
_TRAP_NODES = np.linspace(-9.0, 9.0, 451)  # h = 0.04
_TRAP_WEIGHTS = np.exp(-0.5 * _TRAP_NODES**2)
_TRAP_WEIGHTS /= _TRAP_WEIGHTS.sum()
# Counts items: the trapezoid rule on z in [-9, 9] with log weights (the likelihood is
# integrated in log space). h = 0.12 where tau <= 5 (the poles of expit and of the binomial
# likelihood at Im z = pi / tau keep its error below exp(-2 pi^2 / (tau h)) = 1e-14 there),
# h = 0.04 above.
_COARSE_NODES = np.linspace(-9.0, 9.0, 151)
_COARSE_TAU_MAX = 5.0


def _log_weights(z: np.ndarray) -> np.ndarray:
    w = -0.5 * z**2
    return w - np.log(np.exp(w).sum())


_COARSE_LOG_WEIGHTS = _log_weights(_COARSE_NODES)
_FINE_NODES, _FINE_LOG_WEIGHTS = _TRAP_NODES, _log_weights(_TRAP_NODES)


def _lse(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Log-sum-exp along `axis` (scipy's logsumexp is several times slower on large arrays)."""
    top = np.max(x, axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        return np.log(np.exp(x - top).sum(axis=axis)) + np.squeeze(top, axis=axis)


# Common random numbers for the factors' products: scrambled Sobol points (fixed seed) as
# standard normals. With 512 points the expectation of a product of four logistics is within
# 0.7 % of 4-D Gauss-Hermite (16^4 nodes) for spreads up to tau = 2 and correlations up to
# 0.9: a few per cent of its posterior SD (`tests/model/test_correlated_factors.py`).
PRODUCT_POINTS = 512
_PRODUCT_SEED = 20_261_127
# Simulated new members per posterior draw for `new_member_posterior`.
NEW_MEMBERS_PER_DRAW = 128


def _moments(theta: np.ndarray, tau: np.ndarray, z: np.ndarray, w: np.ndarray):
    p = expit(theta[..., None] + tau[..., None] * z)
    mean = p @ w
    p *= p
    return mean, p @ w - mean**2


def logit_normal_moments(theta: np.ndarray, tau: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and SD of expit(theta + tau Z), Z ~ N(0, 1), by quadrature.

    64-point Gauss-Hermite where tau <= 2, a fine trapezoid rule above (see the nodes'
    comment); within 1e-8 of adaptive quadrature for tau up to 20
    (`tests/model/test_group.py`).
    """
    theta, tau = np.broadcast_arrays(np.asarray(theta, float), np.asarray(tau, float))
    mean, var = np.empty(theta.shape), np.empty(theta.shape)
    small = tau <= _GH_TAU_MAX
    mean[small], var[small] = _moments(theta[small], tau[small], _GH_NODES, _GH_WEIGHTS)
    large = ~small
    if large.any():
        mean[large], var[large] = _moments(theta[large], tau[large], _TRAP_NODES, _TRAP_WEIGHTS)
    return mean, np.sqrt(np.clip(var, 0.0, None))


def _binomial_terms(u, k: int, n: int, m, fa):
    """Log L(u) and its first two derivatives in u, L = Binomial(k | n, m d + (1 - m) fa).

    d = expit(u): p rises from (1 - m) fa at d = 0 to m + (1 - m) fa at d = 1.
    """
    d = expit(u)
    p = m * d + (1.0 - m) * fa
    const = gammaln(n + 1.0) - gammaln(k + 1.0) - gammaln(n - k + 1.0)
    # where p is 0 or 1 in floating point the derivatives are NaN: the callers skip them
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        log_l = const + (k * np.log(p) if k else 0.0) + ((n - k) * np.log1p(-p) if n > k else 0.0)
        a = (k / p if k else 0.0) - ((n - k) / (1.0 - p) if n > k else 0.0)
        curv = -((k / p**2 if k else 0.0) + ((n - k) / (1.0 - p) ** 2 if n > k else 0.0))
        dp = m * d * (1.0 - d)
        d1 = a * dp
        d2 = curv * dp**2 + a * dp * (1.0 - 2.0 * d)
    return log_l, d1, d2


def _log_binomial(u, k: int, n: int, m, fa):
    """Log L(u) alone (see `_binomial_terms`), for the many nodes of the quadrature."""
    p = m * expit(u) + (1.0 - m) * fa
    const = gammaln(n + 1.0) - gammaln(k + 1.0) - gammaln(n - k + 1.0)
    with np.errstate(divide="ignore"):
        return const + (k * np.log(p) if k else 0.0) + ((n - k) * np.log1p(-p) if n > k else 0.0)


def counts_peak(k: int, n: int, m: np.ndarray, fa: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Peak u_hat and width w (1 / sqrt of minus the curvature) of log L(u), per scenario.

    L(u) = Binomial(k | n, m d + (1 - m) fa), d = expit(u), peaks where p = k / n, if that p
    lies strictly inside the range of p, ((1 - m) fa, m + (1 - m) fa); there
    -d2 log L / du2 = n (dp/du)^2 / (p (1 - p)). Elsewhere L is monotone in u (no peak):
    w is inf.
    """
    m, fa = np.asarray(m, float), np.asarray(fa, float)
    base = (1.0 - m) * fa
    p_hat = k / n
    inside = (p_hat > base) & (p_hat < base + m)
    d_hat = np.where(inside, (p_hat - base) / m, 0.5)
    u_hat = np.log(d_hat) - np.log1p(-d_hat)
    slope = m * d_hat * (1.0 - d_hat)
    with np.errstate(divide="ignore"):
        width = np.where(inside, np.sqrt(p_hat * (1.0 - p_hat) / n) / slope, np.inf)
    return u_hat, width


def _log_f(u, theta, tau, k, n, m, fa):
    """Log of f(u) = N(u; theta, tau) L(u)."""
    log_l, _, _ = _binomial_terms(u, k, n, m, fa)
    return log_l - 0.5 * ((u - theta) / tau) ** 2 - np.log(tau * np.sqrt(2 * np.pi))


def _slow_modes(theta, tau, k, n, m, fa, u_hat, width):
    """Up to three local maxima of log f (the normal's side, L's peak, a far ramp), scales.

    For the few integrals the readings' own nodes cannot do: log f on a wide grid (dense near
    theta and near L's peak, sinh-spaced out to 10^6 around theta), its three highest local
    maxima, each refined by bisection of the derivative inside its grid cell.
    """
    t = np.linspace(-1.0, 1.0, 401)
    reach = np.arcsinh(1e6 / tau)
    w = np.where(np.isfinite(width), width, tau)
    grid = np.concatenate(
        [
            theta[:, None] + tau[:, None] * np.sinh(reach[:, None] * t),
            u_hat[:, None] + w[:, None] * np.linspace(-15.0, 15.0, 61),
        ],
        axis=1,
    )
    grid.sort(axis=1)
    lf = _log_f(grid, theta[:, None], tau[:, None], k, n, m[:, None], fa[:, None])
    lf = np.where(np.isnan(lf), -np.inf, lf)
    peak = np.zeros(lf.shape, bool)
    peak[:, 1:-1] = (lf[:, 1:-1] >= lf[:, :-2]) & (lf[:, 1:-1] >= lf[:, 2:])
    score = np.where(peak, lf, -np.inf)
    order = np.argsort(-score, axis=1)[:, :3]
    found = np.isfinite(np.take_along_axis(score, order, axis=1))
    top = np.argmax(lf, axis=1)  # the highest grid point is always a candidate
    order[:, 0] = np.where(found[:, 0], order[:, 0], top)
    found[:, 0] = True
    rows = np.arange(len(theta))[:, None]
    last = grid.shape[1] - 1
    lo, hi = grid[rows, np.maximum(order - 1, 0)], grid[rows, np.minimum(order + 1, last)]
    th, ta, mm, ff = (np.repeat(v[:, None], 3, axis=1) for v in (theta, tau, m, fa))
    for _ in range(60):  # the derivative is + at lo and - at hi around a local maximum
        mid = 0.5 * (lo + hi)
        _, d1, _ = _binomial_terms(mid, k, n, mm, ff)
        up = -(mid - th) / ta**2 + d1 > 0
        lo, hi = np.where(up, mid, lo), np.where(up, hi, mid)
    u = 0.5 * (lo + hi)
    _, _, d2 = _binomial_terms(u, k, n, mm, ff)
    g2 = -1.0 / ta**2 + d2
    scale = np.where(g2 < 0, 1.0 / np.sqrt(np.where(g2 < 0, -g2, 1.0)), ta)
    return u, scale, found


def _mixture_quadrature(theta, tau, k, n, m, fa, modes, scales, found, base_mass):
    """Logs of the integrals of f and f (1 - d): sum_i lambda_i E_{N(u_i, s_i)}[f / q].

    q = sum_j lambda_j N(u_j, s_j): the readings' normal (component 0) with the mass away
    from L's peak as its weight, at most 1e-3 of L at every mode (so that near a mode its own
    component, whose nodes resolve it, carries the integral), then the modes with their
    Laplace masses. f / q is smooth, so the trapezoid rule on each component is accurate.
    """
    th, ta, mm, ff = (v[:, None, None] for v in (theta, tau, m, fa))
    lf_modes = _log_f(modes, th[..., 0], ta[..., 0], k, n, mm[..., 0], ff[..., 0])
    log_mass = np.where(found, lf_modes + np.log(scales * np.sqrt(2 * np.pi)), -np.inf)
    log_l_modes, _, _ = _binomial_terms(modes, k, n, mm[..., 0], ff[..., 0])
    cap = np.log(1e-3) + np.min(np.where(found, log_l_modes, np.inf)[:, 1:], axis=1)
    log_mass[:, 0] = np.minimum(np.where(np.isfinite(base_mass), base_mass, cap), cap)
    log_mass -= _lse(log_mass, axis=1)[:, None]
    u = modes[:, :, None] + scales[:, :, None] * _FINE_NODES  # (M, components, nodes)
    log_q = _lse(
        log_mass[:, None, None, :]
        - 0.5 * ((u[..., None] - modes[:, None, None, :]) / scales[:, None, None, :]) ** 2
        - np.log(scales[:, None, None, :] * np.sqrt(2 * np.pi)),
        axis=-1,
    )
    terms = log_mass[:, :, None] + _FINE_LOG_WEIGHTS + _log_f(u, th, ta, k, n, mm, ff) - log_q
    terms = np.where(found[:, :, None], terms, -np.inf).reshape(len(theta), -1)
    u = u.reshape(len(theta), -1)
    return _lse(terms, axis=1), _lse(terms - np.logaddexp(0.0, u), axis=1)


_BLOCK = 1024


def _trapezoid_block(idx, nodes, logw, th, ta, k, n, mm, ff, u_hat, width, out_l, out_u):
    """The trapezoid sums for entries `idx` into out_l, out_u; True where they are accurate."""
    th, ta, u_hat, width = th[idx], ta[idx], u_hat[idx], width[idx]
    u = th[:, None] + ta[:, None] * nodes
    terms = logw + _log_binomial(u, k, n, mm[idx][:, None], ff[idx][:, None])
    top = terms.max(axis=1)
    finite = np.isfinite(top)
    w = np.exp(terms - np.where(finite, top, 0.0)[:, None])
    w_u = w * expit(-u)  # times 1 - d
    half = np.exp(_log_weights(nodes[::2]) - logw[::2])
    with np.errstate(divide="ignore", invalid="ignore"):
        sums = np.log(
            [w.sum(1), w_u.sum(1), (w[:, ::2] * half).sum(1), (w_u[:, ::2] * half).sum(1)]
        )
    out_l[idx], out_u[idx] = sums[0] + top, sums[1] + top
    # error check: every other node (step 2h) must agree; the trapezoid rule converges
    # exponentially for these analytic integrands, so the full sum is far closer still
    drift = np.maximum(np.abs(sums[2] - sums[0]), np.abs(sums[3] - sums[1]))
    edge = len(nodes) // 20  # the outer 5 % of the nodes on each side: no mass there
    outer = np.concatenate([terms[:, :edge], terms[:, -edge:]], axis=1).max(axis=1)
    # a peak of L narrower than two node steps could fall between the nodes of both sums
    step = ta * (nodes[1] - nodes[0])
    hidden = (width < 2.0 * step) & (np.abs(u_hat - th) < 9.0 * ta)
    return (drift < 1e-7) & (outer < top - 30.0) & ~hidden & finite


def _counts_log_expectations(
    theta: np.ndarray, tau: np.ndarray, k: int, n: int, m: np.ndarray, fa: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Log E[L(d)] and log E[(1 - d) L(d)], d = expit(theta + tau Z), L binomial likelihood.

    theta, tau have shape (..., 4) (one reading column per scenario); m, fa shape (4,).
    In log space throughout, so an expected likelihood far below the smallest double stays
    exact.

    First the trapezoid rule on the readings' normal, h = 0.12 in z (tau <= 5), then where
    needed h = 0.04 (Gauss-Hermite was off by up to 1e-2 on the steep fall of L past its
    peak). A sum is kept where the sum over every other node agrees to 1e-7, the mass lies
    well inside the nodes and L, u = logit d, has no peak narrower than two node steps
    among them. Where both fail (many episodes make L's peak narrower than the nodes'
    spacing, or put the mass far out in the normal's tail), f(u) = N(u; theta, tau) L(u) is
    integrated around its local maxima, found on a wide grid (`_slow_modes`), by a mixture
    of Gaussian quadratures (`_mixture_quadrature`). Checked against adaptive quadrature
    (`tests/model/test_consensus_posterior.py`).
    """
    theta, tau = np.broadcast_arrays(np.asarray(theta, float), np.asarray(tau, float))
    shape = theta.shape
    th, ta = theta.ravel(), np.maximum(tau.ravel(), 1e-8)
    mm = np.broadcast_to(m, shape).ravel()
    ff = np.broadcast_to(fa, shape).ravel()
    out_l, out_u = np.empty(th.shape), np.empty(th.shape)
    u_hat, width = counts_peak(k, n, m, fa)
    u_hat = np.broadcast_to(u_hat, shape).ravel()
    width = np.broadcast_to(width, shape).ravel()
    slow = np.ones(th.shape, bool)  # not yet done
    for nodes, logw, tau_max in (
        (_COARSE_NODES, _COARSE_LOG_WEIGHTS, _COARSE_TAU_MAX),
        (_FINE_NODES, _FINE_LOG_WEIGHTS, np.inf),
    ):
        todo = np.flatnonzero(slow & (ta <= tau_max))
        for start in range(0, len(todo), _BLOCK):  # blocks small enough to stay in cache
            idx = todo[start : start + _BLOCK]
            ok = _trapezoid_block(
                idx, nodes, logw, th, ta, k, n, mm, ff, u_hat, width, out_l, out_u
            )
            slow[idx[ok]] = False
    if slow.any():
        u_hat, width = u_hat[slow], width[slow]
        args = (th[slow], ta[slow], k, n, mm[slow], ff[slow])
        modes, scales, found = _slow_modes(*args, u_hat, width)
        # the readings' own normal as a further component, for a broad base under a peak
        modes = np.concatenate([th[slow][:, None], modes], axis=1)
        scales = np.concatenate([ta[slow][:, None], scales], axis=1)
        found = np.concatenate([np.ones((slow.sum(), 1), bool), found], axis=1)
        # the base's mass: the readings' nodes away from L's peak (where they are accurate)
        u = th[slow][:, None] + ta[slow][:, None] * _FINE_NODES
        log_l, _, _ = _binomial_terms(u, k, n, mm[slow][:, None], ff[slow][:, None])
        reach = 12.0 * np.where(np.isfinite(width), width, 0.0)[:, None]
        near = np.abs(u - u_hat[:, None]) < reach
        base = _lse(np.where(near, -np.inf, _FINE_LOG_WEIGHTS + log_l), axis=1)
        out_l[slow], out_u[slow] = _mixture_quadrature(*args, modes, scales, found, base)
    return out_l.reshape(shape), out_u.reshape(shape)


def reading_columns(data: GroupData) -> np.ndarray:
    """Indices of the reading columns, shape (E, 4)."""
    index = {c: j for j, c in enumerate(data.columns)}
    return np.array([[index[f"{e.id}:{s}"] for s in SCENARIO_IDS] for e in data.evidence], int)


def expected_log_likelihoods(
    theta: np.ndarray, tau: np.ndarray, data: GroupData, defaults: Defaults
) -> tuple[np.ndarray, np.ndarray]:
    """Log E[L_es(d)] over the group's readings, and for counts items log E[(1 - d) L_es(d)].

    theta, tau: shape (..., J), the group model's columns. Returns two arrays of shape
    (..., E, 4); the second is NaN for items that are not counts items. Likelihood items:
    L = d, so E[L] is the logit-normal mean. Question items update nothing: 0.
    """
    cols = reading_columns(data)
    shape = (*theta.shape[:-1], len(data.evidence), 4)
    log_e, log_u = np.zeros(shape), np.full(shape, np.nan)
    for e, item in enumerate(data.evidence):
        th, ta = theta[..., cols[e]], tau[..., cols[e]]
        if isinstance(item, CountsEvidence):
            m, fa = counts_rates(item, defaults)
            log_e[..., e, :], log_u[..., e, :] = _counts_log_expectations(
                th, ta, item.detected, item.episodes, m, fa
            )
        elif isinstance(item, LikelihoodEvidence):
            mean, _ = logit_normal_moments(th, ta)
            with np.errstate(divide="ignore"):
                log_e[..., e, :] = np.log(mean)
    return log_e, log_u


def _corr_cholesky(free: np.ndarray, n: int) -> np.ndarray:
    """Cholesky factors of the factor correlation from the model's free values (model.group)."""
    rows, cols = np.tril_indices(n, -1)
    lower = np.zeros((*free.shape[:-1], n, n))
    lower[..., rows, cols] = free
    norm = np.sqrt(1.0 + (lower**2).sum(axis=-1, keepdims=True))
    return (lower + np.eye(n)) / norm


@cache
def product_points(n: int) -> np.ndarray:
    """The common standard-normal points for the factors' products, shape (512, n)."""
    sobol = stats.qmc.Sobol(n, scramble=True, seed=_PRODUCT_SEED)
    return stats.norm.ppf(sobol.random(PRODUCT_POINTS))


def consensus_of_products(theta: np.ndarray, scale_chol: np.ndarray) -> np.ndarray:
    """E[prod_j expit(theta_j + (C z)_j)], z ~ N(0, I), per draw, C C' the factors' covariance.

    theta: (..., F); scale_chol: (..., F, F). By the fixed Sobol points of `product_points`,
    in blocks of draws to keep memory small.
    """
    z = product_points(theta.shape[-1]).astype(np.float32)
    flat_t = theta.reshape(-1, theta.shape[-1]).astype(np.float32)
    flat_c = scale_chol.reshape(-1, *scale_chol.shape[-2:]).astype(np.float32)
    out = np.empty(len(flat_t))
    for start in range(0, len(flat_t), 64):  # float32 and small blocks: 5x faster, same mean
        t, c = flat_t[start : start + 64], flat_c[start : start + 64]
        # prod_j expit(u_j) = 1 / prod_j (1 + exp(-u_j)), u = theta + C z
        denom = np.ones((len(t), len(z)), np.float32)
        for j in range(t.shape[1]):
            u_j = t[:, j, None] + c[:, j, : j + 1] @ z[:, : j + 1].T  # C lower-triangular
            denom *= 1.0 + np.exp(-u_j)
        out[start : start + 64] = (1.0 / denom).mean(axis=1, dtype=np.float64)
    return out.reshape(theta.shape[:-1])


def new_member_posterior(
    a_stick: np.ndarray,
    b_stick: np.ndarray,
    theta: np.ndarray,
    tau: np.ndarray,
    data: GroupData,
    defaults: Defaults,
    rng: np.random.Generator,
    *,
    members: int = NEW_MEMBERS_PER_DRAW,
) -> np.ndarray:
    """Expected exact posterior of a new member drawn from the group model, per draw.

    Per posterior draw, `members` simulated members: credences from the credence model's
    sticks (a_stick, b_stick: (..., 3), `model.credence_model`; drawn in log space, so tiny
    credences do not underflow to 0), each reading from its column's logit-normal
    (theta, tau), then the exact update pi_s prod_e L_e(s) normalised; the mean of their
    posteriors. Returns shape (..., 4).
    """
    cols = reading_columns(data)
    lead = a_stick.ndim - 1
    flat = [
        x.reshape(-1, *x.shape[lead:]).astype(np.float32) for x in (a_stick, b_stick, theta, tau)
    ]
    out = np.empty((len(flat[0]), 4))
    f32 = np.float32
    for start in range(0, len(out), 128):  # float32 and small blocks: fast, same mean
        a, b, th, ta = (x[start : start + 128, None] for x in flat)
        size = (len(a), members, 4)
        log_post = draw_log_credences(a, b, rng, (len(a), members), dtype=f32)
        for e, item in enumerate(data.evidence):
            if not isinstance(item, (CountsEvidence, LikelihoodEvidence)):
                continue
            u = th[..., cols[e]] + ta[..., cols[e]] * rng.standard_normal(size, dtype=f32)
            if isinstance(item, CountsEvidence):  # the binomial coefficient cancels
                m, fa = (x.astype(f32) for x in counts_rates(item, defaults))
                p = m * expit(u) + (1 - m) * fa
                k, n = item.detected, item.episodes
                with np.errstate(divide="ignore"):
                    log_post += (k * np.log(p) if k else f32(0)) + (n - k) * np.log1p(-p)
            else:
                log_post -= np.logaddexp(f32(0), -u)  # log expit(u)
        log_post -= log_post.max(axis=-1, keepdims=True)
        post = np.exp(log_post)
        out[start : start + 128] = (post / post.sum(axis=-1, keepdims=True)).mean(
            axis=-2, dtype=np.float64
        )
    return out.reshape(*a_stick.shape[:-1], 4)


def add_derived(
    idata: xr.DataTree, data: GroupData, *, defaults: Defaults, random_seed: int | None = None
) -> xr.DataTree:
    """Add the derived quantities to the posterior group (so diagnostics cover them too).

    Added variables (dims after chain, draw):
    - ``typical`` (quantity): expit(theta), the typical member's answer;
    - ``spread`` (quantity): between-person SD of the answer on the probability scale;
    - ``credence_spread`` (scenario): SD of a member's credence under the credence model
      (the sticks' moments, `model.credence_model.credence_moments`; with eps = 0 it is
      the Dirichlet's sqrt(mu (1 - mu) / (kappa + 1)));
    - ``consensus_posterior`` (scenario): the group's predictive update,
      mu_s prod_e E[L_es(d)] normalised, E over the group's readings of item e and scenario
      s (logit-normal with that column's theta, tau);
    - ``log_odds`` (term, versus): its log-odds against A, split exactly into the prior
      part log(mu_s / mu_A) and one part per evidence item log(E[L_es] / E[L_eA]) (0 for
      question items); the terms sum to the log-odds of ``consensus_posterior``;
    - ``new_member_posterior`` (scenario): the expected exact posterior of a new member
      drawn from the group model (credences, readings), by Monte Carlo with 128 members per
      draw (seeded from `random_seed`);
    - ``scheming_product_of_consensus``: prod_j expit(theta_j) over the four factors;
    - ``scheming_consensus_of_products``: E[prod_j expit(theta_j + (C z)_j)], the group's
      view of a member's product, with C C' = T R T the factors' belief covariance (tau_j
      and ``factor_correlation`` R), by 512 common Sobol points;
    - ``scheming_new_member``: one draw of a new member's product per posterior draw, from
      the same correlated normal;
    - ``direct_new_member``: one draw of a new member's direct P(scheming);
    - ``undetected`` (counts_item, scenario): the expected undetected rate under scenario s,
      m_s E[1 - d | s, the item] = m_s E[(1 - d) L_s(d)] / E[L_s(d)]: the group's readings
      of d_s weighted by how well they explain the item (the update's own weighting);
    - ``undetected_expected`` (counts_item): sum_s consensus_posterior_s undetected_s, the
      expected undetected rate under the group's predictive update (scenario and reading
      both uncertain). Per member the same quantities use the member's own readings
      (model.individual.undetected).
    """
    post = idata["posterior"].to_dataset()
    theta = post["theta"].values
    tau = post["tau"].values
    mu = post["mu"].values
    kappa = post["kappa"].values
    a_stick, b_stick = stick_shapes(mu, kappa, post["credence_dispersion"].values)
    rng = np.random.default_rng(random_seed)

    typical = expit(theta)
    _, spread = logit_normal_moments(theta, tau)
    n_fac = len(defaults.factor_ids)
    corr_chol = _corr_cholesky(post["factor_corr_free"].values, n_fac)
    scale_chol = tau[..., :n_fac, None] * corr_chol  # T L_R, (T L_R)(T L_R)' = T R T
    z = rng.standard_normal(theta.shape)
    new_member = expit(theta + tau * z)
    new_factors = expit(
        theta[..., :n_fac] + np.einsum("...jk,...k->...j", scale_chol, z[..., :n_fac])
    )

    with np.errstate(divide="ignore"):
        log_mu = np.log(mu)
    log_e, log_u = expected_log_likelihoods(theta, tau, data, defaults)
    terms, cons_post = update_terms(log_mu, log_e)
    new_post = new_member_posterior(a_stick, b_stick, theta, tau, data, defaults, rng)

    out = {
        "typical": (("chain", "draw", "quantity"), typical),
        "spread": (("chain", "draw", "quantity"), spread),
        "credence_spread": (
            ("chain", "draw", "scenario"),
            credence_moments(a_stick, b_stick)[1],
        ),
        "consensus_posterior": (("chain", "draw", "scenario"), cons_post),
        "log_odds": (("chain", "draw", "term", "versus"), terms),
        "new_member_posterior": (("chain", "draw", "scenario"), new_post),
        "scheming_product_of_consensus": (("chain", "draw"), typical[..., :n_fac].prod(-1)),
        "scheming_consensus_of_products": (
            ("chain", "draw"),
            consensus_of_products(theta[..., :n_fac], scale_chol),
        ),
        "scheming_new_member": (("chain", "draw"), new_factors.prod(-1)),
        "direct_new_member": (("chain", "draw"), new_member[..., n_fac]),
    }
    coords = {
        "term": ["prior", *(e.id for e in data.evidence)],
        "versus": list(SCENARIO_IDS[1:]),
    }
    counts = [(e, item) for e, item in enumerate(data.evidence) if isinstance(item, CountsEvidence)]
    if counts:
        und = np.stack(
            [
                counts_rates(item, defaults)[0] * np.exp(log_u[..., e, :] - log_e[..., e, :])
                for e, item in counts
            ],
            axis=-2,
        )
        out["undetected"] = (("chain", "draw", "counts_item", "scenario"), und)
        out["undetected_expected"] = (
            ("chain", "draw", "counts_item"),
            (und * cons_post[..., None, :]).sum(-1),
        )
        coords["counts_item"] = [item.id for _, item in counts]
    post = post.assign(out).assign_coords(coords)
    idata["posterior"] = xr.DataTree(post)
    return idata
