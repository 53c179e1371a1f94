"""Rows and records: the columns the store reads, records from rows, rows from records."""

import datetime as dt
import json
from typing import Any

from sqlalchemy import Connection, Row, insert

from store import schema
from store.records import Group, Participant, Revision
from store.tokens import hash_token

GROUP_COLUMNS = [c for c in schema.groups.c if c.name != "facilitator_token_hash"]
"""Every column of a group but its token hash (which never leaves the database)."""

PARTICIPANT_COLUMNS = [c for c in schema.participants.c if c.name != "edit_token_hash"]
"""Every column of a participant but its token hash (which never leaves the database)."""


def insert_group(conn: Connection, group: Group, facilitator_token: str) -> None:
    """Insert `group`, keeping only the hash of its facilitator token."""
    conn.execute(
        insert(schema.groups).values(
            id=group.id,
            name=group.name,
            evidence=group.evidence,
            current_round=group.current_round,
            facilitator_token_hash=hash_token(facilitator_token),
            created_at=group.created_at,
        )
    )


def insert_participant(
    conn: Connection, group_id: str, display_name: str, token: str, created_at: dt.datetime
) -> int:
    """Insert a participant, keeping only the hash of their edit token; return their id."""
    return conn.scalar(
        insert(schema.participants)
        .values(
            group_id=group_id,
            display_name=display_name,
            edit_token_hash=hash_token(token),
            created_at=created_at,
        )
        .returning(schema.participants.c.id)
    )


def group_from(row: Row[Any]) -> Group:
    """The Group in a row that holds `GROUP_COLUMNS`."""
    m = row._mapping
    return Group(
        id=m[schema.groups.c.id],
        name=m[schema.groups.c.name],
        evidence=m[schema.groups.c.evidence],
        current_round=m[schema.groups.c.current_round],
        created_at=m[schema.groups.c.created_at],
    )


def participant_from(row: Row[Any]) -> Participant:
    """The Participant in a row that holds `PARTICIPANT_COLUMNS`."""
    m = row._mapping
    return Participant(
        id=m[schema.participants.c.id],
        group_id=m[schema.participants.c.group_id],
        display_name=m[schema.participants.c.display_name],
        created_at=m[schema.participants.c.created_at],
    )


def revision_from(row: Row[Any]) -> Revision:
    """The Revision in a row that holds the revisions' columns (its payload parsed afresh)."""
    m = row._mapping
    return Revision(
        id=m[schema.revisions.c.id],
        participant_id=m[schema.revisions.c.participant_id],
        group_id=m[schema.revisions.c.group_id],
        round=m[schema.revisions.c.round],
        payload=json.loads(m[schema.revisions.c.payload]),
        created_at=m[schema.revisions.c.created_at],
    )
