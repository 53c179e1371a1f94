"""A small `Result` built by hand, without a fit, for testing what the figures draw.

Three members, two evidence items (one counts, one likelihood), made-up statistics. The
numbers need not be those a fit would give; they are chosen to be told apart in a drawing,
and to hold the edge cases: a stated 0 (Cy's credence in D, so −∞ in the crux), an answer
of 1 and of 0 (Ben's and Cy's factors), unanswered questions (Ben's direct P(scheming),
Cy's third factor), a member with a coherence note (Ben).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from model.camps import Camp, CampMember, Camps
from model.meta import TOO_FEW, MetaPredictions
from model.results import (
    FITTED,
    Agreement,
    CoherenceView,
    Crux,
    Diagnostics,
    Factor,
    FactorCorrelation,
    Participant,
    Pools,
    Result,
    Scheming,
    Stat,
    Undetected,
)
from model.settle import Settler
from priors import SCENARIO_IDS, Defaults

COUNTS = "monitoring_counts"
LIKELIHOOD = "no_collusion"
TERMS = ("prior", COUNTS, LIKELIHOOD)


def stat(mean: float, lo: float, hi: float) -> Stat:
    return Stat(mean, (lo, hi))


@dataclass(frozen=True)
class Member:
    """What one member stated and what the records say of them."""

    name: str
    credences: tuple[float, float, float, float]
    posterior: tuple[float, float, float, float]
    factors: tuple[float | None, ...]  # the four factors, then the direct P(scheming)
    product: float | None
    notes: tuple[str, ...]
    undetected: float
    gaps: dict[str, tuple[float, float, float]]  # versus -> (prior, counts, likelihood)


MEMBERS = (
    Member(
        "Ada",
        (0.4, 0.3, 0.2, 0.1),
        (0.5, 0.3, 0.15, 0.05),
        (0.3, 0.4, 0.5, 0.6, 0.05),
        0.036,
        (),
        0.002,
        {"B": (0.2, -0.1, 0.05), "C": (0.4, 0.3, -0.2), "D": (0.5, -0.3, 0.1)},
    ),
    Member(
        "Ben",
        (0.25, 0.25, 0.25, 0.25),
        (0.3, 0.3, 0.3, 0.1),
        (0.5, 1.0, 0.5, 0.2, None),
        0.05,
        ("the product is 3× or more below the credence in D",),
        0.004,
        {"B": (-0.3, 0.2, 0.0), "C": (-0.1, 0.1, 0.2), "D": (0.0, 0.6, -0.4)},
    ),
    Member(
        "Cy",
        (0.5, 0.3, 0.2, 0.0),
        (0.6, 0.3, 0.1, 0.0),
        (0.0, 0.2, None, 0.9, 0.01),
        None,
        (),
        0.001,
        {"B": (0.1, 0.1, -0.1), "C": (0.2, -0.2, 0.1), "D": (-math.inf, 0.2, -0.1)},
    ),
)

CONSENSUS_PRIOR = {
    "A": stat(0.38, 0.2, 0.55),
    "B": stat(0.28, 0.12, 0.45),
    "C": stat(0.21, 0.08, 0.36),
    "D": stat(0.13, 0.02, 0.27),
}
NEW_MEMBER_CREDENCE = {
    "A": stat(0.38, 0.05, 0.8),
    "B": stat(0.28, 0.02, 0.7),
    "C": stat(0.21, 0.01, 0.6),
    "D": stat(0.13, 0.003, 0.5),
}
CONSENSUS_POSTERIOR = {
    "A": stat(0.48, 0.3, 0.66),
    "B": stat(0.3, 0.15, 0.46),
    "C": stat(0.15, 0.05, 0.28),
    "D": stat(0.07, 0.01, 0.16),
}
POOLS = Pools(
    prior={
        "linear": {"A": 0.383, "B": 0.283, "C": 0.217, "D": 0.117},
        "log": {"A": 0.42, "B": 0.31, "C": 0.27, "D": 0.0},
        "median": {"A": 0.4, "B": 0.3, "C": 0.2, "D": 0.1},
    },
    posterior={
        "linear": {"A": 0.467, "B": 0.3, "C": 0.183, "D": 0.05},
        "log": {"A": 0.5, "B": 0.33, "C": 0.17, "D": 0.0},
        "median": {"A": 0.5, "B": 0.3, "C": 0.15, "D": 0.05},
    },
    factors={"linear": {}, "log": {}, "median": {}},
)
FACTOR_STATS = {  # consensus, new member
    "non_corrigibility": (stat(0.27, 0.1, 0.5), stat(0.27, 0.02, 0.9)),
    "misaligned_goals": (stat(0.45, 0.2, 0.7), stat(0.45, 0.05, 0.95)),
    "evades_guardrails": (stat(0.5, 0.3, 0.7), stat(0.5, 0.1, 0.9)),
    "strategic_reasoning": (stat(0.55, 0.3, 0.8), stat(0.55, 0.1, 0.95)),
    "p_scheming": (stat(0.025, 0.008, 0.07), stat(0.025, 0.001, 0.4)),
}
SCHEMING = Scheming(
    product_of_consensus=stat(0.02, 0.005, 0.06),
    consensus_of_products=stat(0.03, 0.01, 0.07),
    new_member=stat(0.03, 0.001, 0.3),
    direct_typical=FACTOR_STATS["p_scheming"][0],
    direct_new_member=FACTOR_STATS["p_scheming"][1],
)
UNDETECTED = Undetected(
    item=COUNTS,
    text="3 detected in 1000 episodes ($2 a run)",
    per_scenario={
        "A": stat(0.002, 0.001, 0.003),
        "B": stat(0.004, 0.002, 0.007),
        "C": stat(0.01, 0.005, 0.02),
        "D": stat(0.05, 0.02, 0.09),
    },
    expected_given_evidence=stat(0.004, 0.002, 0.008),
    detected_per_scenario={"A": 0.0035, "B": 0.006, "C": 0.004, "D": 0.0005},
    observed_rate=0.003,
    detected=3,
    episodes=1000,
)
EVIDENCE = (
    {"id": COUNTS, "kind": "counts", "text": UNDETECTED.text, "detected": 3, "episodes": 1000},
    {
        "id": LIKELIHOOD,
        "kind": "likelihood",
        "text": "No collusion seen",
        "default_likelihood": None,
    },
)


def _participant(m: Member) -> Participant:
    return Participant(
        id=m.name,
        prior=dict(zip(SCENARIO_IDS, m.credences, strict=True)),
        posterior=dict(zip(SCENARIO_IDS, m.posterior, strict=True)),
        scheming_product=m.product,
        p_scheming=m.factors[-1],
        coherence=CoherenceView(m.product, m.factors[-1], m.credences[3], m.notes),
        undetected={COUNTS: m.undetected},
        log_odds={s: {t: 0.0 for t in (*TERMS, "posterior")} for s in SCENARIO_IDS[1:]},
        defaulted=((False,) * 4, (False,) * 4),
    )


def hand_made_result(defaults: Defaults, members: tuple[Member, ...] = MEMBERS) -> Result:
    """The `Result` of `members` (by default the three above) with the statistics above."""
    ids = [*defaults.factor_ids, defaults.direct.id]
    names = {f.id: f.name for f in defaults.factors} | {defaults.direct.id: "Direct P(scheming)"}
    factors = {}
    for j, f in enumerate(ids):
        answers = tuple(m.factors[j] for m in members if m.factors[j] is not None)
        consensus, new = FACTOR_STATS[f]
        factors[f] = Factor(
            id=f,
            name=names[f],
            consensus=consensus,
            spread=stat(1.0, 0.3, 2.0),
            spread_reason=None,
            new_member=new,
            answered=len(answers),
            answers=answers,
            direct=f == defaults.direct.id,
        )
    participants = tuple(m.name for m in members)
    return Result(
        n_participants=len(members),
        scenarios=tuple(SCENARIO_IDS),
        evidence=EVIDENCE,
        group_model=FITTED,
        consensus_prior=CONSENSUS_PRIOR,
        new_member_credence=NEW_MEMBER_CREDENCE,
        agreement=Agreement(stat(6.0, 2.0, 11.0)),
        consensus_posterior=CONSENSUS_POSTERIOR,
        consensus_log_odds={
            s: {t: stat(0.0, -1.0, 1.0) for t in (*TERMS, "posterior")} for s in SCENARIO_IDS[1:]
        },
        new_member_posterior=CONSENSUS_POSTERIOR,
        factors=factors,
        factor_correlation=tuple(
            FactorCorrelation(a, b, stat(0.3, -0.1, 0.7))
            for i, a in enumerate(defaults.factor_ids)
            for b in defaults.factor_ids[i + 1 :]
        ),
        scheming=SCHEMING,
        mu_d=CONSENSUS_PRIOR["D"],
        pools=POOLS,
        participants=tuple(_participant(m) for m in members),
        disagreement=(),
        cruxes={
            s: Crux(s, TERMS, participants, np.array([m.gaps[s] for m in members], dtype=float))
            for s in SCENARIO_IDS[1:]
        },
        undetected={COUNTS: UNDETECTED},
        meta_predictions=MetaPredictions(answered=len(members), reason=TOO_FEW, resamples=0),
        cruxes_against=None,
        what_would_settle_it=(
            Settler("q1", "question", Stat(0.05, (0.02, 0.08)), 0.3, False, (), 0.04, 3, 0.2),
            Settler(COUNTS, "counts", Stat(-0.02, (-0.03, -0.01)), None, True, (), -0.02, 3, 0.2),
        ),
        camps=Camps(
            k=2,
            method="hand-made",
            reason=None,
            members=tuple(
                CampMember(m.name, 1 + i % 2, 0.9, float(i), float(-i))
                for i, m in enumerate(members)
            ),
            camps=(Camp(1, 2, "reads D lower", ()), Camp(2, 1, "reads D higher", ())),
            common_ground=(),
            axes_explained=(0.5, 0.2),
            axes_quantities=(("credence:A",), ("credence:D",)),
            scores=(),
        ),
        diagnostics=Diagnostics(1.01, 400.0, 0, 2, 200, 1.0, 0.8),
    )


def many_members(n: int) -> tuple[Member, ...]:
    """`n` members, m00, m01, …: member i's gaps grow with i, member i has i % 3 notes."""
    return tuple(
        dataclasses.replace(
            MEMBERS[0],
            name=f"m{i:02d}",
            notes=("a note",) * (i % 3),
            gaps={s: (0.01 * i, 0.02 * i, -0.005 * i) for s in SCENARIO_IDS[1:]},
        )
        for i in range(n)
    )
