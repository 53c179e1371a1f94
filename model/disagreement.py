"""Where and why members disagree: the decisive-disagreement ranking, spreads and cruxes.

Thin accessors over the results computed once in `model.results`; a pair's crux is the
difference of two members' exact terms.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from model.decisive import Decisive, decisive_disagreement
from model.results import HDI_PROB, Disagreement, hdi
from priors import SCENARIO_IDS

if TYPE_CHECKING:
    from model.analysis import Analysis

__all__ = [
    "HDI_PROB",
    "Decisive",
    "consensus_terms",
    "crux",
    "decisive_disagreement",
    "hdi",
    "pair_crux",
    "spread_ranking",
]


def spread_ranking(analysis: Analysis) -> list[Disagreement]:
    """Every elicited quantity's between-person SD with its 94 % HDI, largest first.

    See `model.results.Result.disagreement`: credences sqrt(μ(1 − μ)/(κ + 1)), other
    answers the SD of expit(θ + τZ), all in probability units; unknown ones last.
    """
    return list(analysis.result.disagreement)


def consensus_terms(analysis: Analysis) -> np.ndarray:
    """Posterior mean of the consensus's log-odds terms, shape (1 + E, 3).

    Row 0 is the prior part log(μ_s / μ_A), then one row per evidence item; columns B, C,
    D against A.
    """
    lo = analysis.result.consensus_log_odds
    terms = next(iter(lo.values()))
    return np.array([[lo[s][t].mean for s in SCENARIO_IDS[1:]] for t in terms])


def crux(analysis: Analysis, participant: str) -> np.ndarray:
    """A participant's posterior log-odds gap to the consensus, split exactly by source.

    Returns
    -------
    ndarray, shape (1 + E, 3)
        Row 0 the prior part, then one row per evidence item; columns B, C, D against A.
        The rows sum to the gap. ±inf where the participant stated 0.
    """
    i = _index(analysis, participant)
    return np.stack([analysis.result.cruxes[s].gaps[i] for s in SCENARIO_IDS[1:]], axis=-1)


def pair_crux(analysis: Analysis, first: str, second: str) -> np.ndarray:
    """The same split for a pair of participants: `first`'s terms minus `second`'s."""
    i, j = _index(analysis, first), _index(analysis, second)
    with np.errstate(invalid="ignore"):
        return analysis.updates[i].terms - analysis.updates[j].terms


def _index(analysis: Analysis, participant: str) -> int:
    try:
        return analysis.data.participants.index(participant)
    except ValueError:
        raise ValueError(
            f"no participant {participant!r} in this group; "
            f"choose one of {analysis.data.participants[:10]}"
        ) from None
