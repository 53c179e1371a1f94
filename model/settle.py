"""What would settle it: how much one more observation is expected to bring members together.

Needs only NumPy, SciPy and the members' exact updates (no fit); the interval comes from the
consensus posterior's draws, passed in as a plain array.

The candidates are every ``question`` item (a future yes/no observation the facilitator
proposes; it updates nothing now) and one more observation of each ``counts`` and
``likelihood`` item, of the same size. For a candidate with outcomes o:

- Member i's likelihood of o under scenario s, ℓ_i(o | s), from the member's own readings
  (defaults where left blank, as in the exact update):
  question: ℓ(yes | s) = q_is (the reading P(yes | s)), ℓ(no | s) = 1 − q_is;
  likelihood: the observation is seen again, ℓ(seen | s) = L_is, or not, 1 − L_is;
  counts: k' ~ Binomial(n, m_s d_is + (1 − m_s) fa_s), n the item's episodes, d_is the
  member's detection reading, m_s and fa_s as in the exact update (see "Counts outcomes").
- Member i's posterior after o: post_i(s | o) ∝ post_i(s) · ℓ_i(o | s), post_i the exact
  posterior on today's evidence. A member who holds o impossible (Σ_s post_i(s) ℓ_i(o|s) = 0)
  has no posterior after it and keeps post_i.
- Disagreement D: the mean over pairs of members of the Jensen–Shannon divergence between
  their posteriors over A–D, in bits (base 2),
  JS(P, Q) = H((P + Q)/2) − (H(P) + H(Q))/2, H(P) = −Σ_s P_s log2 P_s (0 log 0 = 0),
  bounded in [0, 1], so a stated 0 keeps it finite.
- The value (expected reduction in disagreement, bits):
  VoD = D_now − Σ_o P(o) · D(after o).

**Weighting P(o).** The group's predictive probability, per draw g of the consensus
posterior c_g (``consensus_posterior`` of the group model, the group's view of A–D after
today's evidence): P_g(o) = Σ_s c_gs · m(o | s), m(o | s) = mean_i ℓ_i(o | s) the members'
average reading. D(after o) does not depend on g, so
VoD_g = D_now − Σ_s c_gs W_s,  W_s = Σ_o m(o | s) D(after o),
is linear in c_g: every draw costs four multiplications, so all draws are used (no
thinning); `Settler.vod` is their mean and 94 % HDI (the interval over the group posterior;
the members' readings and posteriors are taken as stated). The alternative of FRI's value
of discrimination, outcomes weighted by the geometric mean of the members' odds of their
own predictive P_i(o) = Σ_s post_i(s) ℓ_i(o | s), is `Settler.vod_geometric`: for a yes/no
outcome P(yes) = expit(mean_i logit P_i(yes)); for counts its generalisation, the
logarithmic pool P(o) ∝ exp(mean_i log P_i(o)) (the same thing for two outcomes). It does
not depend on the consensus, so it has no interval, and a member who holds an outcome
impossible sets its weight to 0 (None when every outcome gets 0).

**Polarising.** VoD < 0 (below −`ROUNDING`, 1e-9 bits, which absorbs rounding): members
read the observation oppositely, so its answer is expected to drive them apart.

**Double crux.** For each pair (a, b), the candidate with the largest expected reduction in
their own divergence, v_ab = JS_ab(now) − Σ_o P̄(o) JS_ab(after o), with P̄ the group's
predictive at the consensus posterior mean (so the mean of v_ab over the pairs is the
VoD's mean); a pair no candidate brings closer (every v_ab ≤ `ROUNDING`) has none. Each
candidate lists up to `TOP_PAIRS` pairs whose double crux it is, largest value first;
`double_crux` gives it for any one named pair.

**Pairs.** With N members there are N(N − 1)/2 pairs. Up to `MAX_PAIRS` (2,000, so up to
N = 63) all of them are used; above, `MAX_PAIRS` distinct pairs drawn uniformly without
replacement from a generator seeded by `seed` (same seed, same pairs), so D, the VoD and the
double cruxes are estimates, and only the members in those pairs (a uniform sample of the
members: all of them at N = 100, about 3,300 at N = 10,000) are computed with, for their
posteriors after each outcome and for the group's m(o | s). Beyond reading the N updates,
the cost is then bounded whatever N: about 20 ms at N = 100, 50 ms at 1,000 and 0.1 s at
10,000 for the shipped items and a question (4,000 consensus draws).

**Counts outcomes.** Every k' = 0 … n when n + 1 ≤ `MAX_OUTCOMES` (200). For larger n, when
all members' and scenarios' rates put their mass (all but `TAIL` = 1e-9 in each tail) on at
most `MAX_OUTCOMES` counts, each such count is an outcome and the two tails are one outcome
each (equal to enumerating every count, to 1e-9). Otherwise (rates so far apart that their
counts span more than that, e.g. a D reading of 0.99 beside A's near 0 with n = 1,000) the
outcomes are at most `MAX_OUTCOMES` bins of counts whose edges are binomial quantiles at
representative rates: the probabilities are exact, only the observation is coarsened (the
bin, not the count; 3e-4 bits off enumerating every count in the test). Likelihoods are
computed once per distinct rate: at most 4 × 101 for readings in whole percents, as the form
gives; readings of arbitrary precision from a file make the binned case slower (0.35 s at
N = 1,000, 1 s at 10,000), still bounded by the members in the pairs.

**Left out.** A member who left a question (or a likelihood item) without reference values
unanswered has no reading of it: that member is left out of that candidate (its D, P(o) and
pairs); `Settler.answered` counts who is in. A candidate read by fewer than two members has
no value (`vod` None with a reason) and comes last.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special, stats

from model.individual import IndividualUpdate, counts_rates
from model.schema import reading_default
from model.stats import Stat, hdi
from priors import SCENARIO_IDS, CountsEvidence, Defaults, EvidenceItem

MAX_PAIRS = 2000
"""Above this many pairs of members, this many are drawn (seeded) instead of all of them."""
MAX_OUTCOMES = 200
"""Most outcomes of one more counts observation (see "Counts outcomes")."""
TAIL = 1e-9
"""Binomial tail mass below which counts share one outcome."""
TOP_PAIRS = 5
"""Most pairs listed per candidate (those it is the double crux of)."""
ROUNDING = 1e-9
"""Bits within this of 0 are rounding: polarising is below −this, a double crux above it."""
TOO_FEW = "unknown: fewer than two members read it"
"""Why a candidate has no value."""

_LN2 = math.log(2.0)


@dataclass(frozen=True)
class PairCrux:
    """A pair of members and the expected reduction (bits) in their divergence."""

    a: str
    b: str
    vod: float


@dataclass(frozen=True)
class Settler:
    """One candidate observation and how much it is expected to settle.

    Attributes
    ----------
    item : str
        The evidence id (for counts and likelihood items: one more observation of it).
    kind : str
        ``"question"``, ``"counts"`` or ``"likelihood"``.
    vod : Stat or None
        Expected reduction in the mean pairwise JS divergence (bits), D_now − Σ_o P(o)
        D(after o), over the consensus posterior's draws; None (see `reason`) when fewer
        than two members read it.
    p_yes : float or None
        The group's predictive probability of yes (question) or of seeing the observation
        again (likelihood item), at the consensus posterior mean; None for counts.
    polarising : bool
        True when `vod` is negative: the members read it oppositely, it would drive them
        apart.
    pairs : tuple of PairCrux
        Up to `TOP_PAIRS` pairs whose double crux this is, with their own value.
    vod_geometric : float or None
        The same reduction with outcomes weighted by the geometric mean of the members' odds
        (FRI's value of discrimination); None when undefined.
    answered : int
        Members counted (a member without a reading of a question is left out).
    d_now : float or None
        The members' current mean pairwise divergence over those members (bits).
    reason : str or None
        Why `vod` is None.
    """

    item: str
    kind: str
    vod: Stat | None
    p_yes: float | None
    polarising: bool
    pairs: tuple[PairCrux, ...]
    vod_geometric: float | None
    answered: int
    d_now: float | None
    reason: str | None = None


def entropy_bits(p: np.ndarray) -> np.ndarray:
    """Shannon entropy in bits over the last axis (0 log 0 = 0)."""
    return special.entr(p).sum(axis=-1) / _LN2


def js_divergence(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Jensen–Shannon divergence in bits over the last axis, in [0, 1].

    Equal to ``scipy.spatial.distance.jensenshannon(p, q, base=2) ** 2``.
    """
    p, q = np.asarray(p, float), np.asarray(q, float)
    js = entropy_bits(0.5 * (p + q)) - 0.5 * (entropy_bits(p) + entropy_bits(q))
    return np.clip(js, 0.0, 1.0)


def sample_pairs(n: int, *, max_pairs: int = MAX_PAIRS, seed: int = 0) -> np.ndarray:
    """Pairs of member indices (i < j), shape (P, 2): all of them, or `max_pairs` drawn.

    Above `max_pairs` pairs, `max_pairs` distinct pairs are drawn uniformly without
    replacement (seeded), in index order.
    """
    total = n * (n - 1) // 2
    if total <= max_pairs:
        i, j = np.triu_indices(n, 1)
        return np.stack([i, j], axis=1)
    k = np.sort(np.random.default_rng(seed).choice(total, size=max_pairs, replace=False))

    def first(i: np.ndarray) -> np.ndarray:  # number of pair (i, i + 1), row-major
        return i * (2 * n - i - 1) // 2

    i = np.floor((2 * n - 1 - np.sqrt((2 * n - 1) ** 2 - 8.0 * k)) / 2).astype(np.int64)
    i -= first(i) > k  # the square root's rounding, either way
    i += first(i + 1) <= k
    return np.stack([i, k - first(i) + i + 1], axis=1)


@dataclass(frozen=True)
class _Candidate:
    """One candidate's outcomes: members' likelihoods ℓ_i(o | s) through a table of rates.

    Rows are the members used (see `_compute`): ``table[index[i, s], o]`` is ℓ_i(o | s);
    ``group[o, s]`` is mean_i ℓ_i(o | s) over the members who give the group's predictive.
    """

    item: str
    kind: str
    readers: np.ndarray  # (M,) bool: members with a reading of it
    answered: int  # readers in the whole group
    index: np.ndarray  # (M, 4) int into table rows
    table: np.ndarray  # (U, O)
    group: np.ndarray  # (O, 4)

    def likelihood(self, members: np.ndarray) -> np.ndarray:
        """ℓ_i(o | s) of these members, shape (len(members), O, 4)."""
        return self.table[self.index[members]].transpose(0, 2, 1)


def _group_mean(weights: np.ndarray, index: np.ndarray, table: np.ndarray) -> np.ndarray:
    """mean_i ℓ_i(o | s) over the members with weight 1, (O, 4), by counting table rows."""
    use = index[weights]
    counts = np.stack(
        [np.bincount(use[:, s], minlength=table.shape[0]) for s in range(use.shape[1])]
    )
    return (counts @ table).T / max(int(weights.sum()), 1)


def _binary(readings: np.ndarray, readers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Yes/no: ℓ(yes | s) = the reading, ℓ(no | s) = 1 − it; (index, table)."""
    q = np.where(readers[:, None], readings, 0.5)
    rates, index = np.unique(q, return_inverse=True)
    return index.reshape(q.shape), np.stack([rates, 1.0 - rates], axis=1)


def _log_pmf(k: np.ndarray, n: int, p: np.ndarray) -> np.ndarray:
    """Log-pmf of Binomial(k | n, p), rates down the rows and counts along the columns."""
    k = k[None, :].astype(float)
    p = p[:, None]
    comb = special.gammaln(n + 1.0) - special.gammaln(k + 1.0) - special.gammaln(n - k + 1.0)
    return comb + special.xlogy(k, p) + special.xlog1py(n - k, -p)


def _bins(n: int, rates: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """P(lower < count <= upper | rate), rates down the rows, bins along the columns."""
    at, where = np.unique(np.concatenate([lower, upper]), return_inverse=True)
    x, p = np.maximum(at, 0).astype(float)[None, :], rates[:, None]
    # P(k <= x) and P(k > x), once per edge; x = -1 is the start (0 and 1).
    cdf = np.where(at < 0, 0.0, special.bdtr(x, n, p))
    sf = np.where(at < 0, 1.0, special.bdtrc(x, n, p))
    lo, hi = where[: lower.size], where[lower.size :]
    # The difference of the smaller tails, so a bin far in the upper tail keeps its digits.
    diff = np.where(cdf[:, lo] < 0.5, cdf[:, hi] - cdf[:, lo], sf[:, lo] - sf[:, hi])
    return np.clip(diff, 0.0, 1.0)


def _count_table(n: int, rates: np.ndarray) -> np.ndarray:
    """P(outcome | rate) for one more counts observation of n episodes (see the docstring).

    The outcomes are the bins (edges[b − 1], edges[b]], edges[−1] = −1, edges[−1 + B] = n.
    """
    if n + 1 <= MAX_OUTCOMES:
        edges = np.arange(n + 1)
    else:
        lo = int(max(stats.binom.ppf(TAIL, n, rates.min()), 0))
        hi = int(min(stats.binom.isf(TAIL, n, rates.max()), n))
        if hi - lo + 1 <= MAX_OUTCOMES:
            edges = np.arange(lo, hi + 1)
            edges[-1] = n  # the upper tail joins the last count; the lower tail the first
        else:
            reps = np.quantile(rates, np.linspace(0.0, 1.0, 17))
            levels = np.concatenate([[TAIL, 1e-6, 1e-4, 1e-3], np.linspace(0.005, 0.995, 23)])
            levels = np.concatenate([levels, [0.999, 1 - 1e-4, 1 - 1e-6]])
            cand = stats.binom.ppf(levels[None, :], n, reps[:, None]).ravel()
            edges = np.unique(np.clip(cand, 0, n).astype(np.int64))
            if edges.size > MAX_OUTCOMES - 1:
                pick = np.linspace(0, edges.size - 1, MAX_OUTCOMES - 1).round().astype(int)
                edges = edges[pick]
            edges = np.unique(np.concatenate([edges[edges < n], [n]]))
    lower = np.concatenate([[-1], edges[:-1]])
    unit = edges - lower == 1
    table = np.empty((rates.size, edges.size))
    table[:, unit] = np.exp(_log_pmf(edges[unit], n, rates))  # single counts: the pmf itself
    if not unit.all():
        table[:, ~unit] = _bins(n, rates, lower[~unit], edges[~unit])
    return table


def _counts(
    item: CountsEvidence, readings: np.ndarray, defaults: Defaults
) -> tuple[np.ndarray, np.ndarray]:
    """One more counts observation; (index, table), one table row per distinct rate."""
    m, fa = counts_rates(item, defaults)
    p = np.clip(m * readings + (1.0 - m) * fa, 0.0, 1.0)
    rates, index = np.unique(p, return_inverse=True)
    return index.reshape(p.shape), _count_table(item.episodes, rates)


def _candidates(
    updates: Sequence[IndividualUpdate],
    evidence: Sequence[EvidenceItem],
    defaults: Defaults,
    rows: np.ndarray,
    in_group: np.ndarray,
) -> list[_Candidate]:
    """The candidates over the members `rows`; those with `in_group` give the predictive."""
    shape = (len(updates), len(evidence), len(SCENARIO_IDS))
    all_readings = np.array([u.readings for u in updates], dtype=float).reshape(shape)
    all_defaulted = np.array([u.defaulted for u in updates], dtype=bool).reshape(shape)
    out = []
    for e, item in enumerate(evidence):
        no_reference = reading_default(item, SCENARIO_IDS[0], defaults) is None
        readers = ~np.isnan(all_readings[:, e]).any(axis=1)
        if no_reference:
            readers &= ~all_defaulted[:, e].all(axis=1)
        readings, mine = all_readings[rows, e], readers[rows]
        if isinstance(item, CountsEvidence):
            index, table = _counts(item, readings, defaults)
        else:
            index, table = _binary(readings, mine)
        group = _group_mean(mine & in_group, index, table)
        out.append(_Candidate(item.id, item.kind, mine, int(readers.sum()), index, table, group))
    return out


def _after(post: np.ndarray, lik: np.ndarray) -> np.ndarray:
    """post(s | o) ∝ post(s) ℓ(o | s), shape (M, O, 4); where o is impossible, post itself."""
    with np.errstate(divide="ignore"):
        logw = np.log(post)[:, None, :] + np.log(lik)
    top = logw.max(axis=-1, keepdims=True)
    none = ~np.isfinite(top)
    w = np.exp(logw - np.where(none, 0.0, top))
    w = np.where(none, post[:, None, :], w)
    return w / w.sum(axis=-1, keepdims=True)


@dataclass(frozen=True)
class _Values:
    """One candidate over the pairs: the pieces of every value."""

    d_now: float
    d_after: np.ndarray  # (O,)
    pair_vod: np.ndarray  # (P,) at the consensus mean; NaN for a pair not both readers
    geometric: float | None


def _values(
    cand: _Candidate, post: np.ndarray, pairs: np.ndarray, c_mean: np.ndarray
) -> _Values | None:
    ok = cand.readers[pairs[:, 0]] & cand.readers[pairs[:, 1]]
    pair_vod = np.full(pairs.shape[0], np.nan)
    if cand.answered < 2 or not ok.any():
        return None
    members, local = np.unique(pairs[ok], return_inverse=True)
    a, b = local.reshape(-1, 2).T
    p_now = post[members]
    lik = cand.likelihood(members)  # (M, O, 4)
    after = _after(p_now, lik)  # (M, O, 4)
    h_now, h_after = entropy_bits(p_now), entropy_bits(after)
    js_now = np.clip(
        entropy_bits(0.5 * (p_now[a] + p_now[b])) - 0.5 * (h_now[a] + h_now[b]), 0.0, 1.0
    )
    js_after = np.clip(
        entropy_bits(0.5 * (after[a] + after[b])) - 0.5 * (h_after[a] + h_after[b]), 0.0, 1.0
    )  # (P', O)
    p_bar = cand.group @ c_mean  # (O,)
    pair_vod[ok] = js_now - js_after @ p_bar
    # FRI's weighting: the log pool of the members' own predictive P_i(o).
    own = np.einsum("mos,ms->mo", lik, p_now)
    with np.errstate(divide="ignore"):
        log_pool = np.log(own).mean(axis=0)
    geometric = None
    if np.isfinite(log_pool).any():
        w = np.exp(log_pool - log_pool.max())
        d_after = js_after.mean(axis=0)
        geometric = float(js_now.mean() - d_after @ (w / w.sum()))
    return _Values(float(js_now.mean()), js_after.mean(axis=0), pair_vod, geometric)


def _stat(x: np.ndarray) -> Stat:
    if x.size < 2:
        v = float(x.mean())
        return Stat(v, (v, v))
    return Stat(float(x.mean()), hdi(x))


def _consensus(consensus_draws: np.ndarray) -> np.ndarray:
    c = np.asarray(consensus_draws, dtype=float).reshape(-1, len(SCENARIO_IDS))
    if c.shape[0] == 0 or not (np.all(np.isfinite(c)) and np.all(c >= 0) and np.all(c.sum(1))):
        raise ValueError(
            "consensus_draws must hold at least one draw of the consensus over A-D, shape "
            "(draws, 4), each row probabilities (finite, not negative, not all 0)"
        )
    return c / c.sum(axis=1, keepdims=True)


def _group_members(n: int, pairs: np.ndarray) -> np.ndarray:
    """Who gives the group's predictive: everyone, or the members of the sampled pairs."""
    return np.arange(n) if pairs.shape[0] == n * (n - 1) // 2 else np.unique(pairs)


def _compute(updates, evidence, defaults, consensus_draws, pairs, group):
    """The candidates and their values over `pairs`; `group` gives the predictive.

    Only the members in `pairs` or `group` are computed with (a bounded number).
    """
    c = _consensus(consensus_draws)
    c_mean = c.mean(axis=0)
    rows, local = np.unique(np.concatenate([pairs.ravel(), group]), return_inverse=True)
    pairs_local = local[: pairs.size].reshape(pairs.shape)
    in_group = np.isin(rows, group)
    post = np.array([updates[k].posterior for k in rows], dtype=float).reshape(-1, 4)
    cands = _candidates(updates, evidence, defaults, rows, in_group)
    return c, c_mean, cands, [_values(k, post, pairs_local, c_mean) for k in cands]


def what_would_settle_it(
    updates: Sequence[IndividualUpdate],
    evidence: Sequence[EvidenceItem],
    defaults: Defaults,
    consensus_draws: np.ndarray,
    *,
    seed: int = 0,
    max_pairs: int = MAX_PAIRS,
) -> tuple[Settler, ...]:
    """Rank the candidate observations by the expected reduction in disagreement.

    Parameters
    ----------
    updates : sequence of IndividualUpdate
        The members' exact updates on `evidence` (``model.individual.update``), in order.
    evidence : sequence of evidence items
        The group's items: questions, counts and likelihood items, each a candidate.
    defaults : Defaults
    consensus_draws : ndarray, shape (..., 4)
        Draws of the consensus posterior over A–D (e.g. the group model's
        ``consensus_posterior``, chains and draws flattened); one row gives a point value.
    seed : int
        Seeds the draw of pairs above `max_pairs` pairs.
    max_pairs : int
        Most pairs of members used (see the module docstring, "Pairs").

    Returns
    -------
    tuple of Settler
        Largest expected reduction first; candidates without a value last.
    """
    pairs = sample_pairs(len(updates), max_pairs=max_pairs, seed=seed)
    group = _group_members(len(updates), pairs)
    c, c_mean, cands, values = _compute(updates, evidence, defaults, consensus_draws, pairs, group)
    crux_of = _crux_of(values, pairs.shape[0])
    names = [u.participant for u in updates]
    out = []
    for e, (cand, v) in enumerate(zip(cands, values, strict=True)):
        if v is None:
            out.append(Settler(cand.item, cand.kind, None, None, False, (), None,
                               cand.answered, None, TOO_FEW))  # fmt: skip
            continue
        vod = _stat(v.d_now - c @ (cand.group.T @ v.d_after))  # W_s = Σ_o m(o | s) D(after o)
        mine = np.flatnonzero(crux_of == e)
        top = mine[np.argsort(-v.pair_vod[mine], kind="stable")][:TOP_PAIRS]
        out.append(
            Settler(
                item=cand.item,
                kind=cand.kind,
                vod=vod,
                p_yes=None if cand.kind == "counts" else float(cand.group[0] @ c_mean),
                polarising=vod.mean < -ROUNDING,
                pairs=tuple(
                    PairCrux(names[pairs[k, 0]], names[pairs[k, 1]], float(v.pair_vod[k]))
                    for k in top
                ),
                vod_geometric=v.geometric,
                answered=cand.answered,
                d_now=v.d_now,
            )
        )
    out.sort(key=lambda s: (s.vod is None, -s.vod.mean if s.vod is not None else 0.0))
    return tuple(out)


def _crux_of(values: list[_Values | None], n_pairs: int) -> np.ndarray:
    """Per pair, the index of the candidate with the largest v_ab above `ROUNDING`, or −1."""
    table = np.stack([np.full(n_pairs, -np.inf)] + [
        np.nan_to_num(v.pair_vod, nan=-np.inf) if v is not None else np.full(n_pairs, -np.inf)
        for v in values
    ])  # fmt: skip
    best = table[1:].argmax(axis=0) if len(values) else np.zeros(n_pairs, int)
    top = table[1:][best, np.arange(n_pairs)] if len(values) else np.full(n_pairs, -np.inf)
    return np.where(top > ROUNDING, best, -1)


@dataclass(frozen=True)
class DoubleCrux:
    """The candidate that would most bring two members together, and by how much (bits)."""

    a: str
    b: str
    item: str
    vod: float


def double_crux(
    updates: Sequence[IndividualUpdate],
    evidence: Sequence[EvidenceItem],
    defaults: Defaults,
    consensus_draws: np.ndarray,
    a: str,
    b: str,
    *,
    seed: int = 0,
    max_pairs: int = MAX_PAIRS,
) -> DoubleCrux | None:
    """The double crux of members `a` and `b`, for any pair (sampled or not).

    The candidate with the largest v_ab (see the module docstring), with the group's
    predictive from the same members as `what_would_settle_it` with the same `seed` and
    `max_pairs`; None when no candidate is expected to bring them closer.

    Raises
    ------
    ValueError
        When `a` or `b` is not a member, or they are the same member.
    """
    names = [u.participant for u in updates]
    for who in (a, b):
        if who not in names:
            raise ValueError(f"no member {who!r} in this group; give two members' names")
    if a == b:
        raise ValueError(f"{a!r} twice; a double crux needs two different members")
    group = _group_members(len(updates), sample_pairs(len(updates), max_pairs=max_pairs, seed=seed))
    pair = np.array([[names.index(a), names.index(b)]])
    _, _, cands, values = _compute(updates, evidence, defaults, consensus_draws, pair, group)
    best = int(_crux_of(values, 1)[0])
    if best < 0:
        return None
    return DoubleCrux(a, b, cands[best].item, float(values[best].pair_vod[0]))


def settle_json(settlers: Sequence[Settler]) -> list[dict[str, Any]]:
    """``what_would_settle_it`` for summary.json, in its order.

    Each entry: ``{"item", "kind", "vod": {"mean", "hdi"}, "p_yes", "polarising",
    "pairs": [{"a", "b", "vod"}]}``; an unknown ``vod`` is written as its reason.
    """
    return [
        {
            "item": s.item,
            "kind": s.kind,
            "vod": {"mean": s.vod.mean, "hdi": list(s.vod.hdi)} if s.vod else s.reason,
            "p_yes": s.p_yes,
            "polarising": s.polarising,
            "pairs": [{"a": p.a, "b": p.b, "vod": p.vod} for p in s.pairs],
        }
        for s in settlers
    ]
