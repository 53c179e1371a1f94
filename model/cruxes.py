"""Cruxes that add up: each member's log-odds gap to the consensus, split exactly by source.

For a reference scenario r and another scenario s, a member's posterior log-odds split
exactly into log π(s)/π(r) (the prior part) and one part log L_e(s)/L_e(r) per evidence item.
The group model's consensus splits the same way per posterior draw: log μ_s/μ_r, then one
part per item from the posterior's `log_odds` terms (model/derived.py), and these parts sum to
the log-odds of the consensus posterior the dashboard shows. A member's crux row is their
part minus the consensus's part (posterior mean, with its 94 % HDI as the reference's
uncertainty); the rows add up to the member's whole gap. Question items are not evidence
and have no row. A reading the member left to its reference default is marked, since it is
not the member's view; a member who stated 0 for s or r has ruled that scenario out, which
the row says instead of showing ±∞.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from model.stats import Stat
from priors import SCENARIO_IDS, CountsEvidence, LikelihoodEvidence

if TYPE_CHECKING:
    from model.analysis import Analysis


@dataclass(frozen=True)
class Crux:
    """Members' log-odds gaps to the consensus for `versus` against `reference`.

    Attributes
    ----------
    versus, reference : str
        The log-odds are of `versus` against `reference`.
    terms : tuple of str
        "prior", then one per evidence item (questions have none).
    participants : tuple of str
    gaps : ndarray, shape (N, T)
        Member's part minus the consensus's (posterior mean); ±inf where the member stated
        0 (see `ruled_out`), NaN where undefined (0 on both sides).
    consensus : tuple of Stat
        The consensus's part per term, with its 94 % HDI: the reference of each row.
    consensus_total : Stat
        The consensus posterior's log-odds (the sum of the parts, per draw).
    defaulted : ndarray of bool, shape (N, T)
        True where an evidence part comes from a reading the member left to its default.
    ruled_out : tuple of (str or None)
        Per member: e.g. "ruled out D (stated 0)", or None.
    """

    versus: str
    terms: tuple[str, ...]
    participants: tuple[str, ...]
    gaps: np.ndarray
    reference: str = "A"
    consensus: tuple[Stat, ...] = ()
    consensus_total: Stat | None = None
    defaulted: np.ndarray | None = None
    ruled_out: tuple[str | None, ...] = ()

    @property
    def totals(self) -> np.ndarray:
        """Each member's whole gap: the sum of the parts (NaN where +inf meets -inf)."""
        with np.errstate(invalid="ignore"):
            return self.gaps.sum(axis=1)


def _evidence_rows(analysis: Analysis) -> list[int]:
    """Indices of the evidence items that update (counts and likelihood, not questions)."""
    return [
        e
        for e, item in enumerate(analysis.evidence)
        if isinstance(item, (CountsEvidence, LikelihoodEvidence))
    ]


def consensus_parts(analysis: Analysis, reference: str) -> tuple[np.ndarray, list[str]]:
    """Per posterior draw, the consensus's log-odds parts against `reference`.

    Returns an array (S, T, 4): draws, then "prior" and each updating evidence item, then
    the scenario s (log-odds of s against `reference`; 0 for s = reference), and the terms.
    """
    post = analysis.fit.idata["posterior"]
    lo = post["log_odds"].transpose("chain", "draw", "term", "versus")
    terms = [str(t) for t in lo.coords["term"].values]
    keep = ["prior", *(analysis.evidence[e].id for e in _evidence_rows(analysis))]
    idx = [terms.index(t) for t in keep]
    against_a = lo.values.reshape(-1, len(terms), len(SCENARIO_IDS) - 1)[:, idx, :]
    s_vs_a = np.concatenate([np.zeros((*against_a.shape[:2], 1)), against_a], axis=-1)
    r = SCENARIO_IDS.index(reference)
    return s_vs_a - s_vs_a[..., r : r + 1], keep


def _member_parts(analysis: Analysis, reference: str) -> np.ndarray:
    """Each member's exact parts against `reference`: (N, T, 4)."""
    rows = _evidence_rows(analysis)
    r = SCENARIO_IDS.index(reference)
    n = len(analysis.updates)
    if n == 0:
        return np.zeros((0, 1 + len(rows), len(SCENARIO_IDS)))
    prior = np.array([u.prior for u in analysis.updates])  # (N, 4)
    log_lik = np.array([u.log_lik[rows] for u in analysis.updates]).reshape(n, len(rows), -1)
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.concatenate([np.log(prior)[:, None, :], log_lik], axis=1)  # (N, T, 4)
        return logs - logs[:, :, r : r + 1]


def member_cruxes(analysis: Analysis) -> dict[str, dict[str, Crux]]:
    """Every member's crux rows, for every reference scenario and every other scenario.

    Returns ``{reference: {versus: Crux}}``.
    """
    names = tuple(u.participant for u in analysis.updates)
    rows = _evidence_rows(analysis)
    n, n_items = len(analysis.updates), len(analysis.evidence)
    member_defaulted = np.array([u.defaulted for u in analysis.updates], dtype=bool).reshape(
        n, n_items, len(SCENARIO_IDS)
    )
    zero_prior = np.array([u.prior == 0 for u in analysis.updates], dtype=bool).reshape(
        n, len(SCENARIO_IDS)
    )
    out: dict[str, dict[str, Crux]] = {}
    for reference in SCENARIO_IDS:
        draws, terms = consensus_parts(analysis, reference)  # (S, T, 4)
        members = _member_parts(analysis, reference)  # (N, T, 4)
        reference_mean = draws.mean(axis=0)
        r = SCENARIO_IDS.index(reference)
        out[reference] = {}
        for k, s in enumerate(SCENARIO_IDS):
            if s == reference:
                continue
            with np.errstate(invalid="ignore"):
                gaps = members[:, :, k] - reference_mean[None, :, k]
            defaulted = np.zeros(gaps.shape, dtype=bool)
            if rows:
                defaulted[:, 1:] = member_defaulted[:, rows, k] | member_defaulted[:, rows, r]
            texts = {(a, b): _ruled_out(a, b, s, reference) for a in (0, 1) for b in (0, 1)}
            ruled = tuple(texts[z[k], z[r]] for z in zero_prior.astype(int).tolist())
            out[reference][s] = Crux(
                versus=s,
                terms=tuple(terms),
                participants=names,
                gaps=gaps,
                reference=reference,
                consensus=tuple(Stat.of(draws[:, t, k]) for t in range(len(terms))),
                consensus_total=Stat.of(draws[:, :, k].sum(axis=1)),
                defaulted=defaulted,
                ruled_out=ruled,
            )
    return out


def _ruled_out(s_zero: bool, reference_zero: bool, s: str, reference: str) -> str | None:
    """The note for a member who stated 0 for `s`, for `reference`, or both; else None."""
    zero = [x for x, z in ((s, s_zero), (reference, reference_zero)) if z]
    if not zero:
        return None
    return "ruled out " + " and ".join(zero) + " (stated 0)"


@dataclass(frozen=True)
class PairCrux:
    """Two members' log-odds gap for `versus` against `reference`, split by source.

    `parts` has one value per term ("prior", then each evidence item); `gap` is their sum,
    the first member's posterior log-odds minus the second's.
    """

    first: str
    second: str
    versus: str
    reference: str
    terms: tuple[str, ...]
    parts: tuple[float, ...]
    gap: float
    defaulted: tuple[bool, ...]
    ruled_out: str | None


def pair_crux(
    cruxes: Mapping[str, Mapping[str, Crux]],
    first: str,
    second: str,
    *,
    versus: str,
    reference: str,
) -> PairCrux:
    """The first member's parts minus the second's (the consensus cancels out)."""
    c = cruxes[reference][versus]
    i, j = c.participants.index(first), c.participants.index(second)
    with np.errstate(invalid="ignore"):
        parts = c.gaps[i] - c.gaps[j]
        gap = float(np.sum(parts))
    ruled = [
        f"{name}: {why}"
        for name, why in ((first, c.ruled_out[i]), (second, c.ruled_out[j]))
        if why is not None
    ]
    return PairCrux(
        first,
        second,
        versus,
        reference,
        c.terms,
        tuple(float(x) for x in parts),
        gap,
        tuple(bool(a or b) for a, b in zip(c.defaulted[i], c.defaulted[j], strict=True)),
        "; ".join(ruled) or None,
    )
