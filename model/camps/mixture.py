"""The camps' Gaussian mixture: one shared covariance, batched EM, cross-validated choice of k."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.camps.records import CampScore

MIN_CAMP = 2
"""A solution with a camp smaller than this (hard assignment) is refused."""
STARTS = 4
"""k-means++ starts per number of camps (seeded by `seed`), besides the quantile starts."""
FOLDS = 10
"""Cross-validation folds (leave-one-out at or below this many members)."""
VARIANCE_PSEUDO = 1.0
"""Pseudo-members at the overall variance (1, standardised) in each unique variance ψ_j."""
FACTORS = 2
"""Factors of the one-camp candidate whose answers move together (fewer with few features)."""
LOADING_PSEUDO = 0.01
"""Ridge on the loadings (in units of the feature's unique variance)."""
MEAN_PSEUDO = 0.01
"""Pseudo-members at the overall mean (0, standardised) in each camp's mean."""
VARIANCE_FLOOR = 1e-3
"""Smallest unique variance ψ_j, in squared overall SDs."""

_MAX_ITER = 300  # EM steps to convergence
_SHORT_ITER = 10  # EM steps of every start before the best few go on
_KEEP = 3
_CV_MAX_ITER = 50  # EM steps of a fold's warm-started fit
_TOL = 1e-4  # convergence: rise in log-likelihood per member

# One shared covariance Σ = Ψ + ΛΛᵀ: Ψ diagonal, Λ (J, R) loadings on R factors (R = 0: a
# diagonal Σ). Given the factors the features are independent, so a member's density over the
# features they answered is exact and missing answers need no imputation.
#
# A batch of B mixtures (starts, or cross-validation folds) is fitted at once. Means are
# (B, K, J), loadings (B, J, R), unique variances (B, J), log weights (B, K); component log
# densities and responsibilities are (B, K, n), posterior factor means (B, K, n, R) and
# covariances (B, n, R, R). Products are batched products of small, contiguous matrices:
# numpy leaves BLAS for a slow loop when a batched operand is a transposed view, and one large
# product is split over threads by OpenBLAS, many times slower on a busy machine.


@dataclass(frozen=True)
class _Mixture:
    means: np.ndarray  # (B, K, J)
    load: np.ndarray  # (B, J, R)
    psi: np.ndarray  # (B, J)
    logw: np.ndarray  # (B, K)

    def take(self, rows: np.ndarray) -> _Mixture:
        return _Mixture(self.means[rows], self.load[rows], self.psi[rows], self.logw[rows])


@dataclass(frozen=True)
class _Data:
    z: np.ndarray  # (n, J) standardised, 0 where missing
    mask: np.ndarray  # (n, J) 1 where answered
    stack_t: np.ndarray  # (3J, n): [mask, z², z]ᵀ

    @classmethod
    def of(cls, z: np.ndarray, mask: np.ndarray) -> _Data:
        z = z * mask
        return cls(z, mask, np.ascontiguousarray(np.hstack([mask, z * z, z]).T))


@dataclass(frozen=True)
class _EStep:
    dens: np.ndarray  # (B, K, n) log π_k + log p(x_i, answered | camp k)
    fmean: np.ndarray  # (B, K, n, R) E[f_i | x_i, camp k]
    fcov: np.ndarray  # (B, n, R, R) Cov[f_i | x_i], the same for every camp


def _e_step(data: _Data, mix: _Mixture) -> _EStep:
    """Exact log densities over each member's answered features.

    With Σ restricted to the answered set O, Woodbury and the determinant lemma give
    log N(x_O | μ_O, Σ_OO) = −½ [Σ_O log 2πψ_j + Σ_O (x_j − μ_j)²/ψ_j + log det M − bᵀM⁻¹b],
    M = I + Λ_Oᵀ Ψ_O⁻¹ Λ_O, b = Λ_Oᵀ Ψ_O⁻¹ (x − μ)_O; M⁻¹ and M⁻¹b are the factors' posterior
    covariance and mean.
    """
    b, k, j = mix.means.shape
    r = mix.load.shape[2]
    n = data.z.shape[0]
    prec = 1.0 / mix.psi[:, None, :]  # (B, 1, J)
    coef = np.concatenate(
        [
            np.log(2 * np.pi * mix.psi)[:, None, :] + mix.means**2 * prec,
            np.broadcast_to(prec, mix.means.shape),
            -2.0 * mix.means * prec,
        ],
        axis=2,
    )
    dens = coef @ data.stack_t  # (B, K, n)
    if r == 0:
        dens *= -0.5
        dens += mix.logw[:, :, None]
        return _EStep(dens, np.zeros((b, k, n, 0)), np.zeros((b, n, 0, 0)))
    lp = mix.load / mix.psi[:, :, None]  # Ψ⁻¹Λ (B, J, R)
    gram = data.mask @ (lp[:, :, :, None] * mix.load[:, :, None, :]).reshape(b, j, r * r)
    m = np.eye(r) + gram.reshape(b, n, r, r)
    fcov = np.linalg.inv(m)
    logdet = np.linalg.slogdet(m)[1]  # (B, n)
    bvec = (data.z @ lp)[:, None] - data.mask @ (mix.means[..., None] * lp[:, None])
    fmean = np.einsum("bnrs,bkns->bknr", fcov, bvec)
    dens += logdet[:, None, :]
    dens -= (bvec * fmean).sum(axis=3)
    dens *= -0.5
    dens += mix.logw[:, :, None]
    return _EStep(dens, fmean, fcov)


def _posterior(dens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Responsibilities (B, K, n) and log densities (B, n) from component log densities."""
    top = dens.max(axis=1)
    e = np.exp(dens - top[:, None, :])
    total = e.sum(axis=1)
    e /= total[:, None, :]
    return e, top + np.log(total)


def _m_step(data: _Data, resp: np.ndarray, est: _EStep) -> _Mixture:
    """MAP update from (weighted) responsibilities `resp` (B, K, n); see `model.camps`.

    Per feature j, the camp means μ_·j and the loadings Λ_j solve one weighted least-squares
    problem over the members who answered j, the factors at their posterior moments; ψ_j is
    the expected residual square, with `VARIANCE_PSEUDO` pseudo-members at 1.
    """
    b, k, n = resp.shape
    j = data.z.shape[1]
    r = est.fcov.shape[2]
    nkj = resp @ data.mask  # (B, K, J)
    s1 = resp @ data.z  # (B, K, J)
    rsum = resp.sum(axis=1)  # (B, n)
    xx = rsum @ (data.z * data.z)  # (B, J)
    if r == 0:
        means = s1 / (nkj + MEAN_PSEUDO)
        ss = xx - (2 * means * s1 - means**2 * nkj).sum(axis=1)
        load = np.zeros((b, j, 0))
    else:
        rf = resp[..., None] * est.fmean  # (B, K, n, R)
        cross = np.ascontiguousarray(rf.transpose(0, 1, 3, 2)) @ data.mask  # (B, K, R, J)
        second = np.einsum("bknr,bkns->bnrs", rf, est.fmean) + rsum[..., None, None] * est.fcov
        ff = np.ascontiguousarray(second.reshape(b, n, r * r).transpose(0, 2, 1)) @ data.mask
        s2 = np.ascontiguousarray(rf.sum(axis=1).transpose(0, 2, 1)) @ data.z  # (B, R, J)
        a = np.zeros((b, j, k + r, k + r))
        ks = np.arange(k)
        a[:, :, ks, ks] = nkj.transpose(0, 2, 1)
        a[:, :, :k, k:] = cross.transpose(0, 3, 1, 2)
        a[:, :, k:, :k] = cross.transpose(0, 3, 2, 1)
        a[:, :, k:, k:] = ff.reshape(b, r, r, j).transpose(0, 3, 1, 2)
        c = np.concatenate([s1.transpose(0, 2, 1), s2.transpose(0, 2, 1)], axis=2)
        prior = np.concatenate([np.full(k, MEAN_PSEUDO), np.full(r, LOADING_PSEUDO)])
        theta = np.linalg.solve(a + np.diag(prior), c[..., None])[..., 0]  # (B, J, K+R)
        ss = xx - 2 * (theta * c).sum(axis=2) + np.einsum("bjp,bjpq,bjq->bj", theta, a, theta)
        means = np.ascontiguousarray(theta[..., :k].transpose(0, 2, 1))
        load = np.ascontiguousarray(theta[..., k:])
    nj = nkj.sum(axis=1)
    psi = (np.maximum(ss, 0.0) + VARIANCE_PSEUDO) / (nj + VARIANCE_PSEUDO)
    nk = resp.sum(axis=2)
    logw = np.log(np.maximum(nk, 1e-300)) - np.log(nk.sum(axis=1, keepdims=True))
    return _Mixture(means, load, np.maximum(psi, VARIANCE_FLOOR), logw)


def _em(
    data: _Data, weight: np.ndarray, mix: _Mixture, *, max_iter: int
) -> tuple[_Mixture, np.ndarray]:
    """Batched EM from `mix`; `weight` (B, n) is each member's weight in each batch's fit.

    Stops when no batch's log-likelihood rises by `_TOL` per member, or after `max_iter`
    steps. Returns the mixtures and their weighted log-likelihoods (B,).
    """
    tol = _TOL * weight.sum(axis=1)
    last = np.full(weight.shape[0], -np.inf)
    for it in range(max_iter + 1):
        est = _e_step(data, mix)
        resp, logp = _posterior(est.dens)
        ll = (weight * logp).sum(axis=1)
        if it == max_iter or np.all(ll - last < tol):
            break
        last = ll
        resp *= weight[:, None, :]
        mix = _m_step(data, resp, est)
    return mix, ll


def _diagonal_start(data: _Data, resp: np.ndarray) -> _Mixture:
    """Diagonal mixtures (R = 0) whose camps are the hard groups `resp` (S, K, n)."""
    s, _, n = resp.shape
    est = _EStep(np.zeros(0), np.zeros((s, 0, n, 0)), np.zeros((s, n, 0, 0)))
    return _m_step(data, resp, est)


def _with_factors(data: _Data, mix: _Mixture, r: int) -> _Mixture:
    """A factor start from a diagonal solution: loadings from its within-camp residuals.

    Probabilistic PCA of the residuals about each member's most probable camp (missing at 0):
    Λ = U_R (L_R − σ²)^½, σ² the mean of the other eigenvalues; Ψ keeps what Λ leaves.
    """
    hard = _e_step(data, mix).dens[0].argmax(axis=0)
    resid = (data.z - mix.means[0][hard]) * data.mask
    cov = resid.T @ resid / data.z.shape[0]
    val, vec = np.linalg.eigh(cov)
    val, vec = val[::-1], vec[:, ::-1]
    rest = float(val[r:].mean())
    load = vec[:, :r] * np.sqrt(np.maximum(val[:r] - rest, 0.0))
    psi = np.maximum(np.diag(cov) - (load**2).sum(axis=1), VARIANCE_FLOOR)
    return _Mixture(mix.means, load[None], np.maximum(psi, 0.05)[None], mix.logw)


def _kmeanspp_starts(z: np.ndarray, k: int, starts: int, rng: np.random.Generator) -> np.ndarray:
    """Hard responsibilities (starts, k, n): k-means++ centres, each member to the nearest."""
    n = z.shape[0]
    sq = (z * z).sum(axis=1)
    rows = np.arange(starts)
    centres = np.empty((starts, k), dtype=int)
    centres[:, 0] = rng.integers(n, size=starts)
    d2 = np.full((starts, n), np.inf)
    for c in range(1, k):
        last = centres[:, c - 1]
        d2 = np.minimum(d2, np.maximum(sq + sq[last][:, None] - 2 * z[last] @ z.T, 0.0))
        cum = np.cumsum(d2, axis=1)
        u = rng.random(starts) * cum[:, -1]
        centres[:, c] = np.minimum((cum < u[:, None]).sum(axis=1), n - 1)
    dist = sq[None, :, None] + sq[centres][:, None, :]
    dist -= 2 * z @ np.ascontiguousarray(z[centres].transpose(0, 2, 1))
    out = np.zeros((starts, k, n))
    out[rows[:, None], dist.argmin(axis=2), np.arange(n)[None, :]] = 1.0
    return out


def _quantile_starts(scores: np.ndarray, k: int) -> np.ndarray:
    """Hard responsibilities (columns, k, n): each column of `scores` cut at its k-quantiles."""
    n, c = scores.shape
    out = np.zeros((c, k, n))
    cuts = np.quantile(scores, np.arange(1, k) / k, axis=0)  # (k - 1, c)
    for j in range(c):
        out[j, np.searchsorted(cuts[:, j], scores[:, j], side="right"), np.arange(n)] = 1.0
    return out


def _smallest(data: _Data, mix: _Mixture) -> np.ndarray:
    """Size of each batch's smallest camp under hard assignment: (B,)."""
    hard = _e_step(data, mix).dens.argmax(axis=1)  # (B, n)
    k = mix.logw.shape[1]
    return np.array([np.bincount(h, minlength=k).min() for h in hard])


def _fit_diagonal(
    data: _Data, scores: np.ndarray, k: int, rng: np.random.Generator
) -> tuple[_Mixture, int, bool]:
    """The best diagonal start for `k` camps without a camp of one.

    Returns (mixture, smallest camp, admissible). `scores` are extra start columns (the map's
    coordinates). Every start runs `_SHORT_ITER` EM steps; the `_KEEP` best, and the `_KEEP`
    best without a camp under `MIN_CAMP`, run to convergence. Without an admissible one, the
    best is returned as refused.
    """
    n = data.z.shape[0]
    if k == 1:
        resp = np.ones((1, 1, n))
    else:
        resp = np.concatenate(
            [
                _kmeanspp_starts(data.z, k, STARTS, rng),
                _quantile_starts(data.z, k),
                _quantile_starts(scores, k),
            ]
        )
    ones = np.ones((resp.shape[0], n))
    mix, ll = _em(data, ones, _diagonal_start(data, resp), max_iter=_SHORT_ITER)
    if k > 1:
        ok = _smallest(data, mix) >= MIN_CAMP
        keep = np.union1d(np.argsort(-ll)[:_KEEP], np.argsort(np.where(ok, -ll, np.inf))[:_KEEP])
        mix, ll = _em(data, ones[keep], mix.take(keep), max_iter=_MAX_ITER)
    smallest = _smallest(data, mix)
    ok = smallest >= MIN_CAMP
    best = int(np.argmax(np.where(ok, ll, -np.inf))) if ok.any() else int(np.argmax(ll))
    return mix.take(np.array([best])), int(smallest[best]), bool(ok[best])


def _fit_factors(data: _Data, start: _Mixture, r: int) -> tuple[_Mixture, int, bool]:
    """The factor form for the same camps, from the diagonal solution `start`."""
    mix, _ = _em(
        data, np.ones((1, data.z.shape[0])), _with_factors(data, start, r), max_iter=_MAX_ITER
    )
    smallest = int(_smallest(data, mix)[0])
    return mix, smallest, smallest >= MIN_CAMP


def _cv_pointwise(
    data: _Data, mix: _Mixture, folds: np.ndarray, n_folds: int
) -> tuple[np.ndarray, np.ndarray]:
    """Each member's held-out log density and the entropy of their held-out camp (n,), (n,).

    One fit per fold, warm-started at the full-data solution `mix`.
    """
    n = data.z.shape[0]
    train = (folds[None, :] != np.arange(n_folds)[:, None]).astype(float)  # (V, n)
    fitted, _ = _em(data, train, mix.take(np.zeros(n_folds, dtype=int)), max_iter=_CV_MAX_ITER)
    resp, logp = _posterior(_e_step(data, fitted).dens)  # (V, K, n), (V, n)
    rows = np.arange(n)
    p = resp[folds, :, rows]  # (n, K)
    with np.errstate(divide="ignore", invalid="ignore"):
        entropy = -np.where(p > 0, p * np.log(p), 0.0).sum(axis=1)
    return logp[folds, rows], entropy


def _candidates(
    data: _Data, starts: np.ndarray, k_max: int, rng: np.random.Generator
) -> tuple[dict[tuple[int, int], _Mixture], list[CampScore]]:
    """Every candidate (k, factors), fitted and scored by cross-validation.

    k = 1..k_max camps with a diagonal Σ, and one camp with `FACTORS` shared factors.
    """
    m, j = data.z.shape
    n_folds = min(m, FOLDS)
    folds = np.empty(m, dtype=int)
    folds[rng.permutation(m)] = np.arange(m) % n_folds
    fits: dict[tuple[int, int], _Mixture] = {}
    smallest: dict[tuple[int, int], int] = {}
    pointwise: dict[tuple[int, int], np.ndarray] = {}
    entropy: dict[tuple[int, int], np.ndarray] = {}
    for k in range(1, k_max + 1):
        fits[k, 0], smallest[k, 0], ok = _fit_diagonal(data, starts, k, rng)
        candidates = [((k, 0), ok)]
        if k == 1 and j > 1:
            r = min(FACTORS, j - 1)
            fits[k, r], smallest[k, r], ok = _fit_factors(data, fits[k, 0], r)
            candidates.append(((k, r), ok))
        for key, ok in candidates:
            if ok:
                pointwise[key], entropy[key] = _cv_pointwise(data, fits[key], folds, n_folds)
    total = {key: pointwise[key] - entropy[key] for key in pointwise}
    best = max(total, key=lambda key: total[key].sum())
    scores = []
    for key in fits:
        if key in total:
            scores.append(
                CampScore(
                    *key,
                    elpd=float(pointwise[key].sum()),
                    entropy=float(entropy[key].sum()),
                    score=float(total[key].sum()),
                    se=float(np.sqrt(m * np.var(total[key] - total[best]))),
                    smallest=smallest[key],
                    admissible=True,
                )
            )
        else:
            scores.append(CampScore(*key, None, None, None, None, smallest[key], False))
    return fits, scores


def _choose(scores: list[CampScore]) -> tuple[int, int]:
    """(k, factors): the fewest camps whose score is within one SE of the best.

    At that k, the better-scoring covariance form.
    """
    ok = [c for c in scores if c.admissible]
    best = max(c.score for c in ok)
    k = min(c.k for c in ok if c.score >= best - c.se)
    return k, max((c for c in ok if c.k == k), key=lambda c: c.score).factors
