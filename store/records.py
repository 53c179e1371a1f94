"""The records the store hands out: groups, participants, revisions, status changes, imports."""

import datetime as dt
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Group:
    """A group that answers together.

    Attributes
    ----------
    id : str
        Public id, short and random; it goes into the join link.
    name : str
        Name given by the facilitator.
    evidence : str
        The group's evidence document (TOML), stored exactly as given.
    current_round : int
        The open round, from 1.
    created_at : datetime.datetime
        Creation time, timezone-aware UTC.
    """

    id: str
    name: str
    evidence: str
    current_round: int
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class Participant:
    """A member of a group.

    Attributes
    ----------
    id : int
        Store id.
    group_id : str
        The group's id.
    display_name : str
        Name or pseudonym, stored exactly as given (escape it before rendering as HTML).
    created_at : datetime.datetime
        Joining time, timezone-aware UTC.
    """

    id: int
    group_id: str
    display_name: str
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class Revision:
    """One saved answer of a participant; later revisions never replace earlier ones.

    Attributes
    ----------
    id : int
        Store id; increases with every revision written, so the newest has the largest.
    participant_id : int
        Who answered.
    group_id : str
        The participant's group.
    round : int
        Round the answer belongs to.
    payload : dict
        The answer as a JSON object, equal to what was given.
    created_at : datetime.datetime
        Saving time, timezone-aware UTC.
    """

    id: int
    participant_id: int
    group_id: str
    round: int
    payload: dict[str, Any]
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class StatusChange:
    """One entry in the append-only record of members removed, merged or restored.

    A member's status is the action of their newest change: "removed" or "merged" sets the
    member aside (their revisions stay, but no longer count), "restored" or no change at
    all leaves them counted. Nothing in the record is ever updated or deleted.

    Attributes
    ----------
    id : int
        Store id; increases with every change written, so the newest has the largest.
    participant_id : int
        The member whose status changed.
    group_id : str
        Their group.
    action : str
        "removed", "merged" or "restored".
    into_participant_id : int or None
        For "merged": the member kept, whose answers stand; None for the other actions.
    by : str
        Who made the change: "facilitator".
    created_at : datetime.datetime
        When, timezone-aware UTC.
    """

    id: int
    participant_id: int
    group_id: str
    action: str
    into_participant_id: int | None
    by: str
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class ImportedGroup:
    """The result of `Store.import_group`: the new group and its fresh tokens.

    Attributes
    ----------
    group : Group
        The new group (new id, everything else as exported).
    facilitator_token : str
        The new facilitator token, shown once.
    participants : tuple of (Participant, str)
        Each imported participant with their new edit token, in export order.
    revisions : int
        How many revisions were imported.
    """

    group: Group
    facilitator_token: str
    participants: tuple[tuple[Participant, str], ...]
    revisions: int
