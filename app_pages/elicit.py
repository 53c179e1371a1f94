"""Elicit: a participant states credences, factors and evidence readings, sees feedback, saves.

The page only puts its parts in order; each part is a module of `app_pages.elicit_sections`.
"""

from __future__ import annotations

import streamlit as st

from app_pages import common
from app_pages.elicit_sections import feedback, form, group_view, history, questions, returning
from app_pages.elicit_sections import submit as saving
from model import ResponseError, validate_response

NOT_ALLOWED = (
    "Not allowed. This come-back link is not valid for this group: nothing can be shown or "
    "changed with it. Check that you copied the whole link (it ends in &p=...), or answer as "
    "a new member with the participant link."
)


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
    saving.settle(wait=saving.SETTLE_WAIT_SECONDS)  # a save an earlier click is making

    token = common.link_token("p", common.EDIT_TOKENS, group_id)
    if token is None and returning.offer_to_continue(store, group):
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
        returning.remember_in_browser(group_id, token)
    common.set_query_params({"group": group_id, "p": token})

    st.text(group.name)
    st.caption(f"Round {group.current_round}")
    revisions = store.revisions(participant.id) if participant else []
    form_for = (group_id, participant.id if participant else None)
    if st.session_state.get(form.FORM_FOR) != form_for:
        form.prefill(form_for, revisions[-1].payload if revisions else None, evidence, defaults)

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
        history.history(store, participant, evidence)

    history.round_notice(group, revisions, form_for, evidence)
    questions.scenarios(defaults)
    questions.meta_question()
    questions.factors(defaults)
    questions.evidence_items(evidence, defaults)
    questions.about_you(participant)

    name = participant.display_name if participant else st.session_state.get(form.NAME_KEY) or ""
    try:
        previous = (
            validate_response(revisions[-1].payload, evidence=evidence, defaults=defaults)
            if revisions
            else None
        )
    except ResponseError:  # e.g. an imported answer; it only feeds a warning below
        previous = None
    feedback.feedback(form.raw(name, evidence, defaults), evidence, defaults, previous)

    saving.button(group_id, participant, evidence)
    saving.show_result(group_id, token)
    if participant is not None and revisions:
        group_view.group_view(store, group, evidence, participant.id)
        group_view.my_meta_gap(store, group, evidence, participant.id)


main()
