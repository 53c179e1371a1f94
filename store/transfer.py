"""A whole group in and out of the database.

The SQL behind `Store.export_group` and `Store.import_group`; the file's format and its
checks are `store.groupfile`.
"""

from typing import Any

from sqlalchemy import Connection, insert, select

from store import schema
from store.groupfile import GroupFile, export_dict
from store.records import Group, ImportedGroup, Participant
from store.rows import (
    GROUP_COLUMNS,
    PARTICIPANT_COLUMNS,
    group_from,
    insert_group,
    insert_participant,
    participant_from,
    revision_from,
)
from store.status import all_changes
from store.tokens import new_group_id, new_token


def read_group(conn: Connection, group_id: str) -> dict[str, Any] | None:
    """The group as `export_dict` makes it, from one snapshot (None if there is no group)."""
    group_row = conn.execute(select(*GROUP_COLUMNS).where(schema.groups.c.id == group_id)).first()
    if group_row is None:
        return None
    participant_rows = conn.execute(
        select(*PARTICIPANT_COLUMNS)
        .where(schema.participants.c.group_id == group_id)
        .order_by(schema.participants.c.id)
    ).all()
    revision_rows = conn.execute(
        select(schema.revisions)
        .where(schema.revisions.c.group_id == group_id)
        .order_by(schema.revisions.c.id)
    ).all()
    return export_dict(
        group_from(group_row),
        [participant_from(row) for row in participant_rows],
        [revision_from(row) for row in revision_rows],
        all_changes(conn, group_id),
    )


def write_group(conn: Connection, parsed: GroupFile) -> ImportedGroup:
    """Write a checked group file as a new group (new id and tokens) in `conn`'s transaction."""
    facilitator_token = new_token()
    group = Group(
        id=new_group_id(),
        name=parsed.name,
        evidence=parsed.evidence,
        current_round=parsed.current_round,
        created_at=parsed.created_at,
    )
    imported: list[tuple[Participant, str]] = []
    insert_group(conn, group, facilitator_token)
    new_ids: dict[int, int] = {}
    for member in parsed.members:
        token = new_token()
        new_id = insert_participant(conn, group.id, member.display_name, token, member.created_at)
        new_ids[member.file_id] = new_id
        imported.append(
            (Participant(new_id, group.id, member.display_name, member.created_at), token)
        )
    if parsed.revisions:
        conn.execute(
            insert(schema.revisions),
            [
                {
                    "participant_id": new_ids[r.file_participant_id],
                    "group_id": group.id,
                    "round": r.round,
                    "payload": r.payload,
                    "created_at": r.created_at,
                }
                for r in parsed.revisions
            ],
        )
    if parsed.statuses:
        conn.execute(
            insert(schema.participant_status),
            [
                {
                    "participant_id": new_ids[c.file_participant_id],
                    "group_id": group.id,
                    "action": c.action,
                    "into_participant_id": (
                        None if c.file_into_id is None else new_ids[c.file_into_id]
                    ),
                    "actor": c.by,
                    "created_at": c.created_at,
                }
                for c in parsed.statuses
            ],
        )
    return ImportedGroup(group, facilitator_token, tuple(imported), len(parsed.revisions))
