"""Saving the Elicit form: one save per click, however fast the clicks come.

A double click is two script runs, and the second can start while the first run's callback
is still writing; the first run then stops at its next touch of session state. So a save
claims its slot (the group and the member, or "new member") under a lock, writes through
the store while touching only a plain dict claimed beforehand (a dict does not stop a run),
and `settle` turns that dict into the page's state, on this run or the next. A click that
finds its slot claimed does nothing; a click after the save sends the same answer again,
which the store refuses (`DuplicateRevisionError`), so it is said to be saved already.
"""

from __future__ import annotations

import threading
import time

import streamlit as st

from app_pages import common, formats
from app_pages.elicit_sections import form
from model import update, validate_response
from priors import EvidenceItem
from priors.errors import CruxboardError
from store import DuplicateRevisionError, Group, Participant, Store

SUBMIT_KEY = "elicit_submit"
WRITING_KEY = "elicit_writing"  # {(group id, participant id or None): box}: saves under way
SETTLE_WAIT_SECONDS = 5.0  # how long a run waits for a save an earlier click is making


@st.cache_resource(show_spinner=False)
def _one_at_a_time() -> threading.Lock:
    return threading.Lock()


def _claim(slot: tuple[str, int | None]) -> dict | None:
    """Claim the slot's one save (a dict to fill); None when a save of it is under way."""
    with _one_at_a_time():
        state = st.session_state
        boxes = state.get(WRITING_KEY)
        if boxes is None:
            boxes = {}
            state[WRITING_KEY] = boxes
        if slot in boxes:
            return None
        box: dict = {}
        boxes[slot] = box
        return box


def _save(
    store: Store, group: Group, participant: Participant | None, name: str, payload: dict, box: dict
) -> None:
    """Write the answer; the outcome goes into `box` only (no session state is touched)."""
    first = participant is None
    round_ = group.current_round
    try:
        if participant is None:
            participant, token = store.add_participant(group.id, name)
            box.update(participant=participant.id, token=token)
        store.add_revision(participant.id, round=round_, payload=payload)
        box["result"] = (
            "first" if first else "again",
            f"Saved your answers for round {round_}. "
            + (
                "Keep your private come-back link (at the top of this page) to revise them later."
                if first
                else "Your earlier answers are kept; this one is added."
            ),
        )
    except DuplicateRevisionError:
        box["result"] = (
            "same",
            f"These answers are already saved for round {round_}; nothing new was added. "
            "Change an answer to save a new revision.",
        )
    except CruxboardError as exc:
        box["result"] = ("error", f"Nothing was saved: {exc}")
    finally:
        box.setdefault("result", ("error", "The save was interrupted; submit again."))


def settle(*, wait: float = 0.0) -> None:
    """Make finished saves the page's state: the come-back token, the form's owner, the result.

    Idempotent: a run stopped before it settled is settled by the next. With `wait`, first
    waits up to that many seconds for a save an earlier click is still making.
    """
    boxes = st.session_state.get(WRITING_KEY)
    if not boxes:
        return
    deadline = time.monotonic() + wait
    while any("result" not in b for b in list(boxes.values())) and time.monotonic() < deadline:
        time.sleep(0.05)
    with _one_at_a_time():
        done = [(slot, box) for slot, box in boxes.items() if "result" in box]
        for slot, _ in done:
            del boxes[slot]
    for (group_id, participant_id), box in done:
        if box.get("token"):
            common.remember_token(common.EDIT_TOKENS, group_id, box["token"])
        participant_id = box.get("participant", participant_id)
        if participant_id is not None:
            st.session_state[form.FORM_FOR] = (group_id, participant_id)
        st.session_state[form.RESULT] = box["result"]


def submit(
    group_id: str, participant: Participant | None, evidence: tuple[EvidenceItem, ...]
) -> None:
    """The Submit button's callback: check the form, then save it once."""
    defaults = common.defaults()
    state = st.session_state
    store = common.get_store()
    if participant is None:  # a second click before the page caught up: same person, not new
        saved = state.get(common.EDIT_TOKENS, {}).get(group_id)
        participant = store.participant_for_token(group_id, saved) if saved else None
    name = participant.display_name if participant else (state.get(form.NAME_KEY) or "").strip()
    problems = []
    if not name:
        problems.append("Enter a display name (or a pseudonym) before submitting.")
    problems += form.range_problems(evidence, defaults)
    if (cred := form.credence_problem()) is not None:
        problems.append(cred)
    if (meta := form.meta_problem()) is not None:
        problems.append(meta)
    if problems:
        state[form.RESULT] = ("error", " ".join(problems))
        return
    try:
        response = validate_response(form.raw(name, evidence, defaults), evidence=evidence)
        update(response, evidence=evidence, defaults=defaults)  # refuses impossible evidence
    except CruxboardError as exc:  # ResponseError, impossible evidence
        state[form.RESULT] = ("error", str(exc))
        return
    group = store.get_group(group_id)
    if group is None:
        state[form.RESULT] = ("error", "This group no longer exists; nothing was saved.")
        return
    box = _claim((group_id, participant.id if participant else None))
    if box is None:  # an earlier click is saving this form: this one does nothing
        return
    _save(store, group, participant, name, response.to_dict(), box)
    settle()


def button(group_id: str, participant: Participant | None, evidence: tuple[EvidenceItem, ...]):
    """The Submit (or Save a new revision) button."""
    st.button(
        "Submit my answers" if participant is None else "Save a new revision",
        key=SUBMIT_KEY,
        type="primary",
        on_click=submit,
        args=(group_id, participant, evidence),
    )


def show_result(group_id: str, token: str | None) -> None:
    """The last save's outcome, once, right under the button."""
    result = st.session_state.pop(form.RESULT, None)
    if result is None:
        return
    kind, message = result
    if kind == "error":
        st.error(formats.md_escape(message) + "  \nNothing was saved.")
    elif kind == "same":
        st.info(formats.md_escape(message))
    else:
        st.success(formats.md_escape(message))
        if kind == "first" and token:  # the come-back link, right where they look now
            common.show_link(
                "elicit",
                {"group": group_id, "p": token},
                label="Reopen my answers",
                key="elicit_saved_link",
            )
