"""Members set aside: which are removed or merged now, and which status changes are allowed.

The record is append-only (`schema.participant_status`); a member's status is the action of
their newest change, and a member with no change is counted. The same rules check a change
the facilitator asks for and every change a whole-group file brings.
"""

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, Row, Select, func, select

from store import schema
from store.records import StatusChange

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
