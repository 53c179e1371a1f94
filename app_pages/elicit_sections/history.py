"""What the member said before: their saved answers, what changed, and a new round's notice."""

from __future__ import annotations

import itertools
from typing import Any

import pandas as pd
import streamlit as st

from app_pages import common, formats
from app_pages.elicit_sections import form
from model.history import Change, revision_diff
from priors import SCENARIO_IDS, Defaults, EvidenceItem
from store import Group, Participant

EMPTIED = "elicit_emptied"  # ((group id, participant id), round) the member chose to start empty


def _shown_value(value: float | str | None) -> str:
    if isinstance(value, str):
        text = " ".join(value.split())
        return "(empty)" if not text else text if len(text) <= 60 else text[:59] + "…"
    return formats.show_percent(value)


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
    esc = formats.md_escape
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
    form.prefill(form_for, None, evidence, common.defaults())
    st.session_state[EMPTIED] = (form_for, round)


def _refill(
    form_for: tuple[str, int | None], payload: dict[str, Any], evidence: tuple[EvidenceItem, ...]
) -> None:
    form.prefill(form_for, payload, evidence, common.defaults())
    st.session_state.pop(EMPTIED, None)


def round_notice(
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


def history(store: Any, participant: Participant, evidence: tuple[EvidenceItem, ...]) -> None:
    """The member's saved answers, what changed between them, and their rationales."""
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
                            s: formats.show_percent(r.payload["scenarios"].get(s))
                            for s in SCENARIO_IDS
                        },
                        "direct P(scheming)": formats.show_percent(r.payload.get("p_scheming")),
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
