"""Start: a facilitator creates a group and gets the participant link and the private link."""

from __future__ import annotations

import streamlit as st

from app_pages import common
from model.example import EXAMPLE_EVIDENCE
from priors import parse_evidence
from store import MAX_GROUP_NAME_CHARS

CREATED_KEY = "start_created_group"  # the group made in this browser session, for its links


def _create(name: str, evidence_text: str) -> None:
    """Validate, then write; on any problem show it and write nothing."""
    if not name.strip():
        st.error("Give the group a name (for example the workshop or team).")
        return
    try:
        items = parse_evidence(evidence_text, source="evidence")
    except ValueError as exc:
        st.error(
            "The evidence is not valid, so no group was created:  \n" + common.md_escape(str(exc))
        )
        return
    try:
        group, token = common.get_store().create_group(name, evidence=evidence_text)
    except ValueError as exc:
        st.error(common.md_escape(str(exc)))
        return
    st.session_state[common.GROUP_KEY] = group.id
    st.session_state[CREATED_KEY] = group.id
    common.remember_token(common.FACILITATOR_TOKENS, group.id, token)
    st.success(f"Group created with {len(items)} evidence item(s).")


def _links(group_id: str) -> None:
    token = st.session_state.get(common.FACILITATOR_TOKENS, {}).get(group_id)
    group = common.get_store().get_group(group_id)
    if group is None or token is None:
        return
    st.subheader("Your links")
    st.markdown("Group: ")
    st.text(group.name)
    st.markdown(
        "**1. Participant link: share this one.** Everyone in the group opens it to give "
        "their answers. It shows nobody else's answers."
    )
    common.show_link(
        "elicit", {"group": group_id}, label="Open the participant page", key="start_join_link"
    )
    st.markdown(
        "**2. Facilitator link: keep this one private.** It opens the dashboard with every "
        "member's answers and the exports. Save it now (bookmark or password manager): it "
        "cannot be shown again after this browser session ends, and anyone who has it can "
        "see all answers."
    )
    common.show_link(
        "dashboard",
        {"group": group_id, "token": token},
        label="Open the facilitator dashboard",
        key="start_facilitator_link",
    )


def main() -> None:
    """Render the Start page."""
    st.title("Cruxboard")
    st.markdown(
        "Cruxboard asks each member of a group what they believe about how AI alignment goes "
        "as capability grows (four scenarios A–D), the factors of scheming and how they read "
        "the evidence; it then pools the group and shows where and why its members disagree."
    )
    st.header("Create a group")
    with st.form("start_form"):
        name = st.text_input(
            "Group name", key="start_name", max_chars=MAX_GROUP_NAME_CHARS, placeholder="Team X"
        )
        evidence_text = st.text_area(
            "Evidence the group has seen (TOML)",
            value=EXAMPLE_EVIDENCE,
            key="start_evidence",
            height=380,
            help=(
                'Each item starts with [[evidence]] and has an id ([a-z0-9_]), a kind ("counts": '
                'detected misaligned actions in monitored episodes; "likelihood": an observation '
                "each member reads as P(observation | scenario)) and a text. Edit or remove the "
                "examples; the format is in the README."
            ),
        )
        submitted = st.form_submit_button("Create the group", key="start_create", type="primary")
    if submitted:
        _create(name, evidence_text)
    created = st.session_state.get(CREATED_KEY)
    if created:
        _links(created)


main()
