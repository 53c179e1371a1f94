"""Where and why members disagree: the spread ranking and the crux decomposition."""

from __future__ import annotations

from dataclasses import dataclass

import arviz as az
import numpy as np

from model.analysis import Analysis
from priors import SCENARIO_IDS

HDI_PROB = 0.94


def hdi(samples: np.ndarray, prob: float = HDI_PROB) -> tuple[float, float]:
    """Narrowest interval holding `prob` of the samples (all chains and draws pooled)."""
    lo, hi = az.hdi(np.asarray(samples, dtype=float).ravel(), prob=prob)
    return float(lo), float(hi)


@dataclass(frozen=True)
class Spread:
    """Between-person spread of one elicited quantity, on the probability scale."""

    quantity: str
    mean: float
    hdi: tuple[float, float]
    answered: int

    @property
    def known(self) -> bool:
        """Spread needs at least two answers; with fewer it is unknown, not zero."""
        return self.answered >= 2


def spread_ranking(analysis: Analysis) -> list[Spread]:
    """Every elicited quantity's between-person SD with its 94 % HDI, largest first.

    Credences: SD of a member's credence under Dirichlet(kappa mu), sqrt(mu(1-mu)/(kappa+1)).
    Factors, P(scheming) and readings: SD of expit(theta + tau Z). All in probability units,
    so they are comparable. Quantities with fewer than two answers come last (unknown).
    """
    post = analysis.fit.idata["posterior"]
    n = analysis.data.n
    out = []
    cs = post["credence_spread"].values
    for k, s in enumerate(SCENARIO_IDS):
        x = cs[..., k]
        out.append(Spread(f"credence:{s}", float(x.mean()), hdi(x), n))
    sp = post["spread"].values
    answered = (~np.isnan(analysis.data.values)).sum(axis=0)
    for j, col in enumerate(analysis.data.columns):
        x = sp[..., j]
        out.append(Spread(col, float(x.mean()), hdi(x), int(answered[j])))
    return sorted(out, key=lambda s: (not s.known, -s.mean))


def consensus_terms(analysis: Analysis) -> np.ndarray:
    """Posterior mean of the consensus's log-odds terms, shape (1 + E, 3).

    Row 0 is log(mu_s / mu_A), then one row per evidence item with the typical reading;
    their sum is the posterior mean of the group's posterior log-odds (B, C, D vs A).
    """
    return analysis.fit.idata["posterior"]["log_odds"].mean(("chain", "draw")).values


def crux(analysis: Analysis, participant: str) -> np.ndarray:
    """A participant's posterior log-odds gap to the consensus, split exactly by source.

    Returns
    -------
    ndarray, shape (1 + E, 3)
        Row 0 the prior part, then one row per evidence item; columns B, C, D against A.
        The rows sum to the gap. ±inf where the participant stated 0.
    """
    i = _index(analysis, participant)
    with np.errstate(invalid="ignore"):
        return analysis.updates[i].terms - consensus_terms(analysis)


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
