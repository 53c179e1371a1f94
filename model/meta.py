"""Meta-predictions: what members expect the group to say, the surprise and false consensus.

Each member may give, beside their own credences π_i, the average credence m_i they expect
the group to give each scenario. Over the n members who answered both questions:

- actual mean ā_s = (1/n) Σ_i π_is and predicted mean p̄_s = (1/n) Σ_i m_is;
- surprise_s = ā_s − p̄_s (the surprises add up to 0);
- the surprisingly popular scenario is the one with the largest surprise (Prelec, Seung and
  McCoy, Nature 541, 2017): its actual support exceeds its predicted support the most;
- member i's false-consensus gap = A_i − E_i, where E_i = ½‖m_i − π_i‖₁ is how far i
  expects the group's average to be from i's own credences and A_i = ½‖ā − π_i‖₁ how far it
  is (total-variation distances: the share of credence that would have to move). Positive:
  the group is further from you than you think (the false-consensus effect). ā includes
  member i, as the question does ("the group, you included"); measured against the other
  members only, A_i would compare unlike things and be larger by the factor n/(n − 1).

Uncertainty: a bootstrap over members (the rows (π_i, m_i) resampled with replacement, a
fixed seed), giving a 94 % percentile interval on each surprise and the share of resamples
whose surprisingly popular scenario is the one found. With fewer than `MIN_META_ANSWERS`
such members nothing is computed that could reveal one member's answer: the record holds
the count and the reason only.

Depends only on NumPy and priors/ (for the scenario ids); never on the fit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from priors import SCENARIO_IDS

if TYPE_CHECKING:
    from model.schema import Response

MIN_META_ANSWERS = 5
"""Fewest members answering both questions before anything about them is shown."""

INTERVAL_PROB = 0.94
"""Mass of the bootstrap percentile intervals (as the results' 94 % HDIs)."""

RESAMPLES = 2000
"""Bootstrap resamples over members (fewer for very large groups: see `_MAX_CELLS`)."""

SEED = 2017
"""The bootstrap's fixed seed, so every page, file and report shows the same interval."""

_MAX_CELLS = 2_000_000  # resamples × members drawn; bounds the time (about 20 ms) at any n
_CHUNK_PICKS = 65_536
_MIN_RESAMPLES = 200
_TIE = 1e-9  # surprises closer than this are a tie

TOO_FEW = (
    f"shown once {MIN_META_ANSWERS} members have said it; with fewer, the averages could "
    "reveal one member's answer"
)
"""Why the meta-predictions are not shown."""

CAVEAT = (
    "A scenario is surprisingly popular when the group gives it more credence than its members "
    "predicted the group would (Prelec, Seung and McCoy 2017): a hint that those who favour it "
    "know something the others do not expect. Trust it less in a small group (see the interval "
    "and how often it comes out on top when members are resampled), and not at all when the "
    "whole group shares one misperception of itself."
)
"""What the surprise means and when not to trust it: one text for figure, pages and report."""


@dataclass(frozen=True)
class MetaMember:
    """One member's false-consensus gap (probability units, total-variation distances).

    Attributes
    ----------
    id : str
    expected : float
        E_i = ½‖m_i − π_i‖₁: how far the member expects the group's average to be from
        their own credences.
    actual : float
        A_i = ½‖ā − π_i‖₁: how far the group's average ā is.
    gap : float
        A_i − E_i; positive: the group is further away than the member thinks.
    """

    id: str
    expected: float
    actual: float
    gap: float


@dataclass(frozen=True)
class MetaPredictions:
    """The meta-predictions of a group (see the module docstring for the formulas).

    With fewer than `MIN_META_ANSWERS` members answering both questions, `reason` says so
    and every mean, surprise and member gap is None or empty.

    Attributes
    ----------
    answered : int
        Members who gave both their credences and the meta-prediction.
    reason : str or None
        Why nothing else is known; None when it is.
    actual_mean, predicted_mean, surprise : dict or None
        Per scenario.
    surprise_interval : dict or None
        Per scenario, the 94 % bootstrap percentile interval (lo, hi) of the surprise.
    surprisingly_popular : str or None
        The scenario with the largest surprise; None for a tie (`tie_reason` names it).
    surprisingly_popular_share : float or None
        Share of bootstrap resamples whose largest surprise is `surprisingly_popular`.
    mean_gap : float or None
        The members' mean false-consensus gap.
    members : tuple of MetaMember
        Per member who answered both, in the members' order.
    resamples, seed : int
        The bootstrap's resample count and seed.
    """

    answered: int
    reason: str | None
    actual_mean: Mapping[str, float] | None = None
    predicted_mean: Mapping[str, float] | None = None
    surprise: Mapping[str, float] | None = None
    surprise_interval: Mapping[str, tuple[float, float]] | None = None
    surprisingly_popular: str | None = None
    tie_reason: str | None = None
    surprisingly_popular_share: float | None = None
    mean_gap: float | None = None
    members: tuple[MetaMember, ...] = ()
    resamples: int = RESAMPLES
    seed: int = SEED

    @property
    def known(self) -> bool:
        """True when enough members answered to show the results."""
        return self.reason is None

    @property
    def uncertainty(self) -> str:
        """How the intervals were made, in words (for files and captions)."""
        return (
            f"bootstrap over members: {self.resamples:,} resamples (seed {self.seed}), "
            f"{round(100 * INTERVAL_PROB)} % percentile intervals"
        )

    def member(self, name: str) -> MetaMember | None:
        """Member `name`'s gap; None if they did not answer both or too few did."""
        for m in self.members:
            if m.id == name:
                return m
        return None


def resample_count(n: int, *, resamples: int = RESAMPLES) -> int:
    """Resamples for `n` members: `resamples`, fewer when n is so large that time would grow."""
    return int(min(resamples, max(_MIN_RESAMPLES, _MAX_CELLS // max(n, 1))))


def _rows(responses: Sequence[Response]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Those who gave both: names, credences (n, 4) and meta-predictions (n, 4).

    Rows are renormalised to sum to exactly 1, as the group model's credences are.
    """
    both = [r for r in responses if r.meta is not None]
    shape = (len(both), len(SCENARIO_IDS))
    cred = np.array([[r.scenarios[s] for s in SCENARIO_IDS] for r in both], float).reshape(shape)
    meta = np.array([[r.meta[s] for s in SCENARIO_IDS] for r in both], float).reshape(shape)
    if both:
        cred = cred / cred.sum(axis=1, keepdims=True)
        meta = meta / meta.sum(axis=1, keepdims=True)
    return [r.participant for r in both], cred, meta


def _per(values: np.ndarray) -> dict[str, float]:
    return dict(zip(SCENARIO_IDS, map(float, values), strict=True))


def _bootstrap(diff: np.ndarray, resamples: int, seed: int) -> np.ndarray:
    """Mean of `diff` (n, 4) over `resamples` resamples of its rows: shape (resamples, 4).

    Rows of `diff` sum to 0 (credences and meta-predictions both sum to 1), so three columns
    are resampled and the fourth is minus their sum. Resamples are drawn in chunks of about
    65,536 picks, which stay in the processor's cache.
    """
    n, k = diff.shape
    rng = np.random.default_rng(seed)
    columns = [np.ascontiguousarray(diff[:, j]) for j in range(k - 1)]
    out = np.empty((resamples, k))
    chunk = max(1, _CHUNK_PICKS // n)
    for start in range(0, resamples, chunk):
        stop = min(resamples, start + chunk)
        picks = rng.integers(0, n, size=(stop - start, n), dtype=np.intp)
        for j, column in enumerate(columns):
            out[start:stop, j] = column[picks].sum(axis=1)
    out[:, : k - 1] /= n
    out[:, k - 1] = -out[:, : k - 1].sum(axis=1)
    return out


def meta_predictions(
    responses: Sequence[Response],
    *,
    min_answers: int = MIN_META_ANSWERS,
    resamples: int = RESAMPLES,
    seed: int = SEED,
) -> MetaPredictions:
    """The meta-predictions of a group's validated responses (see the module docstring).

    Members who skipped the meta-prediction are left out of every number here.

    Parameters
    ----------
    responses : sequence of Response
    min_answers : int
        Fewest members answering both before anything but the count is computed.
    resamples : int
        Bootstrap resamples; fewer are used when members × resamples exceeds 2,000,000
        (at least 200), and the record says how many.
    seed : int
        The bootstrap's seed.
    """
    names, cred, meta = _rows(responses)
    n = len(names)
    if n < max(min_answers, 2):
        return MetaPredictions(answered=n, reason=TOO_FEW, resamples=0, seed=seed)
    diff = cred - meta
    actual, predicted = cred.mean(axis=0), meta.mean(axis=0)
    surprise = diff.mean(axis=0)
    top = np.flatnonzero(surprise >= surprise.max() - _TIE)
    popular = SCENARIO_IDS[int(top[0])] if top.size == 1 else None
    tie = None if popular else "a tie between " + " and ".join(SCENARIO_IDS[k] for k in top)

    b = resample_count(n, resamples=resamples)
    boot = _bootstrap(diff, b, seed)
    tail = 100 * (1 - INTERVAL_PROB) / 2
    lo, hi = np.percentile(boot, [tail, 100 - tail], axis=0)
    share = float(np.mean(boot.argmax(axis=1) == int(top[0]))) if popular else None

    expected = 0.5 * np.abs(meta - cred).sum(axis=1)
    actual_distance = 0.5 * np.abs(actual - cred).sum(axis=1)
    gap = actual_distance - expected
    members = tuple(
        MetaMember(name, float(e), float(a), float(g))
        for name, e, a, g in zip(names, expected, actual_distance, gap, strict=True)
    )
    return MetaPredictions(
        answered=n,
        reason=None,
        actual_mean=_per(actual),
        predicted_mean=_per(predicted),
        surprise=_per(surprise),
        surprise_interval={s: (float(lo[k]), float(hi[k])) for k, s in enumerate(SCENARIO_IDS)},
        surprisingly_popular=popular,
        tie_reason=tie,
        surprisingly_popular_share=share,
        mean_gap=float(gap.mean()),
        members=members,
        resamples=b,
        seed=seed,
    )


def meta_json(meta: MetaPredictions) -> dict[str, Any]:
    """summary.json's ``meta_predictions``: the group's numbers (no member's gap).

    With too few answers, only ``answered`` and ``reason`` carry values; the rest are null.
    """
    known = meta.known
    return {
        "answered": meta.answered,
        "reason": meta.reason,
        "actual_mean": dict(meta.actual_mean) if known else None,
        "predicted_mean": dict(meta.predicted_mean) if known else None,
        "surprise": dict(meta.surprise) if known else None,
        "surprise_interval": (
            {s: list(v) for s, v in meta.surprise_interval.items()} if known else None
        ),
        "surprisingly_popular": meta.surprisingly_popular,
        "surprisingly_popular_reason": meta.tie_reason,
        "surprisingly_popular_share": meta.surprisingly_popular_share,
        "mean_false_consensus_gap": meta.mean_gap,
        "uncertainty": meta.uncertainty if known else None,
    }
