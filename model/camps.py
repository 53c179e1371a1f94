"""Worldview camps: soft clusters of members' whole answers, each labelled by what sets it apart.

Needs only NumPy, SciPy and priors/ (no PyMC): tens of milliseconds for a hundred members,
bounded for ten thousand. `find_camps` returns frozen records; `camps_json` writes the
``camps`` entry of ``summary.json``.

The method, for a statistician to check
---------------------------------------
**Features.** One row per member. Credences in log-ratio space: a stated 0 is floored at
`CREDENCE_FLOOR` (0.005, half the form's 1 % step), then the centred log-ratio clr(π)_s =
log π_s − mean log π. Factors, P(scheming) and readings: logit(p), p clipped to
[`PROB_CLIP`, 1 − `PROB_CLIP`] = [0.005, 0.995], so a stated 0 or 1 is a finite, extreme
answer. Unanswered is missing, never imputed in the mixture. Each feature is centred at its
mean and divided by its SD over the members who answered it (the SD, not the MAD: the MAD is 0
whenever more than half the members give the same number, common with round answers); a
feature answered by fewer than two members, or constant, is dropped. The mixture uses the
credences' isometric log-ratio (ilr, Helmert contrasts: three coordinates for four scenarios,
without the clr's built-in sum-to-zero dependence); labels, common ground and the map use the
clr, one coordinate per scenario.

**Model.** A Gaussian mixture: camp means μ_k, one covariance Σ = Ψ + ΛΛᵀ shared by the camps
(Ψ diagonal; Λ, J × R loadings on R factors). Given the factors the features are independent,
so a member's density over the features they answered is exact (Woodbury and the determinant
lemma) and EM needs no imputation. The candidates are k = 1..K_max camps with a diagonal Σ
(R = 0), K_max = min(`MAX_CAMPS`, N // 3), and one camp with R = `FACTORS` (two) factors: one
camp whose answers move together. Without that candidate, answers that are merely correlated
(pessimists rate every factor higher) or skewed (small credences on the log scale) came out as
camps in simulated homogeneous groups; with it as well as a diagonal Σ for the camps, clusters
that lie along one axis (the example's four worldviews) stay apart. Per-camp variances were
tried and dropped: with 17 features and camps of 20 their cross-validated cost cancelled what a
clear split on one quantity gains.

**Fit.** EM for the MAP under weak priors that keep it proper: each ψ_j gets
`VARIANCE_PSEUDO` (one) pseudo-member at the overall variance (1, standardised), floored at
`VARIANCE_FLOOR`; each camp mean `MEAN_PSEUDO` (0.01) pseudo-member at the overall mean (a
camp where nobody answered a feature sits at the overall mean); loadings a ridge of
`LOADING_PSEUDO` (0.01). Mixing weights are the mean responsibilities. Starts for k ≥ 2:
`STARTS` (four) k-means++ seedings from a generator seeded by `seed`, plus the members cut at
the k-quantiles of every feature and of each map axis (missing at the column mean); the
quantile starts find camps that differ in one quantity only, which k-means++ in all features
misses. Every start runs ten EM steps; the three best, and the three best without a camp under
`MIN_CAMP`, run on until the log-likelihood rises by less than 1e-4 per member (at most 300
steps). A solution is the highest log-likelihood whose hard assignment (argmax of the
responsibilities) leaves every camp at least `MIN_CAMP` (two) members; a k without one is
refused: no one-member camp. The factor candidate starts from the one-camp diagonal fit, its
loadings from probabilistic PCA of the residuals.

**Choice.** Every candidate is scored out of sample: leave-one-out up to `FOLDS` (ten)
members, `FOLDS`-fold cross-validation above (folds from the seeded generator). A fold's fit
starts from the candidate's full-data solution (at most 50 EM steps on the fold's training
members; the start has seen the held-out members, a small optimism shared by all). A member's
score is the held-out log density of their answers and their camp, log p(x_i) − H(r_i), H the
entropy of their held-out camp probabilities: the integrated classification likelihood idea
(Biernacki, Celeux & Govaert 2000) out of sample. The plain ELPD, log p(x_i), also rewards
components that only reshape one spread; the entropy term counts only camps members can be
told apart by, and is about 0 for clear camps. Both sums are kept in `scores`. The chosen k is
the fewest camps whose score is within one standard error of the best, the SE of the
pointwise difference, sqrt(n · var(score_i − score_i,best)) as in loo_compare; at that k the
better-scoring form. One camp, then, unless camps predict held-out members clearly better.
Below `MIN_MEMBERS` (six) members there is one camp and `reason` says why.

**Soft membership.** Each member's responsibilities under the chosen fit: `camp` is the argmax
and `p` its probability. Camps are numbered 1..k by size, largest first.

**Labels.** For each camp against the rest of the members (hard assignment): every quantity's
standardised difference d = (camp mean − rest mean) / pooled SD (Cohen's d on the clr or logit
scale, over the members who answered; the pooled SD has n_camp + n_rest − 2 degrees of
freedom, and is the overall SD when that is 0). `distinguishing` holds the `TOP` (three)
largest |d|, with the camp's and the rest's arithmetic mean of the stated probabilities
(credences: mean credence; factors, P(scheming), readings: mean probability). The `label`
names the top quantity, and the second when its |d| is at least `LABEL_SECOND_D` (0.8, a
large difference); more/less and higher/lower follow the probability means.

**Common ground** (two or more camps): quantities where every camp's mean is within
`COMMON_GROUND_D` (0.3) overall SDs of the overall mean (clr or logit scale), listed with the
members' mean stated probability, closest agreement first. With one camp it is empty: there
are no camps to agree.

**Map.** The first two principal components of the standardised clr and logit features
(missing answers at the column mean, 0): each member's scores as x and y, the share of the
total variance each axis explains, and the quantities loading most on each axis; each axis's
sign set so that its largest loading is positive.

**Cost.** Above `FIT_CAP` (2,000) members, the candidates are fitted and scored on a seeded
subsample of that size, and every member is assigned by their responsibilities under the
chosen fit (`method` says so); labels, common ground and the map use every member.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import logit

from model.schema import GroupData
from priors import SCENARIO_IDS

CREDENCE_FLOOR = 0.005
"""A stated credence of 0 is floored here before the log ratio: half the form's 1 % step."""
PROB_CLIP = 0.005
"""Factors, P(scheming) and readings are clipped to [PROB_CLIP, 1 − PROB_CLIP] before logit."""
MIN_MEMBERS = 6
"""Fewer members than this: one camp (too few to split)."""
MAX_CAMPS = 5
"""At most this many camps (and at most N // 3)."""
MIN_CAMP = 2
"""A solution with a camp smaller than this (hard assignment) is refused."""
STARTS = 4
"""k-means++ starts per number of camps (seeded by `seed`), besides the quantile starts."""
FOLDS = 10
"""Cross-validation folds (leave-one-out at or below this many members)."""
FIT_CAP = 2000
"""Above this many members the mixture is fitted on a seeded subsample of this size."""
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
TOP = 3
"""Quantities listed per camp in `distinguishing`."""
LABEL_SECOND_D = 0.8
"""A camp's label names its second quantity when that |d| is at least this."""
COMMON_GROUND_D = 0.3
"""Common ground: every camp's mean within this many overall SDs of the overall mean."""

_MAX_ITER = 300  # EM steps to convergence
_SHORT_ITER = 10  # EM steps of every start before the best few go on
_KEEP = 3
_CV_MAX_ITER = 50  # EM steps of a fold's warm-started fit
_TOL = 1e-4  # convergence: rise in log-likelihood per member
_MAP_TOP = 3  # quantities named per map axis


@dataclass(frozen=True)
class CampMember:
    """One member: their camp (1..k), its probability, and their place on the map."""

    participant: str
    camp: int
    p: float
    x: float
    y: float


@dataclass(frozen=True)
class Distinguishing:
    """A quantity that sets a camp apart.

    Attributes
    ----------
    quantity : str
        ``credence:<scenario>``, a factor id, ``p_scheming`` or ``<evidence id>:<scenario>``.
    camp_mean, rest_mean : float
        Mean stated probability in the camp and in the rest of the group.
    d : float
        Standardised difference (camp − rest) in pooled SDs of the feature (clr or logit).
    """

    quantity: str
    camp_mean: float
    rest_mean: float
    d: float


@dataclass(frozen=True)
class Camp:
    """One camp: its id (1 = largest), size (hard assignment), label and what sets it apart."""

    id: int
    size: int
    label: str
    distinguishing: tuple[Distinguishing, ...]


@dataclass(frozen=True)
class CommonGround:
    """A quantity all camps agree on: the members' mean probability and the largest gap.

    `gap` is the largest |camp mean − overall mean| over the camps, in overall SDs.
    """

    quantity: str
    mean: float
    gap: float


@dataclass(frozen=True)
class CampScore:
    """One candidate in the choice of k (sums over the members fitted).

    Attributes
    ----------
    k : int
        Number of camps.
    factors : int
        Factors in the shared covariance: 0 for a diagonal one.
    elpd : float or None
        Cross-validated log predictive density of the members' answers; None when refused.
    entropy : float or None
        Summed entropy (nats) of the members' held-out camp probabilities.
    score : float or None
        ``elpd − entropy``, the criterion: the held-out density of answers and camp.
    se : float or None
        SE of the difference in `score` to the best candidate (0 for the best).
    smallest : int
        Size of the smallest camp (hard assignment) of the solution kept; for a refused k,
        of its best start.
    admissible : bool
        False when every start run to convergence left a camp smaller than `MIN_CAMP`.
    """

    k: int
    factors: int
    elpd: float | None
    entropy: float | None
    score: float | None
    se: float | None
    smallest: int
    admissible: bool


@dataclass(frozen=True)
class Camps:
    """The group's worldview camps (see the module docstring for the method).

    Attributes
    ----------
    k : int
        Number of camps.
    method : str
        How they were found, in one sentence.
    reason : str or None
        Why there is one camp (None when there are more).
    members : tuple of CampMember
        In the group's order.
    camps : tuple of Camp
        Ordered by id (size, largest first).
    common_ground : tuple of CommonGround
        Empty with one camp.
    axes_explained : tuple of float
        Share of the total variance of the standardised features on the map's x and y axes.
    axes_quantities : tuple of tuple of str
        Per axis, the quantities loading most on it (largest |loading| first).
    scores : tuple of CampScore
        The candidates (empty below `MIN_MEMBERS` members).
    """

    k: int
    method: str
    reason: str | None
    members: tuple[CampMember, ...]
    camps: tuple[Camp, ...]
    common_ground: tuple[CommonGround, ...]
    axes_explained: tuple[float, float]
    axes_quantities: tuple[tuple[str, ...], tuple[str, ...]]
    scores: tuple[CampScore, ...]


# ---------------------------------------------------------------- features


@dataclass(frozen=True)
class _Features:
    names: list[str]  # quantity names of the kept features (clr credences, logit answers)
    z: np.ndarray  # (N, J) standardised, 0 where missing
    mask: np.ndarray  # (N, J) float, 1 where answered
    probs: np.ndarray  # (N, J) stated probabilities, NaN where missing
    mix_z: np.ndarray  # (N, J') the mixture's features: ilr credences, logit answers
    mix_mask: np.ndarray  # (N, J')


def _helmert(d: int) -> np.ndarray:
    """Orthonormal contrasts (d − 1, d): row i compares part i + 1 with the parts before it."""
    out = np.zeros((d - 1, d))
    for i in range(1, d):
        out[i - 1, :i] = 1.0
        out[i - 1, i] = -float(i)
        out[i - 1] /= np.sqrt(i * (i + 1))
    return out


def _standardise(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Columns centred and scaled over their answers: (z with 0 where missing, mask, kept).

    Columns with fewer than two answers, or constant (SD below 1e-9), are dropped.
    """
    answered = ~np.isnan(raw)
    count = answered.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.nansum(raw, axis=0) / count
        sd = np.sqrt(np.nansum((raw - mean) ** 2, axis=0) / count)
    keep = (count >= 2) & (sd > 1e-9)
    mask = answered[:, keep]
    z = np.where(mask, (raw[:, keep] - mean[keep]) / sd[keep], 0.0)
    return z, mask.astype(float), keep


def _features(data: GroupData) -> _Features:
    """The standardised features (see the module docstring)."""
    cred = np.maximum(np.asarray(data.credences, dtype=float), CREDENCE_FLOOR)
    logc = np.log(cred)
    clr = logc - logc.mean(axis=1, keepdims=True)
    vals = np.asarray(data.values, dtype=float).reshape(data.n, -1)
    lgt = logit(np.clip(vals, PROB_CLIP, 1 - PROB_CLIP))  # NaN stays NaN
    z, mask, keep = _standardise(np.hstack([clr, lgt]))
    probs = np.hstack([np.asarray(data.credences, dtype=float), vals])
    names = [f"credence:{s}" for s in SCENARIO_IDS] + list(data.columns)
    mix_z, mix_mask, _ = _standardise(np.hstack([clr @ _helmert(len(SCENARIO_IDS)).T, lgt]))
    return _Features(
        names=[n for n, k in zip(names, keep, strict=True) if k],
        z=z,
        mask=mask,
        probs=probs[:, keep],
        mix_z=mix_z,
        mix_mask=mix_mask,
    )


# ---------------------------------------------------------------- mixture
#
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
    """MAP update from (weighted) responsibilities `resp` (B, K, n); see the module docstring.

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


# ---------------------------------------------------------------- description


def _pct(p: float) -> str:
    """A probability in percent for a label: whole percents from 10 %, two digits below."""
    x = 100.0 * p
    if x >= 9.5:
        return f"{x:.0f} %"
    if x < 0.01:
        return "< 0.01 %"
    return np.format_float_positional(x, precision=2, fractional=False, trim="-") + " %"


def _phrase(item: Distinguishing) -> str:
    more = item.camp_mean >= item.rest_mean
    vs = f"({_pct(item.camp_mean)} vs {_pct(item.rest_mean)})"
    if item.quantity.startswith("credence:"):
        scenario = item.quantity.split(":", 1)[1]
        return f"{'more' if more else 'less'} credence in {scenario} {vs}"
    verb = "reads" if ":" in item.quantity else "rates"
    return f"{verb} {item.quantity} {'higher' if more else 'lower'} {vs}"


def _label(items: tuple[Distinguishing, ...]) -> str:
    if not items:
        return "the whole group"
    shown = [items[0]]
    if len(items) > 1 and abs(items[1].d) >= LABEL_SECOND_D:
        shown.append(items[1])
    return "; ".join(_phrase(i) for i in shown)


def _nanmean(x: np.ndarray, axis: int = 0) -> np.ndarray:
    count = (~np.isnan(x)).sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, np.nansum(x, axis=axis) / np.maximum(count, 1), np.nan)


def _distinguishing(feats: _Features, inside: np.ndarray) -> tuple[Distinguishing, ...]:
    """The `TOP` quantities with the largest |d| between the camp and the rest."""
    zz = np.where(feats.mask > 0, feats.z, np.nan)
    a, b = zz[inside], zz[~inside]
    na, nb = (~np.isnan(a)).sum(axis=0), (~np.isnan(b)).sum(axis=0)
    ma, mb = _nanmean(a), _nanmean(b)
    with np.errstate(invalid="ignore", divide="ignore"):
        ss = np.nansum((a - ma) ** 2, axis=0) + np.nansum((b - mb) ** 2, axis=0)
        # Pooled SD with na + nb - 2 degrees of freedom; the overall SD (1) without any.
        pooled = np.where(na + nb >= 3, np.sqrt(ss / np.maximum(na + nb - 2, 1)), 1.0)
        diff = ma - mb
        d = np.where(diff == 0, 0.0, diff / pooled)
    d = np.where((na > 0) & (nb > 0), d, np.nan)
    pa, pb = _nanmean(feats.probs[inside]), _nanmean(feats.probs[~inside])
    valid = np.flatnonzero(~np.isnan(d))
    order = valid[np.argsort(-np.abs(d[valid]), kind="stable")][:TOP]
    return tuple(
        Distinguishing(feats.names[j], float(pa[j]), float(pb[j]), float(d[j])) for j in order
    )


def _common_ground(feats: _Features, hard: np.ndarray, k: int) -> tuple[CommonGround, ...]:
    """Quantities on which every camp's mean is within `COMMON_GROUND_D` of the overall mean."""
    if k < 2:
        return ()
    zz = np.where(feats.mask > 0, feats.z, np.nan)
    overall = _nanmean(zz)
    gaps = np.array([np.abs(_nanmean(zz[hard == c]) - overall) for c in range(k)])
    gap = np.where(np.isnan(gaps), np.inf, gaps).max(axis=0)
    mean = _nanmean(feats.probs)
    order = [int(j) for j in np.argsort(gap, kind="stable") if gap[j] <= COMMON_GROUND_D]
    return tuple(CommonGround(feats.names[j], float(mean[j]), float(gap[j])) for j in order)


def _map(feats: _Features) -> tuple[np.ndarray, tuple[float, float], tuple[tuple[str, ...], ...]]:
    """First two principal components: scores (N, 2), variance shares, top quantities.

    From the eigenvectors of the J x J cross-product of the centred features (cheaper than an
    SVD of the N x J matrix at large N, and the same axes).
    """
    n, j = feats.z.shape
    scores = np.zeros((n, 2))
    if j == 0 or n < 2:
        return scores, (0.0, 0.0), ((), ())
    zc = feats.z - feats.z.mean(axis=0)
    eigval, eigvec = np.linalg.eigh(zc.T @ zc)
    eigval, eigvec = np.maximum(eigval[::-1], 0.0), eigvec[:, ::-1]
    total = float(eigval.sum())
    shares, tops = [0.0, 0.0], [(), ()]
    for a in range(min(2, j)):
        v = eigvec[:, a]
        v = v if v[np.argmax(np.abs(v))] >= 0 else -v
        scores[:, a] = zc @ v
        shares[a] = float(eigval[a] / total) if total > 0 else 0.0
        tops[a] = tuple(feats.names[t] for t in np.argsort(-np.abs(v), kind="stable")[:_MAP_TOP])
    return scores, (shares[0], shares[1]), (tops[0], tops[1])


def _one_camp(data: GroupData, feats: _Features | None, method: str, reason: str) -> Camps:
    if feats is not None:
        xy, shares, tops = _map(feats)
    else:
        xy, shares, tops = np.zeros((data.n, 2)), (0.0, 0.0), ((), ())
    members = tuple(
        CampMember(name, 1, 1.0, float(xy[i, 0]), float(xy[i, 1]))
        for i, name in enumerate(data.participants)
    )
    return Camps(
        k=1,
        method=method,
        reason=reason,
        members=members,
        camps=(Camp(1, data.n, _label(()), ()),),
        common_ground=(),
        axes_explained=shares,
        axes_quantities=tops,
        scores=(),
    )


# ---------------------------------------------------------------- entry points


def find_camps(data: GroupData, *, seed: int = 0) -> Camps:
    """Group members into worldview camps by their whole answer (see the module docstring).

    Parameters
    ----------
    data : GroupData
        The group; unanswered values (NaN) are missing data.
    seed : int
        Seeds the k-means++ starts, the cross-validation folds and any subsample; the same
        group and seed always give the same camps.

    Returns
    -------
    Camps
    """
    n = data.n
    if n < MIN_MEMBERS:
        return _one_camp(
            data,
            _features(data) if n >= 2 else None,
            "none: too few members to split",
            f"one camp: {n} member{'s' if n != 1 else ''}, too few to split "
            f"({MIN_MEMBERS} or more are needed)",
        )
    feats = _features(data)
    if not feats.names:
        return _one_camp(
            data,
            feats,
            "none: no quantity varies",
            "one camp: every member gave the same answers",
        )
    rng = np.random.default_rng(seed)
    xy, shares, tops = _map(feats)
    fit_rows = np.arange(n)
    if n > FIT_CAP:
        fit_rows = np.sort(rng.choice(n, FIT_CAP, replace=False))
    m = len(fit_rows)
    k_max = min(MAX_CAMPS, m // 3)
    fits, scores = _candidates(
        _Data.of(feats.mix_z[fit_rows], feats.mix_mask[fit_rows]), xy[fit_rows], k_max, rng
    )
    k, r = _choose(scores)
    resp = _posterior(_e_step(_Data.of(feats.mix_z, feats.mix_mask), fits[k, r]).dens)[0][0].T
    raw_hard = resp.argmax(axis=1)
    # Camps numbered by size, largest first (ties: the camp of the earlier member).
    sizes = np.bincount(raw_hard, minlength=k)
    first = [int(np.flatnonzero(raw_hard == c)[0]) if sizes[c] else n for c in range(k)]
    order = sorted(range(k), key=lambda c: (-sizes[c], first[c]))
    renumber = np.empty(k, dtype=int)
    renumber[order] = np.arange(k)
    hard = renumber[raw_hard]
    p = resp.max(axis=1)

    members = tuple(
        CampMember(name, int(hard[i]) + 1, float(p[i]), float(xy[i, 0]), float(xy[i, 1]))
        for i, name in enumerate(data.participants)
    )
    camps = []
    for c in range(k):
        inside = hard == c
        items = _distinguishing(feats, inside) if k > 1 else ()
        camps.append(Camp(c + 1, int(inside.sum()), _label(items), items))

    cv = "leave-one-out" if m <= FOLDS else f"{FOLDS}-fold cross-validated"
    method = (
        "Gaussian mixture on ilr credences and logit answers (camp means, one shared "
        f"diagonal covariance; EM from k-means++ and quantile starts), k = 1..{k_max}, "
        f"against one camp whose answers move together ({FACTORS} shared factors); chosen by "
        f"the {cv} log density of each member's answers and camp, the fewest camps within "
        f"one SE of the best; camps of fewer than {MIN_CAMP} members refused"
    )
    if n > FIT_CAP:
        method += (
            f"; fitted on a seeded subsample of {m:,} of {n:,} members, everyone assigned by "
            "their responsibilities"
        )
    reason = None
    if k == 1 and not any(c.admissible for c in scores if c.k > 1):
        reason = "one camp: every split into two or more camps left a camp of one member"
    elif k == 1:
        reason = (
            "one camp: no split into two or more camps predicts held-out members' answers "
            "better by more than one standard error"
        )
    return Camps(
        k=k,
        method=method,
        reason=reason,
        members=members,
        camps=tuple(camps),
        common_ground=_common_ground(feats, hard, k),
        axes_explained=shares,
        axes_quantities=tops,
        scores=tuple(scores),
    )


def _num(x: float) -> float | None:
    return None if math.isnan(x) else float(x)


def camps_json(camps: Camps) -> dict[str, Any]:
    """The ``camps`` entry of ``summary.json``.

    ``{"k", "method", "members": [{"participant", "camp", "p"}], "camps": [{"id", "size",
    "label", "distinguishing": [{"quantity", "camp_mean", "rest_mean"}]}], "common_ground":
    [{"quantity", "mean"}]}``; when there is one camp, `method` ends with the reason.
    """
    method = camps.method if camps.reason is None else f"{camps.method}; {camps.reason}"
    return {
        "k": camps.k,
        "method": method,
        "members": [
            {"participant": m.participant, "camp": m.camp, "p": m.p} for m in camps.members
        ],
        "camps": [
            {
                "id": c.id,
                "size": c.size,
                "label": c.label,
                "distinguishing": [
                    {
                        "quantity": d.quantity,
                        "camp_mean": _num(d.camp_mean),
                        "rest_mean": _num(d.rest_mean),
                    }
                    for d in c.distinguishing
                ],
            }
            for c in camps.camps
        ],
        "common_ground": [
            {"quantity": g.quantity, "mean": _num(g.mean)} for g in camps.common_ground
        ],
    }
