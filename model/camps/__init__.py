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

**Modules.** `records` holds the frozen records, `features` the standardised features,
`mixture` the EM fit and the cross-validated choice of k, `labels` what sets each camp apart,
the common ground and the map; this module finds the camps and writes their JSON.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from model.camps.features import CREDENCE_FLOOR, PROB_CLIP, _Features, _features
from model.camps.labels import (
    COMMON_GROUND_D,
    LABEL_SECOND_D,
    TOP,
    _common_ground,
    _distinguishing,
    _label,
    _map,
)
from model.camps.mixture import (
    FACTORS,
    FOLDS,
    LOADING_PSEUDO,
    MEAN_PSEUDO,
    MIN_CAMP,
    STARTS,
    VARIANCE_FLOOR,
    VARIANCE_PSEUDO,
    _candidates,
    _choose,
    _Data,
    _e_step,
    _posterior,
)
from model.camps.records import Camp, CampMember, Camps, CampScore, CommonGround, Distinguishing
from model.schema import GroupData

__all__ = [
    "COMMON_GROUND_D",
    "CREDENCE_FLOOR",
    "FACTORS",
    "FIT_CAP",
    "FOLDS",
    "LABEL_SECOND_D",
    "LOADING_PSEUDO",
    "MAX_CAMPS",
    "MEAN_PSEUDO",
    "MIN_CAMP",
    "MIN_MEMBERS",
    "PROB_CLIP",
    "STARTS",
    "TOP",
    "VARIANCE_FLOOR",
    "VARIANCE_PSEUDO",
    "Camp",
    "CampMember",
    "CampScore",
    "Camps",
    "CommonGround",
    "Distinguishing",
    "camps_json",
    "find_camps",
]

MIN_MEMBERS = 6
"""Fewer members than this: one camp (too few to split)."""
MAX_CAMPS = 5
"""At most this many camps (and at most N // 3)."""
FIT_CAP = 2000
"""Above this many members the mixture is fitted on a seeded subsample of this size."""


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
