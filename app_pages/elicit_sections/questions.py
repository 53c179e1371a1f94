"""The Elicit form's questions: scenarios and sketches, forecast, factors, readings, name."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages import common, formats
from app_pages.elicit_sections import form
from model.figures import figure_bytes, scenario_sketch
from model.individual import counts_rates
from model.schema import MAX_NAME_CHARS, reading_default
from priors import SCENARIO_IDS, CountsEvidence, Defaults, EvidenceItem
from priors.limits import MAX_FORM_RATIONALE_CHARS
from store import Participant

RESCALE_KEY = "elicit_rescale"
SKETCH_MIN_PX = 360  # narrowest scenario card beside another (below it, one per row)


@st.cache_data(max_entries=8, show_spinner=False)
def _sketch_png(scenario_id: str) -> bytes:
    return figure_bytes(scenario_sketch(common.defaults(), scenario_id), "png")


def scenarios(defaults: Defaults) -> None:
    """Section 1: the four scenarios, each with its sketch, story and credence."""
    st.header("1. How do you think it goes?")
    factor = f"{defaults.need.factor_per_decade:g}"
    with st.container(key="elicit_sketch_intro"):
        st.markdown(
            "Four scenarios of how alignment goes as capability grows. Each sketch draws the "
            "**misalignment rate** (the share of episodes in which the model does not do what "
            "it was asked) on a **log axis**, each step ten times the one below and higher "
            "meaning more misalignment, against capability (1× is today's). The solid line is "
            "the *actual* rate, what the model really does; the dashed line the *observed* "
            "rate, the misalignment evals and monitoring detect, and the shaded band between "
            "them what they miss; the dotted line is *what we need*, the rate we could "
            f"tolerate, falling {factor}-fold for every tenfold rise in capability. Give your "
            "credence in each, in whole percentages adding up to 100."
        )
    # Two cards a row, one on a narrow screen: a sketch never shrinks below about
    # SKETCH_MIN_PX (its smallest type stays about 9 px high), nor grows past its own size.
    grid = st.grid(2, min_column_width=SKETCH_MIN_PX, border=True, key="elicit_scenarios")
    for s in defaults.scenarios:
        with grid.cell():
            st.image(_sketch_png(s.id), width="content")
            st.markdown(f"**{s.id} · {s.name}**")
            st.write(s.story)
            form.pct_input(f"Credence in {s.id} (%)", form.cred_key(s.id))
    values = [st.session_state.get(form.cred_key(s)) for s in SCENARIO_IDS]
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
        on_click=form.rescale,
        disabled=len(entered) < len(values) or total in (0, 100) or min(entered) < 0,
        help="Keeps the proportions between your four credences and makes them add up to 100.",
    )


def meta_question() -> None:
    """The optional forecast of the group's average credences."""
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
                form.pct_input(f"Group average for {s} (%)", form.meta_key(s))
        values = [st.session_state.get(form.meta_key(s)) for s in SCENARIO_IDS]
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


def factors(defaults: Defaults) -> None:
    """Section 2: the four factors of scheming and the direct question."""
    st.header("2. Scheming and its factors")
    st.markdown(
        "Scheming: covertly pursuing long-term goals of its own. It needs roughly all four "
        "factors at once, so it is about their product; you also give it directly. Leave a "
        "question empty if you have no answer."
    )
    for f in defaults.factors:
        form.pct_input(f"{f.name}: {f.question}", form.factor_key(f.id))
    form.pct_input(f"Directly: {defaults.direct.question}", form.P_SCHEMING_KEY)


def _reference(item: EvidenceItem, s: str, defaults: Defaults) -> str:
    ref = reading_default(item, s, defaults)
    return "none (an empty reading means no update)" if ref is None else formats.show_percent(ref)


def evidence_items(evidence: tuple[EvidenceItem, ...], defaults: Defaults) -> None:
    """Section 3: each evidence item with the member's reading per scenario."""
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
                    form.pct_input(
                        f"{s} (%)", form.reading_key(item.id, s), help=f"reference: {ref}"
                    )
                    st.caption(f"reference: {ref}")
                    if rates is not None:  # the answer's weight rests on this assumed rate
                        st.caption(
                            f"assumed misalignment rate under {s}: "
                            f"{formats.show_percent(float(rates[k]))} of episodes"
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
                {name: [formats.show_percent(v) for v in vals] for name, vals in columns.items()},
                index=list(SCENARIO_IDS),
            ),
            key=f"elicit_reference_{item.id}",
        )


def about_you(participant: Participant | None) -> None:
    """Section 4: the rationale and the display name."""
    st.header("4. Why, and who you are")
    st.text_area(
        "Your rationale: what drives your view? (shown to the facilitator as plain text)",
        key=form.RATIONALE_KEY,
        max_chars=MAX_FORM_RATIONALE_CHARS,
        persist_state="session",
    )
    if participant is None:
        st.text_input(
            "Display name or pseudonym (shown to the facilitator)",
            key=form.NAME_KEY,
            max_chars=MAX_NAME_CHARS,
            persist_state="session",
        )
    else:
        st.markdown("You answer as:")
        st.text(participant.display_name)
