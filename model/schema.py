"""Named records between layers: a validated Response, and a group as arrays."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from priors import SCENARIO_IDS, CountsEvidence, Defaults, EvidenceItem, load_defaults
from priors.errors import ResponseError
from priors.limits import MAX_NAME_CHARS, MAX_PARTICIPANTS, MAX_RATIONALE_CHARS

SUM_TOLERANCE = 0.005


@dataclass(frozen=True)
class Response:
    """One participant's answers, validated. Probabilities are in [0, 1]; None = no answer.

    Attributes
    ----------
    participant : str
        Display name or pseudonym, unique within a group.
    scenarios : dict
        Credence in each of A, B, C, D, summing to 1 (within 0.005).
    factors : dict
        Probability of each scheming factor (None where unanswered).
    p_scheming : float or None
        The direct P(scheming).
    readings : dict
        Per evidence id, per scenario: the detection sensitivity (counts items),
        P(observation | scenario) (likelihood items) or P(yes | scenario) (question items,
        validated like likelihood items); None where unanswered.
    rationale : str
        Free text, stored and shown as given (plain text).
    meta : dict or None
        The meta-prediction: the average credence the member expects the group to give each
        of A, B, C, D, summing to 1 (within 0.005) like the credences; None = skipped.
    """

    participant: str
    scenarios: dict[str, float]
    factors: dict[str, float | None]
    p_scheming: float | None
    readings: dict[str, dict[str, float | None]]
    rationale: str = ""
    meta: dict[str, float] | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-serialisable form (the payload stored and exported).

        ``"meta"`` is there only when the member answered it, so an answer without one has
        the payload (and the data key, and so the fit's seed) it had before the question.
        """
        out = {
            "participant": self.participant,
            "scenarios": dict(self.scenarios),
            "factors": dict(self.factors),
            "p_scheming": self.p_scheming,
            "readings": {e: dict(r) for e, r in self.readings.items()},
            "rationale": self.rationale,
        }
        if self.meta is not None:
            out["meta"] = dict(self.meta)
        return out


def _probability(value: Any, where: str, *, required: bool) -> float | None:
    """Check one probability; None (or empty text) is 'no answer' where that is allowed."""
    if value is None or (isinstance(value, str) and value.strip() == ""):
        if required:
            raise ResponseError(
                f"{where}: no answer; this one is required: give a number in [0, 1]"
            )
        return None
    if isinstance(value, bool):
        raise ResponseError(f"{where}: got {value!r}; give a number in [0, 1]")
    if isinstance(value, str):
        text = value.strip()
        try:
            value = float(text.rstrip("%")) / (100.0 if text.endswith("%") else 1.0)
        except ValueError:
            raise ResponseError(
                f"{where}: {text[:40]!r} is not a number; give a probability in [0, 1]"
            ) from None
    if not isinstance(value, (int, float)):
        raise ResponseError(f"{where}: got {type(value).__name__}; give a number in [0, 1]")
    try:
        value = float(value)
    except OverflowError:
        raise ResponseError(
            f"{where}: {str(value)[:20]}... is far above 1; give a probability in [0, 1]"
        ) from None
    if math.isnan(value) or math.isinf(value):
        raise ResponseError(f"{where}: {value} is not a finite number; give one in [0, 1]")
    if value < 0:
        raise ResponseError(f"{where}: {value:g} is negative; give a number in [0, 1]")
    if value > 1:
        raise ResponseError(
            f"{where}: {value:g} is above 1 and looks like a percentage; "
            f"give probabilities in [0, 1] (e.g. {value / 100:g} for {value:g} %)"
        )
    return value


def _names(ids: list[str]) -> str:
    """Unknown ids for a message, each cut to 40 characters and at most 10 of them."""
    shown = [i if len(i) <= 40 else i[:40] + "..." for i in ids[:10]]
    return str(shown) + (f" and {len(ids) - 10} more" if len(ids) > 10 else "")


def _mapping_or_empty(value: Any) -> Any:
    """None (not given) is an empty mapping; anything else is checked by the caller."""
    return {} if value is None else value


def _text(value: Any, where: str, *, max_chars: int, required: bool) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ResponseError(f"{where}: got {type(value).__name__}; give text")
    if required and not value.strip():
        raise ResponseError(f"{where}: is empty; give a name or pseudonym")
    if len(value) > max_chars:
        raise ResponseError(
            f"{where}: is {len(value):,} characters long; the limit is {max_chars:,}. Shorten it."
        )
    if "\x00" in value:
        raise ResponseError(f"{where}: contains a NUL character; remove it")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ResponseError(
            f"{where}: contains characters that are not valid Unicode (lone surrogates); "
            "remove them"
        ) from None
    return value.strip() if required else value


def validate_response(
    raw: Mapping[str, Any],
    *,
    evidence: Sequence[EvidenceItem],
    defaults: Defaults | None = None,
) -> Response:
    """Validate one response given as plain values; see `Response` for the fields.

    On a likelihood item without reference values (no `default_likelihood`) the four
    readings are given all or none: a partial answer is refused (`check_readings_complete`).

    Raises
    ------
    ResponseError
        Naming the participant, the field and how to fix it.
    """
    defaults = defaults or load_defaults()
    if not isinstance(raw, Mapping):
        raise ResponseError(
            f"a response must be an object with named fields, got {type(raw).__name__}"
        )
    known = {"participant", "scenarios", "factors", "p_scheming", "readings", "rationale", "meta"}
    unknown = sorted(set(map(str, raw)) - known)
    if unknown:
        raise ResponseError(
            f"unknown field(s) {_names(unknown)}; remove them (the fields are {sorted(known)})"
        )
    name = _text(raw.get("participant"), "participant", max_chars=MAX_NAME_CHARS, required=True)
    who = f"participant {name[:60]!r}"

    scen = raw.get("scenarios")
    if not isinstance(scen, Mapping):
        raise ResponseError(f"{who}: scenarios must map A, B, C, D to credences")
    bad_ids = sorted(set(map(str, scen)) - set(SCENARIO_IDS))
    if bad_ids:
        raise ResponseError(f"{who}: unknown scenario id(s) {_names(bad_ids)}; use A, B, C, D")
    scenarios = {
        s: _probability(scen.get(s), f"{who}: credence in {s}", required=True) for s in SCENARIO_IDS
    }
    total = sum(scenarios.values())
    if abs(total - 1.0) > SUM_TOLERANCE:
        raise ResponseError(
            f"{who}: scenario credences sum to {total:.3g}; they must sum to 1 (100 %). "
            "Rescale them so that they add up."
        )

    fac_raw = _mapping_or_empty(raw.get("factors"))
    if not isinstance(fac_raw, Mapping):
        raise ResponseError(f"{who}: factors must map factor ids to probabilities")
    bad_f = sorted(set(map(str, fac_raw)) - set(defaults.factor_ids))
    if bad_f:
        raise ResponseError(
            f"{who}: unknown factor(s) {_names(bad_f)}; remove them or use one of "
            f"{list(defaults.factor_ids)}"
        )
    factors = {
        f: _probability(fac_raw.get(f), f"{who}: {f}", required=False) for f in defaults.factor_ids
    }
    p_scheming = _probability(raw.get("p_scheming"), f"{who}: p_scheming", required=False)

    read_raw = _mapping_or_empty(raw.get("readings"))
    if not isinstance(read_raw, Mapping):
        raise ResponseError(f"{who}: readings must map evidence ids to per-scenario values")
    ids = [e.id for e in evidence]
    bad_e = sorted(set(map(str, read_raw)) - set(ids))
    if bad_e:
        raise ResponseError(
            f"{who}: reading(s) for unknown evidence id(s) {_names(bad_e)}; remove them or use "
            f"one of this group's evidence ids {ids}"
        )
    readings: dict[str, dict[str, float | None]] = {}
    for item in evidence:
        per = _mapping_or_empty(read_raw.get(item.id))
        if not isinstance(per, Mapping):
            raise ResponseError(f"{who}: readings.{item.id} must map A, B, C, D to probabilities")
        bad_s = sorted(set(map(str, per)) - set(SCENARIO_IDS))
        if bad_s:
            raise ResponseError(
                f"{who}: readings.{item.id}: unknown scenario id(s) {_names(bad_s)}; use A, B, C, D"
            )
        readings[item.id] = {
            s: _probability(per.get(s), f"{who}: {item.id}:{s}", required=False)
            for s in SCENARIO_IDS
        }
        check_readings_complete(item, readings[item.id], who=who)
    rationale = _text(
        raw.get("rationale"), f"{who}: rationale", max_chars=MAX_RATIONALE_CHARS, required=False
    )
    meta = _meta(raw.get("meta"), who=who)
    return Response(name, scenarios, factors, p_scheming, readings, rationale, meta)


def _meta(value: Any, *, who: str) -> dict[str, float] | None:
    """The meta-prediction: all four expected group averages summing to 1, or None (skipped).

    Missing, None, or all four blank is a skip; some blank and some given is refused.
    """
    value = _mapping_or_empty(value)
    if not isinstance(value, Mapping):
        raise ResponseError(
            f"{who}: meta must map A, B, C, D to the average credence you expect the group to "
            "give each (or be left out to skip the question)"
        )
    bad = sorted(set(map(str, value)) - set(SCENARIO_IDS))
    if bad:
        raise ResponseError(f"{who}: meta: unknown scenario id(s) {_names(bad)}; use A, B, C, D")
    meta = {s: _probability(value.get(s), f"{who}: meta:{s}", required=False) for s in SCENARIO_IDS}
    given = [s for s, v in meta.items() if v is not None]
    if not given:
        return None
    if len(given) < len(SCENARIO_IDS):
        missing = [s for s in SCENARIO_IDS if s not in given]
        raise ResponseError(
            f"{who}: meta: no expected group average for {', '.join(missing)} (given for "
            f"{', '.join(given)}); give all four (summing to 100 %) or leave all four blank "
            "to skip the question"
        )
    total = sum(meta.values())
    if abs(total - 1.0) > SUM_TOLERANCE:
        raise ResponseError(
            f"{who}: meta: the expected group averages sum to {total:.3g}; they must sum to 1 "
            "(100 %). Rescale them so that they add up, or leave all four blank to skip."
        )
    return meta


def validate_group(
    raws: Sequence[Mapping[str, Any]],
    *,
    evidence: Sequence[EvidenceItem],
    defaults: Defaults | None = None,
) -> list[Response]:
    """Validate every response of a group; all problems are reported together.

    Raises
    ------
    ResponseError
        One line per bad response (row numbers from 1), or for a participant id given twice.
    """
    if isinstance(raws, (str, bytes)) or not isinstance(raws, Sequence):
        raise ResponseError("responses must be a list of response objects; give a list")
    if len(raws) == 0:
        raise ResponseError("no responses found; give at least one participant")
    if len(raws) > MAX_PARTICIPANTS:
        raise ResponseError(
            f"{len(raws):,} responses; the limit is {MAX_PARTICIPANTS:,}: split the file"
        )
    out, problems, seen = [], [], {}
    for row, raw in enumerate(raws, start=1):
        try:
            resp = validate_response(raw, evidence=evidence, defaults=defaults)
        except ResponseError as exc:
            problems.append(f"row {row}: {exc}")
            continue
        if resp.participant in seen:
            problems.append(
                f"row {row}: participant {resp.participant[:60]!r} appears twice "
                f"(also row {seen[resp.participant]}); give each participant one row"
            )
            continue
        seen[resp.participant] = row
        out.append(resp)
    if problems:
        shown = problems[:20] + (
            [f"... and {len(problems) - 20} more"] if len(problems) > 20 else []
        )
        raise ResponseError("\n".join(shown))
    return out


@dataclass(frozen=True)
class GroupData:
    """A validated group as arrays, ready for the model.

    Attributes
    ----------
    participants : list of str
    credences : ndarray, shape (N, 4)
        Credences in A-D, each row renormalised to sum to exactly 1.
    columns : list of str
        Names of the logit-normal quantities: the four factors, ``p_scheming``, then
        ``<evidence id>:<scenario>`` for each evidence item and scenario.
    values : ndarray, shape (N, J)
        Their stated probabilities; NaN where unanswered (missing data, never zero).
    evidence : tuple of evidence items
    """

    participants: list[str]
    credences: np.ndarray
    columns: list[str]
    values: np.ndarray
    evidence: tuple[EvidenceItem, ...]

    @property
    def n(self) -> int:
        """Number of participants."""
        return len(self.participants)


def quantity_columns(evidence: Sequence[EvidenceItem], defaults: Defaults) -> list[str]:
    """Names of the logit-normal columns, in model order."""
    cols = [*defaults.factor_ids, defaults.direct.id]
    cols += [f"{e.id}:{s}" for e in evidence for s in SCENARIO_IDS]
    return cols


def needs_all_readings(item: EvidenceItem) -> bool:
    """True for an item whose readings must be given all four or not at all.

    A likelihood item without `default_likelihood` has no reference value to stand in for a
    blank scenario; a blank counted as likelihood 1 would move the others against it.
    """
    return not isinstance(item, CountsEvidence) and item.default_likelihood is None


def check_readings_complete(
    item: EvidenceItem, readings: Mapping[str, float | None], *, who: str
) -> None:
    """Refuse a partial answer on an item that needs all four readings or none.

    Raises
    ------
    ResponseError
        Naming the item and the blank scenarios, and saying to give all four or none.
    """
    if not needs_all_readings(item):
        return
    given = [s for s in SCENARIO_IDS if readings.get(s) is not None]
    if not given or len(given) == len(SCENARIO_IDS):
        return
    missing = [s for s in SCENARIO_IDS if s not in given]
    raise ResponseError(
        f"{who}: {item.id}: no reading for {', '.join(missing)} (readings given for "
        f"{', '.join(given)}); this item has no reference values to stand in for a blank, "
        "so give all four or leave all blank"
    )


def reading_default(item: EvidenceItem, scenario: str, defaults: Defaults) -> float | None:
    """The reference reading for an item and scenario (None: the item has none).

    Counts items: the scenario's detection sensitivity today; likelihood and question items:
    their `default_likelihood`, when given.
    """
    if isinstance(item, CountsEvidence):
        return defaults.scenario(scenario).detection_now
    if item.default_likelihood is not None:
        return item.default_likelihood[scenario]
    return None


def to_group_data(
    responses: Sequence[Response],
    *,
    evidence: Sequence[EvidenceItem],
    defaults: Defaults | None = None,
) -> GroupData:
    """Turn validated responses into the arrays the model uses."""
    defaults = defaults or load_defaults()
    cred = np.array([[r.scenarios[s] for s in SCENARIO_IDS] for r in responses], dtype=float)
    cred = cred / cred.sum(axis=1, keepdims=True)
    cols = quantity_columns(evidence, defaults)
    vals = np.full((len(responses), len(cols)), np.nan)
    for i, r in enumerate(responses):
        row = [*(r.factors[f] for f in defaults.factor_ids), r.p_scheming]
        row += [r.readings[e.id][s] for e in evidence for s in SCENARIO_IDS]
        vals[i] = [np.nan if v is None else v for v in row]
    return GroupData([r.participant for r in responses], cred, cols, vals, tuple(evidence))
