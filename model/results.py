"""The group's results as typed, frozen records: every number the pages, figures and report show.

`model.build.build_result` computes them once from a fitted `Analysis`; `model.summary.summary_json`
writes them as ``summary.json`` at the edge. Infinite log-odds are floats (``math.inf``),
an unknown value is ``None`` beside a ``reason``; nothing here is text standing in for a
number. Figures and pages read these records and format them; they compute nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from model.camps import Camps
from model.cruxes import Crux
from model.meta import MetaPredictions
from model.settle import Settler
from model.stats import HDI_PROB as HDI_PROB  # re-exported: figures read it from here
from model.stats import Stat
from model.stats import hdi as hdi

FITTED = "fitted"
"""`Result.group_model` when the group model was fitted."""

FEWER_THAN_TWO = "unknown: fewer than two answers"
"""Why a spread (or the agreement) is unknown."""

SCHEMING_LABELS = {
    "product_of_consensus": "product of the consensus factors",
    "consensus_of_products": "consensus of members' products",
    "new_member": "a new member's product",
    "direct_typical": "direct P(scheming), typical member",
    "direct_new_member": "direct P(scheming), a new member",
}
"""Plain names of the ``scheming`` entries, for tables."""


@dataclass(frozen=True)
class Agreement:
    """The agreement κ (larger = members more alike); None with a reason when unknown."""

    kappa: Stat | None
    reason: str | None = None


@dataclass(frozen=True)
class Factor:
    """One factor of scheming (or the direct P(scheming)) in the group model.

    Attributes
    ----------
    consensus : Stat
        The typical member's answer, expit(θ).
    spread : Stat or None
        τ, the between-member SD on the logit scale; None (see `spread_reason`) with fewer
        than two answers.
    new_member : Stat
        A new member's answer, expit(θ + τ z), over the posterior (its HDI is the band the
        factor figure draws).
    answered : int
    answers : tuple of float
        The members' stated answers (unanswered left out), in the members' order.
    direct : bool
        True for the direct P(scheming), False for the four factors.
    """

    id: str
    name: str
    consensus: Stat
    spread: Stat | None
    spread_reason: str | None
    new_member: Stat
    answered: int
    answers: tuple[float, ...]
    direct: bool = False


@dataclass(frozen=True)
class Scheming:
    """P(scheming) aggregated five ways (see `SCHEMING_LABELS`)."""

    product_of_consensus: Stat
    consensus_of_products: Stat
    new_member: Stat
    direct_typical: Stat
    direct_new_member: Stat

    def items(self) -> list[tuple[str, Stat]]:
        """(key, stat) in the summary's order."""
        return [(k, getattr(self, k)) for k in SCHEMING_LABELS]


@dataclass(frozen=True)
class FactorCorrelation:
    """The correlation of two factors' logits across members (the group model's R_jk)."""

    a: str
    b: str
    correlation: Stat


@dataclass(frozen=True)
class Pools:
    """The classical pools: name -> {scenario or quantity -> value}; NaN where undefined."""

    prior: Mapping[str, Mapping[str, float]]
    posterior: Mapping[str, Mapping[str, float]]
    factors: Mapping[str, Mapping[str, float]]


@dataclass(frozen=True)
class CoherenceView:
    """A member's scheming answers side by side (the coherence check) and its notes.

    `notes` name the member in the third person ("Ada's factor product ..."), for the
    facilitator and the files; the member's own page words them to the member.
    """

    product: float | None
    direct: float | None
    credence_d: float
    notes: tuple[str, ...]


@dataclass(frozen=True)
class Participant:
    """One member's exact update and answers.

    Attributes
    ----------
    log_odds : dict
        Per scenario B, C, D: {"prior": …, <evidence id>: …, "posterior": …}, the exact
        log-odds against A and its split by source; ±inf where a stated 0 makes it so, NaN
        where both sides are 0.
    undetected : dict
        Per counts item: the expected undetected misalignment under the member's posterior.
    defaulted : tuple of tuple of bool
        Per evidence item and scenario: True where the member gave no reading and the
        reference default was used.
    """

    id: str
    prior: Mapping[str, float]
    posterior: Mapping[str, float]
    scheming_product: float | None
    p_scheming: float | None
    coherence: CoherenceView
    undetected: Mapping[str, float]
    log_odds: Mapping[str, Mapping[str, float]]
    defaulted: tuple[tuple[bool, ...], ...]


@dataclass(frozen=True)
class Disagreement:
    """One elicited quantity: how much the members' differences in it decide, and its spread.

    Attributes
    ----------
    quantity : str
    spread : Stat or None
        The model's between-person SD (probability units), None with `reason`.
    answered : int
    moves : str
        What it enters: "posterior A-D" or "scheming product".
    log_odds_sd : float or None
        The decision measure (nats): the between-member SD of the term it adds to their
        log-odds (see `model.decisive`). The list is ordered by it.
    observed_sd, logit_sd : float or None
        The members' actual spread, in probability units and on the logit scale.
    ppc_p : float or None
        Posterior predictive check of the spread (`model.ppc`): the share of groups simulated
        from the model whose SD is at or above the members' actual SD.
    misfit : bool
        True when the actual SD lies outside the central 94 % of the simulated ones: the
        model's spread does not fit the members' for this quantity.
    """

    quantity: str
    spread: Stat | None
    reason: str | None
    answered: int
    moves: str = "posterior A-D"
    log_odds_sd: float | None = None
    observed_sd: float | None = None
    logit_sd: float | None = None
    ppc_p: float | None = None
    misfit: bool = False


@dataclass(frozen=True)
class Undetected:
    """Undetected misalignment m_s(1 − d_s) for one counts item.

    Attributes
    ----------
    per_scenario : dict
        Per scenario, with the typical reading.
    expected_given_evidence : Stat
        Under the consensus posterior.
    detected_per_scenario : dict
        Posterior mean of the expected detected rate m_s d_s + (1 − m_s) fa per scenario.
    observed_rate : float
        The item's detected / episodes.
    """

    item: str
    text: str
    per_scenario: Mapping[str, Stat]
    expected_given_evidence: Stat
    detected_per_scenario: Mapping[str, float]
    observed_rate: float
    detected: int
    episodes: int


@dataclass(frozen=True)
class Diagnostics:
    """Sampler diagnostics over the headline quantities."""

    max_rhat: float
    min_ess_bulk: float
    divergences: int
    chains: int
    draws: int
    seconds: float
    target_accept: float  # the mean acceptance NUTS's step size was tuned to


@dataclass(frozen=True)
class Credences:
    """The consensus over A-D before the evidence and what a new member would say.

    Attributes
    ----------
    mu : dict
        The consensus μ per scenario.
    new_member : dict
        A new member's credence per scenario, from the credence model mixed over the
        posterior (its HDI is the band the figure draws).
    """

    mu: Mapping[str, Stat]
    new_member: Mapping[str, Stat]


@dataclass(frozen=True)
class Result:
    """Everything the group's pages, figures, report and summary.json show.

    `group_model` is "fitted", or why the group model was not fitted (fewer than three
    members); then every field the model gives is None and the members' own numbers and
    the pools stand alone. `fitted` says which.
    """

    n_participants: int
    scenarios: tuple[str, ...]
    evidence: tuple[dict, ...]
    group_model: str
    consensus_prior: Mapping[str, Stat] | None
    new_member_credence: Mapping[str, Stat] | None
    agreement: Agreement
    consensus_posterior: Mapping[str, Stat] | None
    consensus_log_odds: Mapping[str, Mapping[str, Stat]] | None
    new_member_posterior: Mapping[str, Stat] | None
    factors: Mapping[str, Factor] | None
    factor_correlation: tuple[FactorCorrelation, ...] | None
    scheming: Scheming | None
    mu_d: Stat | None
    pools: Pools
    participants: tuple[Participant, ...]
    disagreement: tuple[Disagreement, ...]
    cruxes: Mapping[str, Crux] | None
    cruxes_against: Mapping[str, Mapping[str, Crux]] | None
    undetected: Mapping[str, Undetected] | None
    diagnostics: Diagnostics | None
    meta_predictions: MetaPredictions
    what_would_settle_it: tuple[Settler, ...] | None
    camps: Camps

    @property
    def fitted(self) -> bool:
        """True when the group model was fitted (three members or more)."""
        return self.group_model == FITTED

    def participant(self, name: str) -> Participant:
        """The member called `name`."""
        for p in self.participants:
            if p.id == name:
                return p
        raise ValueError(f"no participant {name!r} in this group")
