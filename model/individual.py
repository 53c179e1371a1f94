"""Each participant's exact update: posterior over A-D and its log-odds decomposition."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import stats

from model.schema import Response, check_readings_complete, reading_default
from priors import SCENARIO_IDS, CountsEvidence, Defaults, EvidenceItem, load_defaults
from priors.errors import BadInputError
from priors.loader import QuestionEvidence

REFERENCE = "A"
COHERENCE_FACTOR = 3.0  # "disagree strongly": the two answers differ by 3x or more
IMPLICATION_FACTOR = 1.5  # P(D) above P(scheming) by this much breaks "D implies scheming"
HALF_STEP = 0.005  # the form takes whole percents: an answer may be off by half a step
WARNING_PRODUCT = 0.1  # the warning sign: one low factor holds the product below this


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
        P(observation | s) (likelihood items); question items' readings are not used.
        Leading dimensions (e.g. draws) broadcast.

    Returns
    -------
    ndarray, shape (..., E, 4)
        counts: log Binomial(detected | episodes, m_s d_s + (1 - m_s) fa);
        likelihood: log P(observation | s). A zero likelihood gives -inf.
        question: 0 (nothing observed yet, so no update): adding a question leaves every
        posterior and every other log-odds term exactly as it was.
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
            elif isinstance(item, QuestionEvidence):
                out[..., e, :] = 0.0
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
        raise BadInputError(
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
        The readings used: the participant's, or the reference default where unanswered
        (NaN for a question left unanswered that has no reference values).
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
        """Posterior log-odds of B, C, D against A: the sum of the terms.

        NaN (undefined) where +inf meets -inf.
        """
        with np.errstate(invalid="ignore"):
            return self.terms.sum(axis=0)


def filled_readings(
    response: Response, evidence: Sequence[EvidenceItem], defaults: Defaults
) -> tuple[np.ndarray, np.ndarray]:
    """The participant's readings with defaults where unanswered, and where that happened.

    A likelihood item with no default and no reading gets 1 for every scenario: no update.
    A question with neither gets NaN (no reading; a question updates nothing either way, and
    `model.settle` leaves that member out of the question). Either kind answered in part is
    refused (a blank must not count as 1 beside readings below 1); `validate_response`
    refuses it first, this guards responses built by hand.

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
                v = d if d is not None else np.nan if isinstance(item, QuestionEvidence) else 1.0
            vals[e, k] = v
    return vals, defaulted


def update(
    response: Response,
    *,
    evidence: Sequence[EvidenceItem],
    defaults: Defaults | None = None,
) -> IndividualUpdate:
    """Exact posterior over A-D for one participant: post(s) ∝ prior(s) · Π_e L_e(s).

    Question items are not evidence: their L_e is 1 (log-odds term 0).
    """
    return update_all([response], evidence=evidence, defaults=defaults)[0]


def update_all(
    responses: Sequence[Response],
    *,
    evidence: Sequence[EvidenceItem],
    defaults: Defaults | None = None,
) -> list[IndividualUpdate]:
    """`update` for every response, the arithmetic done once over all of them.

    The likelihoods and the log-odds are computed on arrays of shape (N, E, 4), not one
    member at a time (`update` is this for one response).
    """
    defaults = defaults or load_defaults()
    if not responses:
        return []
    prior = np.array([[r.scenarios[s] for s in SCENARIO_IDS] for r in responses], dtype=float)
    prior = prior / prior.sum(axis=1, keepdims=True)
    filled = [filled_readings(r, evidence, defaults) for r in responses]
    readings = np.stack([f[0] for f in filled]).reshape(len(responses), len(evidence), 4)
    log_lik = log_likelihoods(readings, evidence, defaults)
    terms, post = update_terms(_log(prior), log_lik)
    return [
        IndividualUpdate(r.participant, prior[i], post[i], readings[i], f[1], log_lik[i], terms[i])
        for i, (r, f) in enumerate(zip(responses, filled, strict=True))
    ]


def scheming_product(response: Response) -> float | None:
    """Product of the four factor probabilities (None unless all four are answered)."""
    vals = list(response.factors.values())
    if any(v is None for v in vals):
        return None
    return float(math.prod(vals))


YOU = "you"
"""The default addressee of a note: the member reading their own answers ("Your ...")."""
THIS_MEMBER = "this member"
"""An addressee for a reader who is not the member and needs no name ("This member's ...")."""

NoteKind = Literal["product_vs_direct", "product_below_d", "direct_below_d", "warning_sign"]


def _pct(p: float) -> str:
    """A probability in percent for a note ("10 %", "3.1 %", "0.51 %").

    Whole percents as such, else one decimal; two significant digits below 1 %, never in
    exponent notation.
    """
    x = 100.0 * p
    if abs(x - round(x)) < 1e-9:
        return f"{round(x)} %"
    if x < 1:
        return np.format_float_positional(x, precision=2, fractional=False, trim="-") + " %"
    return f"{x:.1f} %"


def _points(g: float) -> str:
    """A difference of probabilities in percentage points ("6.9 points")."""
    return _pct(abs(g)).removesuffix(" %") + (" point" if abs(100 * g - 1) < 1e-9 else " points")


@dataclass(frozen=True)
class CoherenceNote:
    """One coherence note as a record: which number is out of line, against what, by how much.

    Attributes
    ----------
    kind : str
        ``"product_vs_direct"``: the factor product and the direct P(scheming) are 3x or more
        apart; ``"product_below_d"`` / ``"direct_below_d"``: the factor product / the direct
        P(scheming) is below the credence in D, which implies scheming; ``"warning_sign"``:
        three factors at 50 % or above and one low factor holding the product below 10 %.
    value : float
        The number checked: the factor product (``direct_below_d``: the direct answer).
    reference : float
        What it is compared with: the direct P(scheming) (``product_vs_direct``), the
        credence in D (``*_below_d``), or the 10 % the product stays under (``warning_sign``).
    gap : float
        ``reference - value`` as stated, in probability (0.069 is 6.9 percentage points);
        negative only for a factor product above the direct answer.
    factor : str or None
        ``warning_sign`` only: the id of the low factor holding the product down.
    factor_value : float or None
        ``warning_sign`` only: that factor's probability.
    """

    kind: NoteKind
    value: float
    reference: float
    gap: float
    factor: str | None = None
    factor_value: float | None = None

    def text(self, addressee: str = YOU) -> str:
        """The note in words, for `addressee`.

        ``"you"`` (the default) speaks to the member ("Your factor product ..."); any other
        text names the member in the third person: a display name gives "Ada's factor
        product ...", `THIS_MEMBER` gives "This member's factor product ...".
        """
        if addressee == YOU:
            first, poss = "Your", "your"
        else:
            poss = f"{addressee}'s"
            first = poss[:1].upper() + poss[1:] if addressee == THIS_MEMBER else poss
        v, ref = _pct(self.value), _pct(self.reference)
        if self.kind == "product_vs_direct":
            lo, hi = sorted((self.value, self.reference))
            times = f"{hi / lo:.1f} times" if lo > 0 else "infinitely many times"
            if self.gap >= 0:
                apart = f"the direct answer is {times} the product, {_points(self.gap)} higher"
            else:
                apart = f"the product is {times} the direct answer, {_points(self.gap)} higher"
            return (
                f"{first} four factors multiply to {v}, but {poss} direct P(scheming) is {ref}: "
                f"{apart}. Both estimate the same probability, so at least one of the two is "
                "off: a factor, or the direct answer."
            )
        if self.kind == "direct_below_d":
            return (
                f"{first} direct P(scheming) is {v}, below {poss} credence in D of {ref} by "
                f"{_points(self.gap)}. D (models already scheme) implies scheming, so "
                "P(scheming) must be at least P(D): the direct answer is too low or D too high."
            )
        if self.kind == "product_below_d":
            return (
                f"{first} factor product is {v}, below {poss} credence in D of {ref} by "
                f"{_points(self.gap)}. D (models already scheme) implies scheming, and "
                "scheming needs all four factors at once; taken as independent, they make it "
                "less likely than D. A factor is too low or D too high (unless the factors go "
                "together so closely that all four at once is far likelier than their product)."
            )
        return (
            f"Warning sign: three factors are at 50 % or above and only {self.factor} "
            f"({_pct(self.factor_value)}) keeps {poss} factor product at {v}; if that one "
            "factor moves, the product moves with it."
        )


@dataclass(frozen=True)
class Coherence:
    """Factor product beside the direct P(scheming) and the credence in D, with notes.

    Attributes
    ----------
    notes : tuple of str
        The notes in words, addressed to the member ("Your ...").
    records : tuple of CoherenceNote
        The same notes as records, in the same order; ``note.text(name)`` words one for
        another reader.
    """

    product: float | None
    direct: float | None
    credence_d: float
    notes: tuple[str, ...]
    records: tuple[CoherenceNote, ...] = ()


def _product_bounds(factors: Sequence[float]) -> tuple[float, float]:
    """The factor product with every factor moved half a step down, and up (within [0, 1])."""
    lo = float(math.prod(max(f - HALF_STEP, 0.0) for f in factors))
    hi = float(math.prod(min(f + HALF_STEP, 1.0) for f in factors))
    return lo, hi


def coherence(response: Response) -> Coherence:
    """Coherence checks on the scheming answers (SHELF-style feedback), as notes.

    The form takes whole percents, so each answer may be up to half a step (`HALF_STEP`,
    0.5 percentage point) from what the member meant. A note is made only when its
    condition still holds after moving every input it uses by half a step in the direction
    that favours coherence (towards each other):

    - ``product_vs_direct``: the factor product and the direct P(scheming) are 3x
      (`COHERENCE_FACTOR`) or more apart;
    - ``product_below_d``, ``direct_below_d``: D (already scheming, covertly) implies
      scheming, so P(scheming) should be at least P(D); noted when the credence in D is
      1.5x (`IMPLICATION_FACTOR`) the factor product, or the direct answer, or more;
    - ``warning_sign``: three factors at 50 % or above while the fourth holds the product
      below 10 % (a pattern, not a gap between two answers: no allowance).

    Each note says which number is out of line, against which, and by how much in
    percentage points; `Coherence.records` holds them as `CoherenceNote` records that can be
    worded for the member or for someone else.
    """
    product = scheming_product(response)
    direct = response.p_scheming
    d = response.scenarios["D"]
    facs = [v for v in response.factors.values() if v is not None]
    records = []
    if product is not None and direct is not None:
        lo, hi = _product_bounds(facs)
        if product <= direct:
            apart = max(direct - HALF_STEP, 0.0) >= COHERENCE_FACTOR * hi
        else:
            apart = lo >= COHERENCE_FACTOR * min(direct + HALF_STEP, 1.0)
        if apart:
            records.append(CoherenceNote("product_vs_direct", product, direct, direct - product))
    d_low = d - HALF_STEP
    if product is not None and d_low >= IMPLICATION_FACTOR * _product_bounds(facs)[1]:
        records.append(CoherenceNote("product_below_d", product, d, d - product))
    if direct is not None and d_low >= IMPLICATION_FACTOR * min(direct + HALF_STEP, 1.0):
        records.append(CoherenceNote("direct_below_d", direct, d, d - direct))
    if product is not None and sum(v >= 0.5 for v in facs) >= 3 and product < WARNING_PRODUCT:
        low = min(response.factors, key=lambda k: response.factors[k])
        gap = WARNING_PRODUCT - product
        low_value = response.factors[low]
        records.append(CoherenceNote("warning_sign", product, WARNING_PRODUCT, gap, low, low_value))
    return Coherence(product, direct, d, tuple(r.text() for r in records), tuple(records))


def rising_factors_warning(previous: Response, current: Response) -> str | None:
    """The warning sign across revisions: three factors rose while the product stayed flat."""
    ids = [f for f in current.factors if None not in (previous.factors[f], current.factors[f])]
    risen = [f for f in ids if current.factors[f] > previous.factors[f]]
    p0, p1 = scheming_product(previous), scheming_product(current)
    if len(risen) >= 3 and p0 is not None and p1 is not None and p1 <= COHERENCE_FACTOR / 2 * p0:
        return (
            f"Three factors rose ({', '.join(risen)}) while the product went only from "
            f"{_pct(p0)} to {_pct(p1)}: the flat product hides a worrying trend."
        )
    return None


@dataclass(frozen=True)
class Undetected:
    """Undetected misalignment for one counts item: m_s (1 - d_s) per scenario, and expected."""

    evidence_id: str
    per_scenario: np.ndarray
    expected: float


def undetected_rates(
    readings: np.ndarray, evidence: Sequence[EvidenceItem], defaults: Defaults
) -> dict[str, np.ndarray]:
    """Undetected misalignment m_s (1 - d_s) per counts item and scenario.

    `readings` has shape (..., E, 4) (leading dimensions, e.g. members, broadcast); the
    result maps each counts item's id to an array of shape (..., 4).
    """
    out = {}
    for e, item in enumerate(evidence):
        if isinstance(item, CountsEvidence):
            m, _ = counts_rates(item, defaults)
            out[item.id] = m * (1.0 - readings[..., e, :])
    return out


def undetected(
    update_: IndividualUpdate, evidence: Sequence[EvidenceItem], defaults: Defaults
) -> list[Undetected]:
    """Expected undetected misalignment rate per counts item, under the participant's posterior."""
    return [
        Undetected(item_id, per, float(update_.posterior @ per))
        for item_id, per in undetected_rates(update_.readings, evidence, defaults).items()
    ]
