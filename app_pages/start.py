"""Start: a facilitator creates a group and gets the participant link and the private link."""

from __future__ import annotations

import streamlit as st

from app_pages import common, exports
from model.example import EXAMPLE_EVIDENCE
from priors import parse_evidence
from priors.errors import CruxboardError
from priors.limits import MAX_IMPORT_BYTES
from store import MAX_GROUP_NAME_CHARS, ImportedGroup

CREATED_KEY = "start_created_group"  # the group made in this browser session, for its links
IMPORTED_KEY = "start_imported"  # {group id: [(member name, new come-back link)]}


def _create(name: str, evidence_text: str) -> None:
    """Validate, then write; on any problem show it and write nothing."""
    if not name.strip():
        st.error("Give the group a name (for example the workshop or team).")
        return
    try:
        items = parse_evidence(evidence_text, source="evidence")
    except CruxboardError as exc:
        st.error(
            "The evidence is not valid, so no group was created:  \n" + common.md_escape(str(exc))
        )
        return
    try:
        group, token = common.get_store().create_group(name, evidence=evidence_text)
    except CruxboardError as exc:
        st.error(common.md_escape(str(exc)))
        return
    st.session_state[common.GROUP_KEY] = group.id
    st.session_state[CREATED_KEY] = group.id
    common.remember_token(common.FACILITATOR_TOKENS, group.id, token)
    st.success(f"Group created with {len(items)} evidence item(s).")


def _import(upload) -> None:
    """Check the whole file, then import it in one transaction; on any problem write nothing."""
    if upload is None:
        st.error("Choose the whole-group file (.json) first.")
        return
    try:
        imported = exports.import_group_file(
            common.get_store(), upload.getvalue(), common.defaults()
        )
    except CruxboardError as exc:
        st.error("Nothing was imported.  \n" + common.md_escape(str(exc)))
        return
    group_id = imported.group.id
    st.session_state[common.GROUP_KEY] = group_id
    st.session_state[CREATED_KEY] = group_id
    common.remember_token(common.FACILITATOR_TOKENS, group_id, imported.facilitator_token)
    st.session_state.setdefault(IMPORTED_KEY, {})[group_id] = _member_links(imported)
    st.success(
        f"Imported {len(imported.participants)} member(s) and "
        f"{imported.revisions} revision(s) as a new group."
    )


def _member_links(imported: ImportedGroup) -> list[tuple[str, str]]:
    return [
        (p.display_name, common.page_url("elicit", {"group": p.group_id, "p": token}))
        for p, token in imported.participants
    ]


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
    members = st.session_state.get(IMPORTED_KEY, {}).get(group_id)
    if members:
        st.markdown(
            f"**3. Members' new come-back links ({len(members)}).** The old links do not open "
            "the imported group. Send each member only their own link: it lets whoever holds "
            "it see and revise that member's answers."
        )
        st.download_button(
            "Members' come-back links (CSV)",
            data=exports.member_links_csv(members),
            file_name="member-links.csv",
            mime=exports.MIME["csv"],
            key="start_dl_member_links",
            on_click="ignore",
            icon=":material/download:",
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
    with st.expander("Or import a group from a whole-group file"):
        st.markdown(
            "Upload the JSON file saved with **Whole group** on a dashboard (here or on another "
            "Cruxboard). Every member and revision comes in as a new group with new links; "
            "the group it came from is not changed."
        )
        upload = st.file_uploader(
            "Whole-group file (JSON)",
            type=["json"],
            key="start_import_file",
            max_upload_size=MAX_IMPORT_BYTES // (1024 * 1024),
        )
        if st.button("Import the group", key="start_import", disabled=upload is None):
            _import(upload)
    created = st.session_state.get(CREATED_KEY)
    if created:
        _links(created)


main()
