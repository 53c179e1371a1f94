"""Members set aside: which are removed or merged now, and which status changes are allowed.

The record is append-only (`schema.participant_status`); a member's status is the action of
their newest change, and a member with no change is counted. The same rules check a change
the facilitator asks for and every change a whole-group file brings. `change_status` writes
one (the Store's remove, merge and restore); `refuse_set_aside` keeps a set-aside member's
new answer out.
"""

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, Row, Select, func, insert, select

from priors.errors import BadInputError
from store import schema
from store.errors import NotFoundError
from store.records import StatusChange
from store.tokens import plausible_group_id

SET_ASIDE = ("removed", "merged")
"""The actions after which a member's answers no longer count."""

STATUS_COLUMNS = list(schema.participant_status.c)


def status_from(row: Row[Any]) -> StatusChange:
    """The StatusChange in a row that holds `STATUS_COLUMNS`."""
    m = row._mapping
    c = schema.participant_status.c
    return StatusChange(
        id=m[c.id],
        participant_id=m[c.participant_id],
        group_id=m[c.group_id],
        action=m[c.action],
        into_participant_id=m[c.into_participant_id],
        by=m[c.actor],
        created_at=m[c.created_at],
    )


def set_aside_ids(group_id: str) -> Select[Any]:
    """A query for the ids of the group's members who are removed or merged now."""
    s = schema.participant_status.c
    newest = select(func.max(s.id)).where(s.group_id == group_id).group_by(s.participant_id)
    return select(s.participant_id).where(s.id.in_(newest), s.action.in_(SET_ASIDE))


def current(
    conn: Connection, group_id: str, ids: Iterable[int] | None = None
) -> dict[int, StatusChange]:
    """The newest change of each of the group's members that has one (only `ids` if given)."""
    s = schema.participant_status.c
    newest = select(func.max(s.id)).where(s.group_id == group_id)
    if ids is not None:
        newest = newest.where(s.participant_id.in_(list(ids)))
    rows = conn.execute(
        select(*STATUS_COLUMNS).where(s.id.in_(newest.group_by(s.participant_id)))
    ).all()
    return {row.participant_id: status_from(row) for row in rows}


def refusal(
    action: str,
    member: int,
    into: int | None,
    status_of: Mapping[int, str | None],
    name: Callable[[int], str],
) -> str | None:
    """Why `action` cannot be applied to `member` now, or None when it can.

    Parameters
    ----------
    action : str
        "removed", "merged" or "restored".
    member : int
        The member whose status would change.
    into : int or None
        For "merged", the member kept; else None.
    status_of : mapping of int to str or None
        Each member's current action (None or missing: counted).
    name : callable
        How a message names a member (by id).
    """
    if action not in schema.STATUS_ACTIONS:
        return f"{action!r} is not a status change; use one of {', '.join(schema.STATUS_ACTIONS)}"
    now = status_of.get(member)
    if action == "restored":
        if now not in SET_ASIDE:
            return f"{name(member)} is not removed or merged, so there is nothing to restore"
        return None
    if action == "merged" and into is None:
        return "a merge needs the member to keep; name them"
    if action != "merged" and into is not None:
        return f"only a merge names a member to keep, not {action!r}"
    if now in SET_ASIDE:
        return f"{name(member)} is already {now}; restore them first"
    if action == "merged":
        if into == member:
            return f"{name(member)} cannot be merged into themself; choose another member to keep"
        if status_of.get(into) in SET_ASIDE:
            return (
                f"{name(member)} cannot be merged into {name(into)}, who is "
                f"{status_of[into]}; restore {name(into)} first, or keep another member"
            )
    return None


def all_changes(conn: Connection, group_id: str) -> list[StatusChange]:
    """Every removal, merge and restore in a group, oldest first."""
    rows = conn.execute(
        select(*STATUS_COLUMNS)
        .where(schema.participant_status.c.group_id == group_id)
        .order_by(schema.participant_status.c.id)
    ).all()
    return [status_from(row) for row in rows]


def change_status(
    conn: Connection, group_id: str, participant_id: int, action: str, into: int | None
) -> StatusChange:
    """Append one status change in `conn`'s write transaction, if `refusal` allows it.

    Raises
    ------
    NotFoundError
        If the group has no member with either id.
    BadInputError
        If `refusal` refuses the change.
    """
    created_at = dt.datetime.now(dt.UTC)
    ids = [participant_id] if into is None else [participant_id, into]
    names = {}
    if plausible_group_id(group_id):
        # Lock both members (PostgreSQL; SQLite's BEGIN IMMEDIATE already has), so two
        # facilitators acting at once cannot both remove or merge the same member.
        rows = conn.execute(
            select(schema.participants.c.id, schema.participants.c.display_name)
            .where(
                schema.participants.c.group_id == group_id,
                schema.participants.c.id.in_(ids),
            )
            .with_for_update()
        ).all()
        names = {row.id: row.display_name for row in rows}
    for member in ids:
        if member not in names:
            raise NotFoundError(f"the group has no member with id {member}; reload the page")
    now = {k: v.action for k, v in current(conn, group_id, ids).items()}
    problem = refusal(action, participant_id, into, now, lambda k: _label(k, names[k]))
    if problem is not None:
        raise BadInputError(problem)
    change_id = conn.scalar(
        insert(schema.participant_status)
        .values(
            participant_id=participant_id,
            group_id=group_id,
            action=action,
            into_participant_id=into,
            actor=schema.STATUS_BY,
            created_at=created_at,
        )
        .returning(schema.participant_status.c.id)
    )
    return StatusChange(
        change_id, participant_id, group_id, action, into, schema.STATUS_BY, created_at
    )


def refuse_set_aside(change: StatusChange | None) -> None:
    """Refuse a new answer from a member removed or merged (`change`: their newest, or None)."""
    if change is None or change.action == "restored":
        return
    if change.action == "merged":
        raise BadInputError(
            "the facilitator merged this member into another member of the group, so this "
            "answer would not count; answer with that member's come-back link, or ask the "
            "facilitator to restore this one"
        )
    raise BadInputError(
        "the facilitator removed this member from the group, so this answer would not count; "
        "ask the facilitator to restore them"
    )


def _label(participant_id: int, display_name: str) -> str:
    """A member as error messages name them: id and (shortened) name."""
    name = display_name if len(display_name) <= 40 else display_name[:39] + "…"
    return f"member {participant_id} ({name})"
