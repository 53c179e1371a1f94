"""Each participant's exact update: posterior over A-D and its log-odds decomposition."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from model.schema import Response, check_readings_complete, reading_default
from priors import SCENARIO_IDS, CountsEvidence, Defaults, EvidenceItem, load_defaults

REFERENCE = "A"
COHERENCE_FACTOR = 3.0  # "disagree strongly": the two answers differ by 3x or more
IMPLICATION_FACTOR = 1.5  # P(D) above P(scheming) by this much breaks "D implies scheming"


def counts_rates(item: CountsEvidence, defaults: Defaults) -> tuple[np.ndarray, np.ndarray]:
    """Misalignment rate m_s and false-alarm rate fa per scenario for a counts item."""
    if item.misalignment_rate is not None:
        m = np.array([item.misalignment_rate[s] for s in SCENARIO_IDS])
    else:
        m = np.array([defaults.scenario(s).misalignment_now for s in SCENARIO_IDS])
    if item.false_alarm_rate is not None:
        fa = np.full(4, item.false_alarm_rate)
    else:
        fa = np.array([defaults.scenario(s).false_alarm_rate for s in SCENARIO_IDS])
    return m, fa


def log_likelihoods(
    readings: np.ndarray, evidence: Sequence[EvidenceItem], defaults: Defaults
) -> np.ndarray:
    """Log-likelihood of each evidence item under each scenario.

    Parameters
    ----------
    readings : ndarray, shape (..., E, 4)
        Per item and scenario: detection sensitivity d_s (counts items) or
        P(observation | s) (likelihood items). Leading dimensions (e.g. draws) broadcast.

    Returns
    -------
    ndarray, shape (..., E, 4)
        counts: log Binomial(detected | episodes, m_s d_s + (1 - m_s) fa);
        likelihood: log P(observation | s). A zero likelihood gives -inf.
    """
    readings = np.asarray(readings, dtype=float)
    out = np.empty_like(readings)
    with np.errstate(divide="ignore"):
        for e, item in enumerate(evidence):
            r = readings[..., e, :]
            if isinstance(item, CountsEvidence):
                m, fa = counts_rates(item, defaults)
                p = m * r + (1.0 - m) * fa
                out[..., e, :] = stats.binom.logpmf(item.detected, item.episodes, p)
            else:
                out[..., e, :] = np.log(r)
    return out


def _log(x: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.log(x)


def _minus_reference(terms: np.ndarray) -> np.ndarray:
    """Log-odds against A of the last axis; inf - inf (both impossible) is NaN, 'undefined'."""
    with np.errstate(invalid="ignore"):
        return terms[..., 1:] - terms[..., :1]


def update_terms(log_prior: np.ndarray, log_lik: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact Bayes update in log-odds form, vectorised over leading dimensions.

    log post-odds(s : A) = log prior-odds(s : A) + sum_e log LR_e(s : A).

    Parameters
    ----------
    log_prior : ndarray, shape (..., 4)
    log_lik : ndarray, shape (..., E, 4)

    Returns
    -------
    terms : ndarray, shape (..., 1 + E, 3)
        Row 0 the prior log-odds of B, C, D against A, then one row per evidence item.
        Infinite where a stated 0 makes them so; NaN where both sides are 0.
    posterior : ndarray, shape (..., 4)
    """
    terms = _minus_reference(np.concatenate([log_prior[..., None, :], log_lik], axis=-2))
    log_post = log_prior + log_lik.sum(axis=-2)
    top = np.max(log_post, axis=-1, keepdims=True)
    if np.any(~np.isfinite(top)):
        raise ValueError(
            "the evidence is impossible under every scenario given a credence above 0 "
            "(each has a likelihood of 0); raise a reading above 0 for a scenario you hold possible"
        )
    w = np.exp(log_post - top)
    return terms, w / w.sum(axis=-1, keepdims=True)


@dataclass(frozen=True)
class IndividualUpdate:
    """One participant's exact update on the group's evidence.

    Attributes
    ----------
    prior, posterior : ndarray, shape (4,)
    readings : ndarray, shape (E, 4)
        The readings used: the participant's, or the reference default where unanswered.
    defaulted : ndarray of bool, shape (E, 4)
        True where the participant gave no reading and the default was used.
    log_lik : ndarray, shape (E, 4)
    terms : ndarray, shape (1 + E, 3)
        Log-odds of B, C, D against A: prior part, then one part per evidence item.
    """

    participant: str
    prior: np.ndarray
    posterior: np.ndarray
    readings: np.ndarray
    defaulted: np.ndarray
    log_lik: np.ndarray
    terms: np.ndarray

    @property
    def posterior_log_odds(self) -> np.ndarray:
        """Posterior log-odds of B, C, D against A (the sum of the terms)."""
        return self.terms.sum(axis=0)


def filled_readings(
    response: Response, evidence: Sequence[EvidenceItem], defaults: Defaults
) -> tuple[np.ndarray, np.ndarray]:
    """The participant's readings with defaults where unanswered, and where that happened.

    A likelihood item with no default and no reading gets 1 for every scenario: no update.
    Such an item answered in part is refused (a blank must not count as 1 beside readings
    below 1); `validate_response` refuses it first, this guards responses built by hand.

    Raises
    ------
    ResponseError
        For a partial answer on a likelihood item without reference values.
    """
    vals = np.ones((len(evidence), 4))
    defaulted = np.zeros((len(evidence), 4), dtype=bool)
    for e, item in enumerate(evidence):
        given = response.readings.get(item.id, {})
        check_readings_complete(item, given, who=f"participant {response.participant[:60]!r}")
        for k, s in enumerate(SCENARIO_IDS):
            v = given.get(s)
            if v is None:
                defaulted[e, k] = True
                d = reading_default(item, s, defaults)
                v = 1.0 if d is None else d
            vals[e, k] = v
    return vals, defaulted


def update(
    response: Response,
    *,
    evidence: Sequence[EvidenceItem],
    defaults: Defaults | None = None,
) -> IndividualUpdate:
    """Exact posterior over A-D for one participant: post(s) ∝ prior(s) · Π_e L_e(s)."""
    defaults = defaults or load_defaults()
    prior = np.array([response.scenarios[s] for s in SCENARIO_IDS])
    prior = prior / prior.sum()
    readings, defaulted = filled_readings(response, evidence, defaults)
    log_lik = log_likelihoods(readings, evidence, defaults)
    terms, post = update_terms(_log(prior), log_lik)
    return IndividualUpdate(response.participant, prior, post, readings, defaulted, log_lik, terms)


def scheming_product(response: Response) -> float | None:
    """Product of the four factor probabilities (None unless all four are answered)."""
    vals = list(response.factors.values())
    if any(v is None for v in vals):
        return None
    return float(np.prod(vals))


@dataclass(frozen=True)
class Coherence:
    """Factor product beside the direct P(scheming) and the credence in D, with plain notes."""

    product: float | None
    direct: float | None
    credence_d: float
    notes: tuple[str, ...]


def _ratio_note(a: float, b: float) -> bool:
    lo, hi = min(a, b), max(a, b)
    return hi > 0 and (lo == 0 or hi / lo >= COHERENCE_FACTOR)


def coherence(response: Response) -> Coherence:
    """Coherence checks on the scheming answers (SHELF-style feedback).

    - product vs direct P(scheming): flagged when they differ by 3x or more;
    - D (already scheming, covertly) implies scheming, so P(scheming) should be at
      least P(D): flagged when the product or the direct answer is below P(D) by 1.5x or more;
    - the warning sign: three factors at 0.5 or above while the fourth holds the product
      below 0.1.
    """
    product = scheming_product(response)
    direct = response.p_scheming
    d = response.scenarios["D"]
    notes = []
    if product is not None and direct is not None and _ratio_note(product, direct):
        notes.append(
            f"Your factors multiply to {product:.3g} but you gave P(scheming) = {direct:.3g} "
            "directly: one of the two does not say what you believe."
        )
    for label, value in (("factor product", product), ("direct P(scheming)", direct)):
        if value is not None and d > 0 and d >= IMPLICATION_FACTOR * value:
            notes.append(
                f"Your credence in D (models already scheme) is {d:.3g}, but your {label} is "
                f"only {value:.3g}; D implies scheming, so P(scheming) should be at least P(D)."
            )
    facs = [v for v in response.factors.values() if v is not None]
    if product is not None and sum(v >= 0.5 for v in facs) >= 3 and product < 0.1:
        low = min(response.factors, key=lambda k: response.factors[k])
        notes.append(
            f"Warning sign: three factors are at 0.5 or above and only {low} "
            f"({response.factors[low]:.3g}) keeps the product at {product:.3g}; "
            "if that one factor moves, the product moves with it."
        )
    return Coherence(product, direct, d, tuple(notes))


def rising_factors_warning(previous: Response, current: Response) -> str | None:
    """The warning sign across revisions: three factors rose while the product stayed flat."""
    ids = [f for f in current.factors if None not in (previous.factors[f], current.factors[f])]
    risen = [f for f in ids if current.factors[f] > previous.factors[f]]
    p0, p1 = scheming_product(previous), scheming_product(current)
    if len(risen) >= 3 and p0 is not None and p1 is not None and p1 <= COHERENCE_FACTOR / 2 * p0:
        return (
            f"Three factors rose ({', '.join(risen)}) while the product went only from "
            f"{p0:.3g} to {p1:.3g}: the flat product hides a worrying trend."
        )
    return None


@dataclass(frozen=True)
class Undetected:
    """Undetected misalignment for one counts item: m_s (1 - d_s) per scenario, and expected."""

    evidence_id: str
    per_scenario: np.ndarray
    expected: float


def undetected(
    update_: IndividualUpdate, evidence: Sequence[EvidenceItem], defaults: Defaults
) -> list[Undetected]:
    """Expected undetected misalignment rate per counts item, under the participant's posterior."""
    out = []
    for e, item in enumerate(evidence):
        if isinstance(item, CountsEvidence):
            m, _ = counts_rates(item, defaults)
            per = m * (1.0 - update_.readings[e])
            out.append(Undetected(item.id, per, float(update_.posterior @ per)))
    return out
