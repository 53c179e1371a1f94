"""Decisive disagreement: which elicited quantity's differences move members' conclusions.

Needs only NumPy and SciPy (no fit): the measure is computed from the members' answers and
the evidence, on the scale of the update (nats), not of the probability.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from model.individual import counts_rates
from model.schema import GroupData
from priors import SCENARIO_IDS, CountsEvidence, Defaults, EvidenceItem, LikelihoodEvidence

FLOOR = 0.005
"""Half the form's smallest step: a stated 0 (or 1) counts as this far from the edge here,
so one ruled-out scenario does not make a spread infinite."""


@dataclass(frozen=True)
class Decisive:
    """How much the members' differences in one elicited quantity matter, and how big they are.

    Attributes
    ----------
    quantity : str
        ``credence:<s>``, a factor id, ``p_scheming`` or ``<evidence id>:<s>``.
    moves : str
        What the quantity enters: "posterior A-D" (credences and readings) or "scheming
        product" (the four factors and the direct P(scheming)).
    log_odds_sd : float or None
        The decision measure, in nats: the between-member SD of the term the quantity adds
        to each member's log-odds (credence: log π_s; counts reading: the binomial
        log-likelihood of the observed count at that sensitivity; likelihood reading: log of
        it; factor: log f, its term in the log of the product). None below two answers.
    observed_sd, logit_sd : float or None
        The members' actual spread: SD of the stated probabilities, and of their logits.
    answered : int
        Members who gave it (a reading left to its default is not the member's view).
    """

    quantity: str
    moves: str
    log_odds_sd: float | None
    observed_sd: float | None
    logit_sd: float | None
    answered: int


def _sd(x: np.ndarray) -> float | None:
    x = x[np.isfinite(x)]
    return float(np.std(x, ddof=1)) if x.size >= 2 else None


def decisive_disagreement(
    data: GroupData, evidence: Sequence[EvidenceItem], defaults: Defaults
) -> list[Decisive]:
    """Every elicited quantity ranked by the decision measure, largest first.

    The measure is `Decisive.log_odds_sd`: how much the members' differences in the quantity
    move their posterior log-odds; unknown ones come last. A dispute between 1 % and 5 % can
    decide more than one between 40 % and 60 %: the ranking is on the scale of the update,
    not of the probability.
    """

    def logit(p: np.ndarray) -> np.ndarray:
        p = np.clip(p, FLOOR, 1 - FLOOR)
        return np.log(p) - np.log1p(-p)

    out = []
    cred = data.credences
    for k, s in enumerate(SCENARIO_IDS):
        p = cred[:, k]
        out.append(
            Decisive(
                f"credence:{s}",
                "posterior A-D",
                _sd(np.log(np.clip(p, FLOOR, None))),
                _sd(p),
                _sd(logit(p)),
                data.n,
            )
        )
    by_id = {e.id: e for e in evidence}
    for j, col in enumerate(data.columns):
        v = data.values[:, j]
        answered = np.isfinite(v)
        item_id, _, s = col.partition(":")
        if not s:  # a factor or the direct P(scheming)
            term, moves = np.log(np.clip(v, FLOOR, None)), "scheming product"
        else:
            item = by_id[item_id]
            k = SCENARIO_IDS.index(s)
            d = np.clip(v, FLOOR, 1 - FLOOR)
            if isinstance(item, CountsEvidence):
                m, fa = counts_rates(item, defaults)
                term = stats.binom.logpmf(
                    item.detected, item.episodes, m[k] * d + (1 - m[k]) * fa[k]
                )
            elif isinstance(item, LikelihoodEvidence):
                term = np.log(d)
            else:  # a question updates nothing now: it is ranked by what would settle it
                continue
            moves = "posterior A-D"
        term = np.where(answered, term, np.nan)
        out.append(Decisive(col, moves, _sd(term), _sd(v), _sd(logit(v)), int(answered.sum())))
    return sorted(out, key=lambda d: (d.log_odds_sd is None, -(d.log_odds_sd or 0.0)))
