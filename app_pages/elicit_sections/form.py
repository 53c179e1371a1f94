"""The Elicit form's state: widget keys, the values as a raw response, and their problems."""

from __future__ import annotations

from typing import Any

import streamlit as st

from app_pages import formats
from priors import SCENARIO_IDS, Defaults, EvidenceItem

FORM_FOR = "elicit_form_for"  # (group id, participant id or None) the form holds answers for
RESULT = "elicit_result"  # (kind, message) of the last submit, shown once
NAME_KEY = "el_name"
RATIONALE_KEY = "el_rationale"
P_SCHEMING_KEY = "el_p_scheming"


def cred_key(s: str) -> str:
    """Widget key of the credence in scenario `s`."""
    return f"el_cred_{s}"


def factor_key(f: str) -> str:
    """Widget key of factor `f`."""
    return f"el_fac_{f}"


def reading_key(evidence_id: str, s: str) -> str:
    """Widget key of the reading of an evidence item under scenario `s`."""
    return f"el_read_{evidence_id}_{s}"


def meta_key(s: str) -> str:
    """Widget key of the group average the member expects for scenario `s`."""
    return f"el_meta_{s}"


def _value_keys(evidence: tuple[EvidenceItem, ...], defaults: Defaults) -> list[str]:
    return [
        *(cred_key(s) for s in SCENARIO_IDS),
        *(meta_key(s) for s in SCENARIO_IDS),
        *(factor_key(f) for f in defaults.factor_ids),
        P_SCHEMING_KEY,
        *(reading_key(e.id, s) for e in evidence for s in SCENARIO_IDS),
        RATIONALE_KEY,
        NAME_KEY,
    ]


# --- form values <-> responses ----------------------------------------------------------------


def prefill(
    form_for: tuple[str, int | None],
    payload: dict[str, Any] | None,
    evidence: tuple[EvidenceItem, ...],
    defaults: Defaults,
) -> None:
    """Empty the form, or fill it from a saved answer (probabilities as whole percentages)."""
    state = st.session_state
    for key in _value_keys(evidence, defaults):
        state.pop(key, None)
    if payload:
        for s in SCENARIO_IDS:
            state[cred_key(s)] = formats.percent(payload["scenarios"].get(s))
        meta = payload.get("meta") or {}  # their own earlier forecast; blank if they skipped
        for s in SCENARIO_IDS:
            state[meta_key(s)] = formats.percent(meta.get(s))
        for f in defaults.factor_ids:
            state[factor_key(f)] = formats.percent(payload["factors"].get(f))
        state[P_SCHEMING_KEY] = formats.percent(payload.get("p_scheming"))
        for e in evidence:
            per = payload.get("readings", {}).get(e.id, {})
            for s in SCENARIO_IDS:
                state[reading_key(e.id, s)] = formats.percent(per.get(s))
        state[RATIONALE_KEY] = payload.get("rationale", "")
        state[NAME_KEY] = payload.get("participant", "")
    state[FORM_FOR] = form_for


def raw(name: str, evidence: tuple[EvidenceItem, ...], defaults: Defaults) -> dict[str, Any]:
    """The form's current values as a raw response (percentages to probabilities)."""
    state = st.session_state
    return {
        "participant": name,
        "scenarios": {s: formats.probability(state.get(cred_key(s))) for s in SCENARIO_IDS},
        "factors": {f: formats.probability(state.get(factor_key(f))) for f in defaults.factor_ids},
        "p_scheming": formats.probability(state.get(P_SCHEMING_KEY)),
        "readings": {
            e.id: {s: formats.probability(state.get(reading_key(e.id, s))) for s in SCENARIO_IDS}
            for e in evidence
        },
        "rationale": state.get(RATIONALE_KEY) or "",
        "meta": {s: formats.probability(state.get(meta_key(s))) for s in SCENARIO_IDS},
    }


def meta_problem() -> str | None:
    """What is wrong with the four expected group averages (None if complete or skipped)."""
    values = {s: st.session_state.get(meta_key(s)) for s in SCENARIO_IDS}
    missing = [s for s, v in values.items() if v is None]
    if len(missing) == len(values):
        return None  # skipped as a whole
    if missing:
        return (
            "“What will the group say?” is partly answered (missing: "
            f"{', '.join(missing)}). Give all four expected averages, or leave all four blank "
            "to skip it."
        )
    total = sum(values.values())
    if total != 100:
        return (
            f"Your expected group averages add up to {total} %; they must sum to 100 % "
            "(or leave all four blank to skip the question)."
        )
    return None


def credence_problem() -> str | None:
    """What is wrong with the four credences, in the form's own terms (None if nothing)."""
    values = {s: st.session_state.get(cred_key(s)) for s in SCENARIO_IDS}
    missing = [s for s, v in values.items() if v is None]
    if missing:
        return (
            f"Enter all four credences before submitting (missing: {', '.join(missing)}). "
            "A scenario you rule out gets 0."
        )
    total = sum(values.values())
    if total != 100:
        return (
            f"Your credences add up to {total} %; they must sum to 100 %. "
            "Change them, or press “Rescale to 100 %”."
        )
    return None


def rescale() -> None:
    """The Rescale button's callback: the four credences scaled to add up to 100."""
    values = [st.session_state.get(cred_key(s)) for s in SCENARIO_IDS]
    if any(v is None for v in values):
        return
    scaled = formats.rescaled_percentages(values)
    if scaled is not None:
        for s, v in zip(SCENARIO_IDS, scaled, strict=True):
            st.session_state[cred_key(s)] = v


def _range_problem(value: float | None) -> str | None:
    """A typed percentage outside 0-100, in words (None if it is in range or blank)."""
    if value is None or 0 <= value <= 100:
        return None
    side = "above 100 %" if value > 100 else "below 0 %"
    return f"{value:g} % is {side}: give a number from 0 to 100."


def pct_input(label: str, key: str, *, help: str | None = None) -> None:
    """A percentage box that takes any number and says under it what is wrong with one."""
    # No min/max: Streamlit would refuse 150 with only a red border and keep the old value,
    # so the page takes any number and says in words, under the box, what is wrong with it.
    value = st.number_input(
        label,
        value=None,
        step=1,
        key=key,
        help=help,
        placeholder="%",
        persist_state="session",
    )
    problem = _range_problem(value)
    if problem is not None:
        st.error(problem)


def _labels(evidence: tuple[EvidenceItem, ...], defaults: Defaults) -> dict[str, str]:
    """Each percentage input's key and the name a message gives it."""
    return {
        **{cred_key(s): f"credence in {s}" for s in SCENARIO_IDS},
        **{meta_key(s): f"expected group average for {s}" for s in SCENARIO_IDS},
        **{factor_key(f.id): f.name for f in defaults.factors},
        P_SCHEMING_KEY: "direct P(scheming)",
        **{
            reading_key(e.id, s): f"reading of {e.id} under {s}"
            for e in evidence
            for s in SCENARIO_IDS
        },
    }


def range_problems(evidence: tuple[EvidenceItem, ...], defaults: Defaults) -> list[str]:
    """Every typed percentage outside 0-100, named (for the message after Submit)."""
    out = []
    for key, label in _labels(evidence, defaults).items():
        problem = _range_problem(st.session_state.get(key))
        if problem is not None:
            out.append(f"{label[0].upper()}{label[1:]}: {problem}")
    return out
