"""Elicit: a participant states credences, factors and evidence readings, sees feedback, saves."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from app_pages import common
from app_pages.exports import figure_bytes
from model import Response, ResponseError, coherence, to_group_data, update, validate_response
from model.figures import scenario_sketch
from model.history import Change, revision_diff
from model.individual import counts_rates, rising_factors_warning, undetected
from model.member_view import MIN_GROUP_VIEW, member_view
from model.meta import MIN_META_ANSWERS, MetaPredictions, meta_predictions
from model.pools import scenario_pools
from model.schema import MAX_NAME_CHARS, reading_default
from priors import SCENARIO_IDS, CountsEvidence, Defaults, EvidenceItem
from priors.errors import CruxboardError
from priors.limits import MAX_FORM_RATIONALE_CHARS
from store import Group, Participant

NOT_ALLOWED = (
    "Not allowed. This come-back link is not valid for this group: nothing can be shown or "
    "changed with it. Check that you copied the whole link (it ends in &p=...), or answer as "
    "a new member with the participant link."
)
FORM_FOR = "elicit_form_for"  # (group id, participant id or None) the form holds answers for
RESULT = "elicit_result"  # (kind, message) of the last submit, shown once
NAME_KEY = "el_name"
RATIONALE_KEY = "el_rationale"
P_SCHEMING_KEY = "el_p_scheming"
RESCALE_KEY = "elicit_rescale"
SKETCH_MIN_PX = 360  # narrowest scenario card beside another (below it, one per row)
EMPTIED = "elicit_emptied"  # ((group id, participant id), round) the member chose to start empty
SUBMIT_KEY = "elicit_submit"


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


def _prefill(
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
            state[cred_key(s)] = common.percent(payload["scenarios"].get(s))
        meta = payload.get("meta") or {}  # their own earlier forecast; blank if they skipped
        for s in SCENARIO_IDS:
            state[meta_key(s)] = common.percent(meta.get(s))
        for f in defaults.factor_ids:
            state[factor_key(f)] = common.percent(payload["factors"].get(f))
        state[P_SCHEMING_KEY] = common.percent(payload.get("p_scheming"))
        for e in evidence:
            per = payload.get("readings", {}).get(e.id, {})
            for s in SCENARIO_IDS:
                state[reading_key(e.id, s)] = common.percent(per.get(s))
        state[RATIONALE_KEY] = payload.get("rationale", "")
        state[NAME_KEY] = payload.get("participant", "")
    state[FORM_FOR] = form_for


def _raw(name: str, evidence: tuple[EvidenceItem, ...], defaults: Defaults) -> dict[str, Any]:
    """The form's current values as a raw response (percentages to probabilities)."""
    state = st.session_state
    return {
        "participant": name,
        "scenarios": {s: common.probability(state.get(cred_key(s))) for s in SCENARIO_IDS},
        "factors": {f: common.probability(state.get(factor_key(f))) for f in defaults.factor_ids},
        "p_scheming": common.probability(state.get(P_SCHEMING_KEY)),
        "readings": {
            e.id: {s: common.probability(state.get(reading_key(e.id, s))) for s in SCENARIO_IDS}
            for e in evidence
        },
        "rationale": state.get(RATIONALE_KEY) or "",
        "meta": {s: common.probability(state.get(meta_key(s))) for s in SCENARIO_IDS},
    }


def _meta_problem() -> str | None:
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


def _credence_problem() -> str | None:
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


# --- callbacks (run before the page, so the page shows the result) ----------------------------


def _rescale() -> None:
    values = [st.session_state.get(cred_key(s)) for s in SCENARIO_IDS]
    if any(v is None for v in values):
        return
    scaled = common.rescaled_percentages(values)
    if scaled is not None:
        for s, v in zip(SCENARIO_IDS, scaled, strict=True):
            st.session_state[cred_key(s)] = v


def _submit(
    group_id: str, participant: Participant | None, evidence: tuple[EvidenceItem, ...]
) -> None:
    defaults = common.defaults()
    state = st.session_state
    store = common.get_store()
    if participant is None:  # a second click before the page caught up: same person, not new
        saved = state.get(common.EDIT_TOKENS, {}).get(group_id)
        participant = store.participant_for_token(group_id, saved) if saved else None
    name = participant.display_name if participant else (state.get(NAME_KEY) or "").strip()
    problems = []
    if not name:
        problems.append("Enter a display name (or a pseudonym) before submitting.")
    problems += _range_problems(evidence, defaults)
    if (cred := _credence_problem()) is not None:
        problems.append(cred)
    if (meta := _meta_problem()) is not None:
        problems.append(meta)
    if problems:
        state[RESULT] = ("error", " ".join(problems))
        return
    try:
        response = validate_response(_raw(name, evidence, defaults), evidence=evidence)
        update(response, evidence=evidence, defaults=defaults)  # refuses impossible evidence
    except CruxboardError as exc:  # ResponseError, impossible evidence
        state[RESULT] = ("error", str(exc))
        return
    group = store.get_group(group_id)
    if group is None:
        state[RESULT] = ("error", "This group no longer exists; nothing was saved.")
        return
    first = participant is None
    try:
        if participant is None:
            participant, token = store.add_participant(group_id, name)
            common.remember_token(common.EDIT_TOKENS, group_id, token)
        store.add_revision(participant.id, round=group.current_round, payload=response.to_dict())
    except CruxboardError as exc:
        state[RESULT] = ("error", f"Nothing was saved: {exc}")
        return
    state[FORM_FOR] = (group_id, participant.id)
    state[RESULT] = (
        "first" if first else "again",
        f"Saved your answers for round {group.current_round}. "
        + (
            "Keep your private come-back link (at the top of this page) to revise them later."
            if first
            else "Your earlier answers are kept; this one is added."
        ),
    )


# --- rendering --------------------------------------------------------------------------------


@st.cache_data(max_entries=8, show_spinner=False)
def _sketch_png(scenario_id: str) -> bytes:
    return figure_bytes(scenario_sketch(common.defaults(), scenario_id), "png")


def _range_problem(value: float | None) -> str | None:
    """A typed percentage outside 0-100, in words (None if it is in range or blank)."""
    if value is None or 0 <= value <= 100:
        return None
    side = "above 100 %" if value > 100 else "below 0 %"
    return f"{value:g} % is {side}: give a number from 0 to 100."


def _pct_input(label: str, key: str, *, help: str | None = None) -> None:
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


def _range_problems(evidence: tuple[EvidenceItem, ...], defaults: Defaults) -> list[str]:
    """Every typed percentage outside 0-100, named (for the message after Submit)."""
    out = []
    for key, label in _labels(evidence, defaults).items():
        problem = _range_problem(st.session_state.get(key))
        if problem is not None:
            out.append(f"{label[0].upper()}{label[1:]}: {problem}")
    return out


def _scenarios(defaults: Defaults) -> None:
    st.header("1. How do you think it goes?")
    st.markdown(
        "Four scenarios of how alignment goes as capability grows. In each sketch, "
        "*actual* alignment is what the model really does, *observed* is what evals and "
        "monitoring show, and the dotted line is *what we need*. Give your credence in each, "
        "in whole percentages adding up to 100."
    )
    # Two cards a row, one on a narrow screen: a sketch never shrinks below about
    # SKETCH_MIN_PX (its smallest type stays about 9 px high), nor grows past its own size.
    grid = st.grid(2, min_column_width=SKETCH_MIN_PX, border=True, key="elicit_scenarios")
    for s in defaults.scenarios:
        with grid.cell():
            st.image(_sketch_png(s.id), width="content")
            st.markdown(f"**{s.id} · {s.name}**")
            st.write(s.story)
            _pct_input(f"Credence in {s.id} (%)", cred_key(s.id))
    values = [st.session_state.get(cred_key(s)) for s in SCENARIO_IDS]
    entered = [v for v in values if v is not None]
    total = sum(entered)
    left, right = st.columns([3, 1], vertical_alignment="center")
    with left.container(key="elicit_total"):
        if len(entered) == len(values) and total == 100:
            st.success(f"Total: {total} %")
        else:
            st.warning(f"Total: {total} % of 100 % ({len(entered)} of 4 entered)")
    right.button(
        "Rescale to 100 %",
        key=RESCALE_KEY,
        on_click=_rescale,
        disabled=len(entered) < len(values) or total in (0, 100) or min(entered) < 0,
        help="Keeps the proportions between your four credences and makes them add up to 100.",
    )


def _meta_question() -> None:
    with st.container(key="elicit_meta"):
        st.subheader("What will the group say?")
        st.markdown(
            "Optional. What average credence do you expect the group (everyone who answers "
            "this round, you included) to give each scenario? Not your own view: your guess "
            "of everyone's. Whole percentages adding up to 100; leave all four blank to skip. "
            "It shows which scenario is more popular than the members expect, and how far "
            "you expected the group to be from you."
        )
        cols = st.columns(4)
        for col, s in zip(cols, SCENARIO_IDS, strict=True):
            with col:
                _pct_input(f"Group average for {s} (%)", meta_key(s))
        values = [st.session_state.get(meta_key(s)) for s in SCENARIO_IDS]
        entered = [v for v in values if v is not None]
        if not entered:
            st.caption("Skipped (all four blank).")
            return
        with st.container(key="elicit_meta_total"):
            if len(entered) == len(values) and sum(entered) == 100:
                st.success(f"Total: {sum(entered)} %")
            else:
                st.warning(
                    f"Total: {sum(entered)} % of 100 % ({len(entered)} of 4 entered): give all "
                    "four, or leave all four blank to skip."
                )


def _factors(defaults: Defaults) -> None:
    st.header("2. Scheming and its factors")
    st.markdown(
        "Scheming: covertly pursuing long-term goals of its own. It needs roughly all four "
        "factors at once, so it is about their product; you also give it directly. Leave a "
        "question empty if you have no answer."
    )
    for f in defaults.factors:
        _pct_input(f"{f.name}: {f.question}", factor_key(f.id))
    _pct_input(f"Directly: {defaults.direct.question}", P_SCHEMING_KEY)


def _reference(item: EvidenceItem, s: str, defaults: Defaults) -> str:
    ref = reading_default(item, s, defaults)
    return "none (an empty reading means no update)" if ref is None else common.show_percent(ref)


def _evidence(evidence: tuple[EvidenceItem, ...], defaults: Defaults) -> None:
    st.header("3. How do you read the evidence?")
    if not evidence:
        st.info("This group has no evidence items.")
        return
    st.markdown(
        "For each observation, say per scenario how you read it. An empty reading uses the "
        "reference value shown; the references are not your answer, so they are never "
        "filled in for you."
    )
    for item in evidence:
        with st.container(border=True, key=f"elicit_item_{item.id}"):
            st.text(item.text)
            question = item.kind == "question"
            if isinstance(item, CountsEvidence):
                st.caption(
                    "Your reading per scenario: detection sensitivity, i.e. if a model in this "
                    "scenario acts misaligned, how likely is monitoring to catch it?"
                )
            elif question:
                st.caption(
                    "A question about the future, not yet observed: it changes no one's view "
                    "now. Your reading per scenario: P(yes | scenario), i.e. if the scenario "
                    "were true, how likely is the answer yes? The group uses the readings to "
                    "rank which future observation would settle its disagreement most."
                )
            else:
                st.caption(
                    "Your reading per scenario: how likely would we see this if the scenario "
                    "were true?"
                )
            rates = counts_rates(item, defaults)[0] if isinstance(item, CountsEvidence) else None
            cols = st.columns(4)
            for k, (col, s) in enumerate(zip(cols, SCENARIO_IDS, strict=True)):
                ref = _reference(item, s, defaults)
                if question and reading_default(item, s, defaults) is None:
                    ref = "none (leave all four empty to skip this question)"
                with col:
                    _pct_input(f"{s} (%)", reading_key(item.id, s), help=f"reference: {ref}")
                    st.caption(f"reference: {ref}")
                    if rates is not None:  # the answer's weight rests on this assumed rate
                        st.caption(
                            f"assumed misalignment rate under {s}: "
                            f"{common.show_percent(float(rates[k]))} of episodes"
                        )
            _reference_box(item, defaults)


def _reference_box(item: EvidenceItem, defaults: Defaults) -> None:
    """The values the update assumes for an item, per scenario (not a file to look up)."""
    with st.expander("Reference values for this item"):
        if isinstance(item, CountsEvidence):
            m, fa = counts_rates(item, defaults)
            columns = {
                "m": m,
                "false alarm": fa,
                "reference d": [reading_default(item, s, defaults) for s in SCENARIO_IDS],
            }
            st.caption(
                "Per scenario: m, the misalignment rate (the share of episodes with a "
                "misaligned action); the false-alarm rate (an aligned episode flagged); d, the "
                "detection sensitivity you read (the reference d stands in for a reading left "
                f"empty). Each of the {item.episodes} episodes is flagged with chance "
                "m·d + (1 − m)·false alarm. m and the false-alarm rate are the same for everyone: "
                + (
                    "the scenarios' values today."
                    if item.misalignment_rate is None and item.false_alarm_rate is None
                    else "given with this item where it sets them, else the scenarios' values."
                )
            )
        else:
            refs = [reading_default(item, s, defaults) for s in SCENARIO_IDS]
            if all(r is None for r in refs):
                st.caption(
                    "This item has no reference values: an empty reading has none to stand in "
                    "for it, so give all four or none."
                )
                return
            what = "P(yes | scenario)" if item.kind == "question" else "P(observation | scenario)"
            st.caption(f"Per scenario: the reference {what}, used for a reading left empty.")
            columns = {"reference": refs}
        st.dataframe(  # scenarios down the side: narrow enough for a phone
            pd.DataFrame(
                {name: [common.show_percent(v) for v in vals] for name, vals in columns.items()},
                index=list(SCENARIO_IDS),
            ),
            key=f"elicit_reference_{item.id}",
        )


def _about_you(participant: Participant | None) -> None:
    st.header("4. Why, and who you are")
    st.text_area(
        "Your rationale: what drives your view? (shown to the facilitator as plain text)",
        key=RATIONALE_KEY,
        max_chars=MAX_FORM_RATIONALE_CHARS,
        persist_state="session",
    )
    if participant is None:
        st.text_input(
            "Display name or pseudonym (shown to the facilitator)",
            key=NAME_KEY,
            max_chars=MAX_NAME_CHARS,
            persist_state="session",
        )
    else:
        st.markdown("You answer as:")
        st.text(participant.display_name)


def _log_odds_table(upd: Any, evidence: tuple[EvidenceItem, ...]) -> pd.DataFrame:
    rows = ["your credences (prior)", *(f"evidence: {e.id}" for e in evidence)]
    rows.append("after the evidence (sum)")
    values = np.vstack([upd.terms, upd.posterior_log_odds[None, :]])
    return pd.DataFrame(
        [[common.show_log_odds(v) for v in row] for row in values],
        index=rows,
        columns=[f"{s} vs A" for s in SCENARIO_IDS[1:]],
    )


def _feedback(
    raw: dict[str, Any],
    evidence: tuple[EvidenceItem, ...],
    defaults: Defaults,
    previous: Response | None,
) -> None:
    st.header("Your feedback")
    st.caption("Computed from what you have entered so far; nothing is saved until you submit.")
    problem = _credence_problem()
    if problem is not None:
        st.info("Feedback appears once your four credences are complete and add up to 100 %.")
        return
    # The forecast of the group feeds no feedback here; a half-filled one must not hide it.
    raw = dict(raw, participant=raw["participant"].strip() or "you", meta=None)
    try:
        response = validate_response(raw, evidence=evidence, defaults=defaults)
        upd = update(response, evidence=evidence, defaults=defaults)
    except CruxboardError as exc:
        st.warning(common.md_escape(str(exc)))
        return
    with st.container(key="elicit_feedback"):
        st.subheader("Your view after the evidence")
        st.dataframe(
            pd.DataFrame(
                {
                    "you said": [common.show_percent(p) for p in upd.prior],
                    "after the evidence": [common.show_percent(p) for p in upd.posterior],
                },
                index=[f"{s.id} · {s.name}" for s in defaults.scenarios],
            ),
            key="elicit_posterior_table",
        )
        st.markdown(
            "**Why it moved**: log-odds against A, in nats (+ favours the scenario, − favours "
            "A; 1 nat = ×2.7 in odds). The rows add up exactly; ±∞ comes from a stated 0."
        )
        st.dataframe(_log_odds_table(upd, evidence), key="elicit_log_odds_table")
        if upd.defaulted.any():
            st.caption("Readings you left empty use the reference values.")

        st.subheader("Do your scheming answers cohere?")
        coh = coherence(response)
        c1, c2, c3 = st.columns(3)
        c1.metric("Product of your four factors", common.show_percent(coh.product, digits=1))
        c2.metric("Your direct P(scheming)", common.show_percent(coh.direct, digits=1))
        c3.metric("Your credence in D", common.show_percent(coh.credence_d, digits=1))
        if coh.product is None:
            st.caption("Answer all four factors to see their product.")
        for note in coh.notes:
            st.warning(common.md_escape(note))
        if previous is not None:
            rising = rising_factors_warning(previous, response)
            if rising:
                st.warning(common.md_escape(rising))
        if not coh.notes and coh.product is not None and coh.direct is not None:
            st.success("Your factor product, direct P(scheming) and credence in D fit together.")

        rows = undetected(upd, evidence, defaults)
        if rows:
            st.subheader("Undetected misalignment")
            st.caption(
                "The misalignment rate monitoring would miss, m·(1 − d), per scenario and "
                "expected under your view after the evidence."
            )
            st.dataframe(
                pd.DataFrame(
                    [
                        [
                            *(common.show_percent(v, digits=1) for v in x.per_scenario),
                            common.show_percent(x.expected, digits=1),
                        ]
                        for x in rows
                    ],
                    index=[x.evidence_id for x in rows],
                    columns=[*SCENARIO_IDS, "expected (your view)"],
                ),
                key="elicit_undetected_table",
            )


def _shown_value(value: float | str | None) -> str:
    if isinstance(value, str):
        text = " ".join(value.split())
        return "(empty)" if not text else text if len(text) <= 60 else text[:59] + "…"
    return common.show_percent(value)


def _answer_name(change: Change, evidence: tuple[EvidenceItem, ...], defaults: Defaults) -> str:
    """What a changed answer is, in the form's words (an item's text, not its id)."""
    if change.kind == "credence":
        return f"credence in {change.scenario}"
    if change.kind == "meta":
        return f"expected group average for {change.scenario}"
    if change.kind == "factor":
        names = {f.id: f.name for f in defaults.factors}
        return names.get(str(change.key), str(change.key))
    if change.kind == "p_scheming":
        return "direct P(scheming)"
    if change.kind == "reading":
        texts = {e.id: e.text for e in evidence}
        text = texts.get(str(change.key), str(change.key))
        short = text if len(text) <= 40 else text[:39] + "…"
        return f"reading under {change.scenario}: {short}"
    return "rationale"


def _changes(revisions: list[Any], evidence: tuple[EvidenceItem, ...], defaults: Defaults) -> None:
    """Each saved answer against the one before it: every answer that changed, as a list.

    A list, not a table: it wraps on a phone instead of hiding columns.
    """
    esc = common.md_escape
    with st.container(key="elicit_changes"):
        st.markdown(
            "**What changed**: every answer that differs from the one saved before it "
            "(credences, your forecast of the group, factors, readings and rationale)."
        )
        for before, after in itertools.pairwise(revisions):
            lines = [
                f"- {esc(_answer_name(c, evidence, defaults))}: "
                f"{esc(_shown_value(c.old))} → {esc(_shown_value(c.new))}"
                for c in revision_diff(before.payload, after.payload)
            ]
            st.markdown(
                f"Saved {after.created_at:%Y-%m-%d %H:%M} UTC, round {after.round}:\n\n"
                + ("\n".join(lines) or "- nothing changed")
            )


def _start_empty(
    form_for: tuple[str, int | None], round: int, evidence: tuple[EvidenceItem, ...]
) -> None:
    _prefill(form_for, None, evidence, common.defaults())
    st.session_state[EMPTIED] = (form_for, round)


def _refill(
    form_for: tuple[str, int | None], payload: dict[str, Any], evidence: tuple[EvidenceItem, ...]
) -> None:
    _prefill(form_for, payload, evidence, common.defaults())
    st.session_state.pop(EMPTIED, None)


def _round_notice(
    group: Group,
    revisions: list[Any],
    form_for: tuple[str, int | None],
    evidence: tuple[EvidenceItem, ...],
) -> None:
    """In a new round, say that the form holds the last round's answers; offer an empty one."""
    if not revisions or revisions[-1].round >= group.current_round:
        return
    last, now = revisions[-1], group.current_round
    with st.container(key="elicit_round_notice"):
        if st.session_state.get(EMPTIED) == (form_for, now):
            st.info(
                f"Round {now}: you started from an empty form. Your answers from round "
                f"{last.round} are kept (under “What you said before”)."
            )
            st.button(
                f"Fill in my round {last.round} answers again",
                key="elicit_refill",
                on_click=_refill,
                args=(form_for, last.payload, evidence),
            )
            return
        st.info(
            f"Round {now} is open. The form below is filled in with your answers from round "
            f"{last.round} (saved {last.created_at:%Y-%m-%d %H:%M} UTC): change what you now "
            f"see differently, or start from an empty form. Nothing counts for round {now} "
            "until you save."
        )
        st.button(
            "Start empty",
            key="elicit_start_empty",
            on_click=_start_empty,
            args=(form_for, now, evidence),
            help=f"Clears every answer in the form; your round {last.round} answers are kept.",
        )


def _history(store: Any, participant: Participant, evidence: tuple[EvidenceItem, ...]) -> None:
    revisions = store.revisions(participant.id)
    if not revisions:
        return
    with st.expander(f"What you said before ({len(revisions)} saved)", expanded=True):
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "saved (UTC)": r.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                        "round": r.round,
                        **{
                            s: common.show_percent(r.payload["scenarios"].get(s))
                            for s in SCENARIO_IDS
                        },
                        "direct P(scheming)": common.show_percent(r.payload.get("p_scheming")),
                    }
                    for r in revisions
                ]
            ),
            hide_index=True,
            key="elicit_history_table",
        )
        if len(revisions) > 1:
            _changes(revisions, evidence, common.defaults())
        for r in revisions:
            if r.payload.get("rationale"):
                st.caption(f"Rationale saved {r.created_at:%Y-%m-%d %H:%M} UTC:")
                st.text(r.payload["rationale"])


def _group_view(store: Any, group: Group, evidence: tuple[EvidenceItem, ...], me: int) -> None:
    data = common.round_data(store, group, evidence, round=group.current_round)
    answered_now = any(
        p.id == me for p, _ in store.latest_revisions(group.id, round=group.current_round)
    )
    st.header("The group so far")
    with st.container(key="elicit_group_view"):
        st.markdown(f"{data.n} member(s) have answered in round {group.current_round}.")
        if data.n >= MIN_GROUP_VIEW:
            try:
                view = member_view(common.fitted(data).result)
            except CruxboardError as exc:
                st.error(common.md_escape(str(exc)))
                return
            if not view.shown:
                st.info(view.reason)
                return
            st.dataframe(
                pd.DataFrame(
                    {
                        "group consensus μ": [
                            common.show_stat(view.consensus_prior[s]) for s in SCENARIO_IDS
                        ],
                        "after the evidence": [
                            common.show_stat(view.consensus_posterior[s]) for s in SCENARIO_IDS
                        ],
                        "average (linear pool)": [
                            common.show_percent(view.linear_pool[s]) for s in SCENARIO_IDS
                        ],
                        "log pool": [common.show_percent(view.log_pool[s]) for s in SCENARIO_IDS],
                    },
                    index=[f"{s.id} · {s.name}" for s in common.defaults().scenarios],
                ),
                key="elicit_consensus_table",
            )
            st.caption(
                "Posterior means with 94 % intervals, and two pools of the stated credences. "
                "Individual answers, and anything that would reveal one (a median), are not shown."
            )
        elif data.n == 1 and answered_now:
            gd = to_group_data(data.responses, evidence=evidence, defaults=common.defaults())
            pools = scenario_pools(gd.credences)
            st.info(
                "You are the first to answer this round, so the pools are your own answers. "
                f"The group's consensus appears once {MIN_GROUP_VIEW} members have answered."
            )
            st.dataframe(
                pd.DataFrame(
                    {k: [common.show_percent(v) for v in vals] for k, vals in pools.items()},
                    index=list(SCENARIO_IDS),
                ),
                key="elicit_pools_table",
            )
        else:
            st.info(
                f"The group's view appears once {MIN_GROUP_VIEW} members have answered this "
                "round (with fewer it would reveal another member's answers)."
            )


@st.cache_data(max_entries=16, show_spinner=False)
def _meta_of(key: str, _responses: tuple[Response, ...]) -> MetaPredictions:
    # Keyed by the round's data key, which hashes every answer (the forecasts too).
    return meta_predictions(_responses)


def _my_meta_gap(store: Any, group: Group, evidence: tuple[EvidenceItem, ...], me: int) -> None:
    """The member's own false-consensus gap, once enough members gave a forecast.

    Shows only this member's numbers and the count: never another member's forecast.
    """
    data = common.round_data(store, group, evidence, round=group.current_round)
    pairs = store.latest_revisions(group.id, round=group.current_round)
    mine = [k for k, (p, _) in enumerate(pairs) if p.id == me]
    # The two reads agree unless someone answered in between; then show nothing this time.
    if not mine or mine[0] >= data.n:
        return
    response = data.responses[mine[0]]
    if not response.participant.startswith(pairs[mine[0]][0].display_name):
        return
    meta = _meta_of(data.key, tuple(data.responses))
    with st.container(key="elicit_meta_gap"):
        st.subheader("What you expected of the group")
        if response.meta is None:
            st.caption(
                "You skipped “What will the group say?”. Answer it to see how far you expected "
                "the group to be from you, against how far it is."
            )
            return
        if not meta.known:
            st.info(
                f"{meta.answered} member(s) have said what they expect the group to say in round "
                f"{group.current_round}. Your comparison appears once {MIN_META_ANSWERS} have "
                "(with fewer it could reveal another member's answer)."
            )
            return
        gap = meta.member(response.participant)
        if gap is None:
            return
        c1, c2, c3 = st.columns(3)
        c1.metric("You expected the group to be", f"{100 * gap.expected:.0f} points away")
        c2.metric("The group is", f"{100 * gap.actual:.0f} points away")
        c3.metric("Your false-consensus gap", f"{100 * gap.gap:+.0f} points")
        if gap.gap > 0:
            reading = "The group is further from you than you expected."
        elif gap.gap < 0:
            reading = "The group is closer to you than you expected."
        else:
            reading = "The group is as far from you as you expected."
        st.markdown(
            f"{reading} Distances are the share of credence that would have to move to turn "
            f"one set of four credences into the other, here between your credences and the "
            f"group's average ({meta.answered} members who gave both), and between your "
            "credences and what you expected that average to be."
        )


# --- a browser that answered before ----------------------------------------------------------

COOKIE_PREFIX = "cruxboard_"
COOKIE_DAYS = 180
SOMEONE_ELSE = "elicit_someone_else"  # groups where this session chose to answer as someone new
COOKIE_SET = "elicit_cookie_set"  # (group id, token) this session has put in a cookie
CONTINUE_KEY = "elicit_continue"
SOMEONE_ELSE_KEY = "elicit_answer_as_someone_else"


def cookie_name(group_id: str) -> str:
    """The cookie that keeps this browser's come-back token for a group."""
    return f"{COOKIE_PREFIX}{group_id}"


def _link_safe(text: str) -> bool:
    # Ids and tokens are URL-safe base64: nothing that could end a string or a script.
    return bool(text) and all(c.isascii() and (c.isalnum() or c in "-_") for c in text)


def _remember_in_browser(group_id: str, token: str) -> None:
    """Keep the member's come-back token in a cookie, so a new tab of this browser knows them.

    Streamlit sets no cookie from Python, so one line of JavaScript does: the cookie is
    scoped to the app's path, SameSite=Lax, Secure over https, kept `COOKIE_DAYS` days. Set
    from a script it cannot be HttpOnly, so this origin's scripts can read it, as they can
    read the come-back link in the address bar. The store never depends on it: a token read
    back is verified like any come-back link.
    """
    if st.session_state.get(COOKIE_SET) == (group_id, token):
        return
    if st.context.cookies.get(cookie_name(group_id)) == token or not (
        _link_safe(group_id) and _link_safe(token)
    ):
        return
    st.html(
        f"""<script>(() => {{
  const path = location.pathname.replace(/\\/elicit\\/?$/, "") || "/";
  const secure = location.protocol === "https:" ? "; secure" : "";
  document.cookie = "{cookie_name(group_id)}={token}; path=" + path +
    "; max-age={COOKIE_DAYS * 24 * 3600}; samesite=lax" + secure;
}})();</script>""",
        unsafe_allow_javascript=True,
    )
    st.session_state[COOKIE_SET] = (group_id, token)


def _continue_as(group_id: str, token: str) -> None:
    # Checked again: a callback is a request too.
    if common.get_store().participant_for_token(group_id, token) is not None:
        common.remember_token(common.EDIT_TOKENS, group_id, token)


def _answer_as_someone_else(group_id: str) -> None:
    st.session_state[SOMEONE_ELSE] = {*st.session_state.get(SOMEONE_ELSE, ()), group_id}


def _offer_to_continue(store: Any, group: Group) -> bool:
    """Offer a browser that answered in this group before its own answers.

    Only a token the store verifies names anyone; without one nothing is shown. Returns
    whether the offer is on the page (then the form is not, until the visitor chooses).
    """
    if group.id in st.session_state.get(SOMEONE_ELSE, ()):
        return False
    token = st.context.cookies.get(cookie_name(group.id))
    participant = store.participant_for_token(group.id, token) if token else None
    if participant is None:
        return False
    if participant.id in store.removals(group.id):
        st.info(
            "This browser answered in this group before, but the facilitator has since set "
            "those answers aside (removed, or merged into another member's), so they no "
            "longer count. If you answered with another come-back link, open that one; "
            "otherwise answer below."
        )
        return False
    st.text(group.name)
    with st.container(key="elicit_welcome_back"):
        st.markdown(
            "You have answered in this group as "
            f"**{common.md_escape(participant.display_name)}**: continue with your answers."
        )
        left, right = st.columns(2)
        left.button(
            "Continue with your answers",
            key=CONTINUE_KEY,
            type="primary",
            on_click=_continue_as,
            args=(group.id, token),
        )
        right.button(
            "Answer as someone else",
            key=SOMEONE_ELSE_KEY,
            on_click=_answer_as_someone_else,
            args=(group.id,),
        )
        st.caption(
            "This browser keeps your come-back link for this group. Someone else on this "
            "computer answers as a new member with “Answer as someone else”."
        )
    return True


def main() -> None:
    """Render the Elicit page."""
    defaults = common.defaults()
    store = common.get_store()
    group_id = common.link_group_id()
    st.title("Your view")
    if not group_id:
        st.info(
            "Open the participant link your facilitator shared with you (it ends in "
            "?group=...). To run a session yourself, create a group on the Start page."
        )
        return
    group = store.get_group(group_id)
    if group is None:
        st.error("No group found for this link. Check that you copied the whole link.")
        return
    evidence = common.group_evidence(group)

    token = common.link_token("p", common.EDIT_TOKENS, group_id)
    if token is None and _offer_to_continue(store, group):
        return
    participant = store.participant_for_token(group_id, token) if token else None
    if token and participant is None:
        # Says nothing about the group's members or answers; a new answer needs the plain link.
        st.error(NOT_ALLOWED)
        st.page_link(
            common.PAGES["elicit"], label="Answer as a new member", query_params={"group": group_id}
        )
        return
    if participant is not None:
        common.remember_token(common.EDIT_TOKENS, group_id, token)
        _remember_in_browser(group_id, token)
    common.set_query_params({"group": group_id, "p": token})

    st.text(group.name)
    st.caption(f"Round {group.current_round}")
    revisions = store.revisions(participant.id) if participant else []
    form_for = (group_id, participant.id if participant else None)
    if st.session_state.get(FORM_FOR) != form_for:
        _prefill(form_for, revisions[-1].payload if revisions else None, evidence, defaults)

    if participant is not None:
        with st.container(key="elicit_comeback"):
            st.markdown(
                "**Your private come-back link**: open it to see and revise your answers. "
                "Keep it to yourself; anyone with it can change your answers."
            )
            common.show_link(
                "elicit",
                {"group": group_id, "p": token},
                label="Reopen my answers",
                key="elicit_comeback_link",
            )
        _history(store, participant, evidence)

    _round_notice(group, revisions, form_for, evidence)
    _scenarios(defaults)
    _meta_question()
    _factors(defaults)
    _evidence(evidence, defaults)
    _about_you(participant)

    name = participant.display_name if participant else st.session_state.get(NAME_KEY) or ""
    try:
        previous = (
            validate_response(revisions[-1].payload, evidence=evidence, defaults=defaults)
            if revisions
            else None
        )
    except ResponseError:  # e.g. an imported answer; it only feeds a warning below
        previous = None
    _feedback(_raw(name, evidence, defaults), evidence, defaults, previous)

    st.button(
        "Submit my answers" if participant is None else "Save a new revision",
        key=SUBMIT_KEY,
        type="primary",
        on_click=_submit,
        args=(group_id, participant, evidence),
    )
    result = st.session_state.pop(RESULT, None)
    if result is not None:
        kind, message = result
        if kind == "error":
            st.error(common.md_escape(message) + "  \nNothing was saved.")
        else:
            st.success(common.md_escape(message))
            if kind == "first" and token:  # the come-back link, right where they look now
                common.show_link(
                    "elicit",
                    {"group": group_id, "p": token},
                    label="Reopen my answers",
                    key="elicit_saved_link",
                )
    if participant is not None and revisions:
        _group_view(store, group, evidence, participant.id)
        _my_meta_gap(store, group, evidence, participant.id)


main()
