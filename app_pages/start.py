"""Start: a facilitator creates a group and gets the participant link and the private link."""

from __future__ import annotations

import threading

import streamlit as st

from app_pages import common, exports, formats
from model.example import EXAMPLE_EVIDENCE
from priors import parse_evidence
from priors.errors import CruxboardError
from priors.limits import MAX_IMPORT_BYTES
from store import MAX_GROUP_NAME_CHARS, ImportedGroup

CREATED_KEY = "start_created_group"  # the group made in this browser session, for its links
IMPORTED_KEY = "start_imported"  # {group id: [(member name, new come-back link)]}
MESSAGE_KEY = "start_message"  # (where, kind, text) of the last create or import, shown once
NAME_KEY = "start_name"
EVIDENCE_KEY = "start_evidence"
UPLOAD_KEY = "start_import_file"
CONFIRM_ANOTHER_KEY = "start_confirm_another"
WRITING_KEY = "start_writing"  # the create or import under way: a plain dict (see _settle)


def _say(where: str, kind: str, text: str) -> None:
    st.session_state[MESSAGE_KEY] = (where, kind, text)


def _show_message(where: str) -> None:
    message = st.session_state.get(MESSAGE_KEY)
    if message is None or message[0] != where:
        return
    del st.session_state[MESSAGE_KEY]
    _, kind, text = message
    (st.success if kind == "success" else st.error)(text)


# --- callbacks (run before the page, so the page shows the links at once) -------------------
#
# A double click is two runs, and the second can start on a new thread while the first
# run's callback is still writing; that run then stops at its next touch of session state
# (Streamlit raises StopException there), possibly after the group was written. So: claim
# the write under a lock, write, and keep the result in a plain dict claimed beforehand (a
# dict does not stop a run); `_settle` turns it into the page's state, again on the next run
# if this one was stopped first. One click or five, one group.


@st.cache_resource(show_spinner=False)
def _one_at_a_time() -> threading.Lock:
    return threading.Lock()


def _claim() -> dict | None:
    """Claim the session's one write (a dict to fill); None when a group is made or being made."""
    with _one_at_a_time():
        state = st.session_state
        box = state.get(WRITING_KEY)
        if state.get(CREATED_KEY) or (box is not None and not box.get("failed")):
            return None
        box = {}
        state[WRITING_KEY] = box
        return box


def _failed(box: dict, where: str, text: str) -> None:
    box["failed"] = True  # first: frees the claim even if this run stops below
    st.session_state.pop(WRITING_KEY, None)
    _say(where, "error", text)


def _settle() -> None:
    """Make a finished write the page's state (idempotent: a stopped run is redone)."""
    state = st.session_state
    box = state.get(WRITING_KEY)
    if box is None or "group" not in box:
        if box is not None and box.get("failed"):
            del state[WRITING_KEY]
        return
    group_id = box["group"]
    state[common.GROUP_KEY] = group_id
    state[CREATED_KEY] = group_id
    common.remember_token(common.FACILITATOR_TOKENS, group_id, box["token"])
    if box.get("imported") is not None:
        state.setdefault(IMPORTED_KEY, {})[group_id] = _member_links(box["imported"])
    _say("links", "success", box["message"])
    del state[WRITING_KEY]


def _create() -> None:
    """Validate, then write the group once; on any problem say so and write nothing."""
    state = st.session_state
    if state.get(CREATED_KEY):  # a click that arrives after the page has moved on
        return
    name = state.get(NAME_KEY) or ""
    if not name.strip():
        _say("form", "error", "Give the group a name (for example the workshop or team).")
        return
    evidence_text = state.get(EVIDENCE_KEY) or ""
    try:
        items = parse_evidence(evidence_text, source="evidence")
    except CruxboardError as exc:
        _say(
            "form",
            "error",
            "The evidence is not valid, so no group was created:  \n" + formats.md_escape(str(exc)),
        )
        return
    store = common.get_store()
    box = _claim()
    if box is None:
        return
    try:
        group, token = store.create_group(name, evidence=evidence_text)
    except CruxboardError as exc:
        _failed(box, "form", formats.md_escape(str(exc)))
        return
    box.update(
        group=group.id, token=token, message=f"Group created with {len(items)} evidence item(s)."
    )
    _settle()


def _import() -> None:
    """Check the whole file, then import it once, in one transaction; else write nothing."""
    state = st.session_state
    if state.get(CREATED_KEY):
        return
    upload = state.get(UPLOAD_KEY)
    if upload is None:
        _say("import", "error", "Choose the whole-group file (.json) first.")
        return
    store, raw, defaults = common.get_store(), upload.getvalue(), common.defaults()
    box = _claim()
    if box is None:
        return
    try:
        imported = exports.import_group_file(store, raw, defaults)
    except CruxboardError as exc:
        _failed(box, "import", "Nothing was imported.  \n" + formats.md_escape(str(exc)))
        return
    box.update(
        group=imported.group.id,
        token=imported.facilitator_token,
        imported=imported,
        message=f"Imported {len(imported.participants)} member(s) and "
        f"{imported.revisions} revision(s) as a new group.",
    )
    _settle()


def _another() -> None:
    """Back to an empty form; the links of the group just made are no longer shown."""
    for key in (CREATED_KEY, MESSAGE_KEY, NAME_KEY, EVIDENCE_KEY, UPLOAD_KEY, CONFIRM_ANOTHER_KEY):
        st.session_state.pop(key, None)


def _member_links(imported: ImportedGroup) -> list[tuple[str, str]]:
    return [
        (p.display_name, common.page_url("elicit", {"group": p.group_id, "p": token}))
        for p, token in imported.participants
    ]


# --- rendering ----------------------------------------------------------------------------------


def _links(group_id: str) -> bool:
    """The new group's links, first on the page; False if there is nothing to show."""
    token = st.session_state.get(common.FACILITATOR_TOKENS, {}).get(group_id)
    group = common.get_store().get_group(group_id)
    if group is None or token is None:
        return False
    _show_message("links")
    with st.container(key="start_links"):
        st.subheader("Your links")
        st.markdown(
            "Send the **participant link** to everyone in the group; keep the **facilitator "
            "link** to yourself. Each box has a copy button."
        )
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
                f"**3. Members' new come-back links ({len(members)}).** The old links do not "
                "open the imported group. Send each member only their own link: it lets "
                "whoever holds it see and revise that member's answers."
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
    return True


def _create_another() -> None:
    with st.container(border=True, key="start_another"):
        st.markdown("**Create another group**")
        st.warning(
            "This page will then no longer show the facilitator link above: save it first. "
            "The group itself is kept, and its dashboard still opens with that link."
        )
        confirm = st.checkbox("I have saved the facilitator link", key=CONFIRM_ANOTHER_KEY)
        st.button(
            "Create another group",
            key="start_another_button",
            disabled=not confirm,
            on_click=_another,
            help="Clears the form for a new group.",
        )


def _form() -> None:
    st.markdown(
        "Cruxboard asks each member of a group what they believe about how AI alignment goes "
        "as capability grows (four scenarios A–D), the factors of scheming and how they read "
        "the evidence; it then pools the group and shows where and why its members disagree."
    )
    st.header("Create a group")
    with st.form("start_form"):
        st.text_input(
            "Group name", key=NAME_KEY, max_chars=MAX_GROUP_NAME_CHARS, placeholder="Team X"
        )
        st.text_area(
            "Evidence the group has seen (TOML)",
            value=EXAMPLE_EVIDENCE,
            key=EVIDENCE_KEY,
            height=380,
            help=(
                'Each item starts with [[evidence]] and has an id ([a-z0-9_]), a kind ("counts": '
                'detected misaligned actions in monitored episodes; "likelihood": an observation '
                "each member reads as P(observation | scenario)) and a text. Edit or remove the "
                "examples; the format is in the README."
            ),
        )
        st.form_submit_button(
            "Create the group", key="start_create", type="primary", on_click=_create
        )
    _show_message("form")
    with st.expander("Or import a group from a whole-group file"):
        st.markdown(
            "Upload the JSON file saved with **Whole group** on a dashboard (here or on another "
            "Cruxboard). Every member and revision comes in as a new group with new links; "
            "the group it came from is not changed."
        )
        upload = st.file_uploader(
            "Whole-group file (JSON)",
            type=["json"],
            key=UPLOAD_KEY,
            max_upload_size=MAX_IMPORT_BYTES // (1024 * 1024),
        )
        st.button("Import the group", key="start_import", disabled=upload is None, on_click=_import)
        _show_message("import")


def main() -> None:
    """Render the Start page: the new group's links once made, else the form."""
    st.title("Cruxboard")
    _settle()  # a write whose run was stopped before it could say so
    created = st.session_state.get(CREATED_KEY)
    if created:
        if _links(created):
            _create_another()
            return
        st.session_state.pop(CREATED_KEY)  # its links cannot be shown: the form again
    _form()


main()
