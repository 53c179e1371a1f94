"""Rounds compared: whether the members who answered both rounds moved closer together.

The comparison uses only the members who answered both rounds (a member who joins or
leaves changes a round's spread without anyone changing their mind). Their agreement in a
round is the mean pairwise distance between their stated credences over A-D, the total
variation distance ½ Σ_s |π_i(s) − π_j(s)| (0: identical, 1: no overlap). The change is
round b's minus round a's; its 94 % interval comes from a bootstrap over those members
(resampling members, not pairs: 2,000 resamples, a fixed seed). When the interval holds 0,
or fewer than three members answered both, the verdict is "too few answers to tell".
Above `MAX_MEMBERS` members a fixed-seed sample of them is used, so the cost stays bounded.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.results import Result, Stat
from priors import SCENARIO_IDS

RESAMPLES = 2000
"""Bootstrap resamples of the members who answered both rounds."""

MAX_MEMBERS = 200
"""Above this many members in both rounds, a fixed-seed sample of this many is compared."""

MIN_MEMBERS = 3
"""Fewest members in both rounds for a verdict (with two, one pair is all there is)."""


@dataclass(frozen=True)
class RoundComparison:
    """How the members who answered two rounds moved between them.

    Attributes
    ----------
    rounds : tuple of int
        The earlier and the later round.
    members : tuple of str
        Who answered both rounds (the comparison is over them only).
    consensus : dict
        Per scenario, the group model's consensus μ in each round (None if not fitted).
    kappa : tuple of (float or None)
        Posterior mean of the agreement κ in each round (None when unknown), for reference.
    distance : tuple of (float or None)
        Mean pairwise distance between those members' credences in each round.
    change : Stat or None
        Round b's distance minus round a's: the mean over bootstrap resamples and its 94 %
        percentile interval (None with fewer than `MIN_MEMBERS` members in both).
    verdict : str
        One plain sentence: converged, moved apart, or too few answers to tell.
    """

    rounds: tuple[int, int]
    members: tuple[str, ...]
    consensus: dict[str, tuple[float | None, float | None]]
    kappa: tuple[float | None, float | None]
    distance: tuple[float | None, float | None]
    change: Stat | None
    verdict: str


def _kappa(result: Result) -> float | None:
    k = result.agreement.kappa
    return None if k is None else k.mean


def _credences(result: Result, names: list[str]) -> np.ndarray:
    by_name = {p.id: p for p in result.participants}
    return np.array([[by_name[n].prior[s] for s in SCENARIO_IDS] for n in names], dtype=float)


def _pairwise(x: np.ndarray) -> np.ndarray:
    """Total variation distance between every two rows, shape (N, N)."""
    return 0.5 * np.abs(x[:, None, :] - x[None, :, :]).sum(axis=-1)


def _mean_pairwise(d: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Mean distance over pairs of distinct members in each resample (rows of `idx`).

    A member drawn twice is not a pair with themself; a resample that drew one member only
    has no pair, and its mean is NaN (left out of the interval, never counted as 0).
    """
    sub = d[idx[:, :, None], idx[:, None, :]]  # (R, n, n)
    distinct = idx[:, :, None] != idx[:, None, :]
    pairs = distinct.sum(axis=(1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(pairs > 0, (sub * distinct).sum(axis=(1, 2)) / pairs, np.nan)


def compare_rounds(
    earlier: Result, later: Result, *, rounds: tuple[int, int] = (1, 2), seed: int = 0
) -> RoundComparison:
    """Compare two rounds over the members who answered both (see the module docstring)."""
    a, b = rounds
    later_names = {p.id for p in later.participants}
    names = [p.id for p in earlier.participants if p.id in later_names]
    rng = np.random.default_rng(seed)
    if len(names) > MAX_MEMBERS:
        names = sorted(rng.choice(names, MAX_MEMBERS, replace=False).tolist())
    consensus = {
        s: tuple(
            None if r.consensus_prior is None else r.consensus_prior[s].mean
            for r in (earlier, later)
        )
        for s in SCENARIO_IDS
    }
    kappa = (_kappa(earlier), _kappa(later))
    n = len(names)
    if n < 2:
        return RoundComparison(
            (a, b),
            tuple(names),
            consensus,
            kappa,
            (None, None),
            None,
            f"Too few answers to tell whether the group converged from round {a} to round "
            f"{b}: {n} member(s) answered both rounds.",
        )
    d_a = _pairwise(_credences(earlier, names))
    d_b = _pairwise(_credences(later, names))
    everyone = np.arange(n)[None, :]
    dist = (float(_mean_pairwise(d_a, everyone)[0]), float(_mean_pairwise(d_b, everyone)[0]))
    shown = f"mean distance between their credences {dist[0]:.2f} → {dist[1]:.2f}"
    if n < MIN_MEMBERS:
        return RoundComparison(
            (a, b),
            tuple(names),
            consensus,
            kappa,
            dist,
            None,
            f"Too few answers to tell whether the group converged from round {a} to round "
            f"{b}: only {n} members answered both ({shown}).",
        )
    idx = rng.integers(0, n, size=(RESAMPLES, n))
    changes = _mean_pairwise(d_b, idx) - _mean_pairwise(d_a, idx)
    changes = changes[np.isfinite(changes)]
    lo, hi = np.quantile(changes, [0.03, 0.97])
    change = Stat(float(changes.mean()), (float(lo), float(hi)))
    interval = f"change {change.mean:+.2f}, 94 % interval {lo:+.2f} to {hi:+.2f}"
    who = f"the {n} members who answered both"
    if hi < 0:
        verdict = f"The group converged from round {a} to round {b}: {who}, {shown} ({interval})."
    elif lo > 0:
        verdict = f"The group moved apart from round {a} to round {b}: {who}, {shown} ({interval})."
    else:
        verdict = (
            f"Too few answers to tell whether the group converged from round {a} to round {b}: "
            f"for {who}, {shown} ({interval}), an interval that holds no change."
        )
    return RoundComparison((a, b), tuple(names), consensus, kappa, dist, change, verdict)
