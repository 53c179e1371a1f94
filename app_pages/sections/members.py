"""The facilitator's members tool: who answered when, possible duplicates, remove, merge, restore.

Unlike the other sections it takes the Store, not result records: it reads the members
with their status and writes each change through the Store, after checking the
facilitator's token again (a button's callback is a request of its own).
"""

from __future__ import annotations

import datetime as dt
import json
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st

from app_pages import common, formats
from priors.errors import CruxboardError
from store import Group, Participant, StatusChange, Store

RESULT = "members_result"  # (kind, message) of the last change, shown once
CHANGED = "members_changed"  # a change was just asked for: the whole page must rerun
PICK_KEY = "members_pick"
ACTION_KEY = "members_action"
INTO_KEY = "members_into"
APPLY_KEY = "members_apply"
CONFIRM_PREFIX = "members_confirm"
REMOVE, MERGE, RESTORE = "Remove", "Merge into another member", "Restore"
ANSWER_FIELDS = ("scenarios", "factors", "p_scheming", "readings", "meta")
"""The parts of an answer compared for "identical answers" (not the name or rationale)."""


@dataclass(frozen=True)
class MemberRow:
    """One member as the tool lists them.

    Attributes
    ----------
    participant : Participant
    last_answer : datetime.datetime or None
        When they last saved an answer (any round); None if never.
    last_round : int or None
        The round of that answer.
    status : StatusChange or None
        The change that set them aside (removed or merged); None while they count.
    duplicate_of : tuple of int
        Counted members who may be the same person (see `possible_duplicates`).
    """

    participant: Participant
    last_answer: dt.datetime | None
    last_round: int | None
    status: StatusChange | None
    duplicate_of: tuple[int, ...]


def name_key(display_name: str) -> str:
    """A display name as duplicates compare it: case, spaces and Unicode spellings ignored."""
    return "".join(unicodedata.normalize("NFKC", display_name).casefold().split())


def _answer_key(payload: Mapping[str, Any]) -> str:
    return json.dumps({k: payload.get(k) for k in ANSWER_FIELDS}, sort_keys=True)


def possible_duplicates(
    members: Sequence[Participant], answers: Mapping[int, Mapping[str, Any]]
) -> dict[int, tuple[int, ...]]:
    """For each member, the others who may be the same person, in joining order.

    Two members may be one person when their display names are the same ignoring case and
    spaces ("Ada Lovelace", " ada lovelace"), or their latest answers give the same
    numbers (credences, factors, direct P(scheming), readings, forecast of the group).

    Parameters
    ----------
    members : sequence of Participant
        The members to compare (the tool passes those who count).
    answers : mapping of int to dict
        Each member's latest answer payload, by participant id (missing: never answered).
    """
    out: dict[int, tuple[int, ...]] = {}
    for p in members:
        same = [
            q.id
            for q in members
            if q.id != p.id
            and (
                name_key(q.display_name) == name_key(p.display_name)
                or (
                    p.id in answers
                    and q.id in answers
                    and _answer_key(answers[p.id]) == _answer_key(answers[q.id])
                )
            )
        ]
        if same:
            out[p.id] = tuple(same)
    return out


def member_rows(store: Store, group_id: str) -> list[MemberRow]:
    """Every member of the group, set aside or not, with what the tool shows of them."""
    everyone = store.participants(group_id, include_removed=True)
    last = {p.id: r for p, r in store.last_answers(group_id, include_removed=True)}
    removals = store.removals(group_id)
    counted = [p for p in everyone if p.id not in removals]
    flags = possible_duplicates(counted, {k: r.payload for k, r in last.items()})
    return [
        MemberRow(
            participant=p,
            last_answer=last[p.id].created_at if p.id in last else None,
            last_round=last[p.id].round if p.id in last else None,
            status=removals.get(p.id),
            duplicate_of=flags.get(p.id, ()),
        )
        for p in everyone
    ]


def _status_text(row: MemberRow, names: Mapping[int, str]) -> str:
    if row.status is None:
        return "counted"
    if row.status.action == "merged":
        return f"merged into {names[row.status.into_participant_id]}"
    return "removed"


def _label(row: MemberRow) -> str:
    # Plain text in a select box; names may repeat, so the id tells them apart.
    return f"#{row.participant.id} {row.participant.display_name}"


def _table(rows: Sequence[MemberRow]) -> None:
    names = {r.participant.id: _label(r) for r in rows}
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "member": _label(r),
                    "joined (UTC)": f"{r.participant.created_at:%Y-%m-%d %H:%M}",
                    "last answer (UTC)": (
                        "–" if r.last_answer is None else f"{r.last_answer:%Y-%m-%d %H:%M}"
                    ),
                    "round": "–" if r.last_round is None else str(r.last_round),
                    "status": _status_text(r, names),
                    "possible duplicate of": ", ".join(names[k] for k in r.duplicate_of),
                }
                for r in rows
            ]
        ),
        hide_index=True,
        column_config={  # the name kept in view when the table scrolls in its box
            "member": st.column_config.TextColumn("member", width=150, pinned=True),
            "joined (UTC)": st.column_config.TextColumn(width=124),
            "last answer (UTC)": st.column_config.TextColumn(width=124),
            "round": st.column_config.TextColumn(width=52),
            "status": st.column_config.TextColumn(width=150),
            "possible duplicate of": st.column_config.TextColumn(width=156),
        },
        key="db_members_tool_table",
    )


def _apply(
    group_id: str, token: str, action: str, member: int, into: int | None, names: dict[int, str]
) -> None:
    st.session_state[CHANGED] = True
    store = common.get_store()
    if not store.is_facilitator(group_id, token):  # checked again: a callback is a request too
        st.session_state[RESULT] = ("error", "Not allowed: the facilitator's link is needed.")
        return
    try:
        if action == REMOVE:
            store.remove_participant(group_id, member)
            done = "removed: their answers stay stored but no longer count"
        elif action == MERGE:
            store.merge_participants(group_id, into, member)
            done = f"merged into {names[into]}, whose answers stand; this one's no longer count"
        else:
            store.restore_participant(group_id, member)
            done = "restored: their answers count again"
    except CruxboardError as exc:
        st.session_state[RESULT] = ("error", f"Nothing was changed: {exc}")
        return
    st.session_state[RESULT] = ("success", f"{names[member]} {done}.")
    for key in [k for k in st.session_state if str(k).startswith(CONFIRM_PREFIX)]:
        del st.session_state[key]


@st.fragment
def _actions(group_id: str, token: str, rows: Sequence[MemberRow]) -> None:
    # A fragment: choosing a member or ticking the box reruns only this part of the page.
    if st.session_state.pop(CHANGED, False):
        # After a change the whole page reruns: counts, answers and the fit change. (Not
        # on the button's value: the callback unticks the box, and a disabled button
        # reads False.)
        st.rerun()
    by_id = {r.participant.id: r for r in rows}
    member = st.selectbox(
        "Member", list(by_id), format_func=lambda k: _label(by_id[k]), key=PICK_KEY
    )
    if member is None:
        return
    row = by_id[member]
    into: int | None = None
    if row.status is not None:
        action = RESTORE
        st.caption(
            "This member is set aside. Restoring counts their answers again (every revision "
            "was kept)."
        )
    else:
        action = st.radio("Change", [REMOVE, MERGE], key=ACTION_KEY, horizontal=True)
        if action == MERGE:
            keep = [k for k, r in by_id.items() if r.status is None and k != member]
            if not keep:
                st.info("There is no other counted member to merge into.")
                return
            suggested = [k for k in row.duplicate_of if k in keep]
            into = st.selectbox(
                "Keep this member (their answers stand)",
                keep,
                index=keep.index(suggested[0]) if suggested else 0,
                format_func=lambda k: _label(by_id[k]),
                key=INTO_KEY,
            )
    who = formats.md_escape(_label(row))
    if action == REMOVE:
        question = f"Yes, remove {who}: their answers stay stored but stop counting"
    elif action == MERGE:
        question = (
            f"Yes, merge {who} into {formats.md_escape(_label(by_id[into]))}: the member kept "
            "stands, this one's answers stop counting"
        )
    else:
        question = f"Yes, restore {who}"
    # A new box for each member, change and kept member: a tick never carries over.
    confirm = st.checkbox(question, key=f"{CONFIRM_PREFIX}_{member}_{action.split()[0]}_{into}")
    st.button(
        action if action != MERGE else "Merge",
        key=APPLY_KEY,
        disabled=not confirm,
        on_click=_apply,
        args=(group_id, token, action, member, into, {k: _label(r) for k, r in by_id.items()}),
    )


def render(store: Store, group: Group, *, token: str) -> None:
    """Show the members tool: the list, possible duplicates, and remove, merge, restore.

    Call it only after checking the facilitator's token (`Store.is_facilitator`); each
    change checks it again before writing.

    Parameters
    ----------
    store : Store
    group : Group
        The facilitator's group.
    token : str
        The facilitator's token, as verified by the page.
    """
    st.header("Members: duplicates and removals")
    with st.container(key="db_members_tool"):
        rows = member_rows(store, group.id)
        if not rows:
            st.info("Nobody has joined yet.")
            return
        st.caption(
            "Someone who answered twice (a new tab, another device) counts twice. Remove "
            "an accidental duplicate, or merge it into the member to keep: the kept "
            "member's answers stand and the duplicate's stop counting. Nothing is deleted: "
            "every answer stays stored, and Restore counts a member again."
        )
        _table(rows)
        flagged = [r for r in rows if r.duplicate_of]
        if flagged:
            st.warning(
                f"{len(flagged)} members may be duplicates (same name ignoring case and "
                "spaces, or identical answers). Check with them before merging."
            )
        result = st.session_state.get(RESULT)
        if result is not None:
            kind, message = result
            (st.error if kind == "error" else st.success)(formats.md_escape(message))
            if not st.session_state.get(CHANGED):  # else this run is cut short by a rerun
                del st.session_state[RESULT]
        _actions(group.id, token, rows)
