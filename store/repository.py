"""The Store: groups, participants, append-only response revisions and member status in SQL."""

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Self

from sqlalchemy import Connection, distinct, func, insert, select, update

from priors.errors import BadInputError
from priors.limits import MAX_EVIDENCE_CHARS, MAX_GROUP_NAME_CHARS, MAX_NAME_CHARS, MAX_ROUNDS
from store import schema
from store.checks import check_id, check_round, check_text, payload_json
from store.engine import open_engine, resolve_url, transaction
from store.errors import DuplicateRevisionError, NotFoundError
from store.groupfile import parse_export
from store.records import Group, ImportedGroup, Participant, Revision, StatusChange
from store.rows import (
    GROUP_COLUMNS,
    PARTICIPANT_COLUMNS,
    group_from,
    insert_group,
    insert_participant,
    participant_from,
    revision_from,
)
from store.status import all_changes, change_status, current, refuse_set_aside, set_aside_ids
from store.tokens import (
    hash_token,
    new_group_id,
    new_token,
    plausible_group_id,
    plausible_token,
    same_hash,
)
from store.transfer import read_group, write_group


class Store:
    """Persistence for groups, participants and response revisions.

    One Store per process; it is safe to share between threads. Several processes may
    use the same database at once.

    Parameters
    ----------
    url : str, optional
        SQLAlchemy database URL (``postgresql://`` URLs use psycopg). Without it, the
        SQLite file ``cruxboard.db`` in the current folder. The Store reads no environment
        variable: the caller chooses the URL.

    Raises
    ------
    CorruptDatabaseError
        If the SQLite file fails its integrity check.
    SchemaError
        If the database was written by a newer Cruxboard, or holds tables of the same names
        that Cruxboard did not create.
    BadInputError
        If the URL names an in-memory SQLite database or a file in a missing folder.

    Notes
    -----
    Opening creates or migrates the schema; no manual step is needed. On SQLite the
    database runs in WAL mode with foreign keys on, and writers wait up to
    `BUSY_TIMEOUT_SECONDS` for each other.
    """

    def __init__(self, url: str | None = None) -> None:
        self._url = resolve_url(url)
        self._engine = open_engine(self._url)

    @property
    def url(self) -> str:
        """The database URL in use, with any password masked."""
        return self._url.render_as_string(hide_password=True)

    def close(self) -> None:
        """Close every database connection; the Store cannot be used afterwards."""
        self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- groups ---------------------------------------------------------------------------

    def create_group(self, name: str, *, evidence: str) -> tuple[Group, str]:
        """Create a group in round 1.

        Parameters
        ----------
        name : str
            Group name, at most `MAX_GROUP_NAME_CHARS` characters.
        evidence : str
            Evidence document (TOML text), stored as given; at most `MAX_EVIDENCE_CHARS`.

        Returns
        -------
        group : Group
            The new group.
        facilitator_token : str
            Secret for the facilitator link. Only its hash is stored: show it once.

        Raises
        ------
        BadInputError
            If the name is empty or too long, or either text cannot be stored.
        """
        name = check_text(name, what="group name", max_chars=MAX_GROUP_NAME_CHARS)
        evidence = check_text(
            evidence, what="evidence", max_chars=MAX_EVIDENCE_CHARS, allow_empty=True
        )
        token = new_token()
        group = Group(
            id=new_group_id(),
            name=name,
            evidence=evidence,
            current_round=1,
            created_at=dt.datetime.now(dt.UTC),
        )
        with self._transaction(write=True) as conn:
            insert_group(conn, group, token)
        return group, token

    def get_group(self, group_id: str) -> Group | None:
        """Return the group with this id, or None if there is none."""
        if not plausible_group_id(group_id):
            return None
        with self._transaction() as conn:
            row = conn.execute(select(*GROUP_COLUMNS).where(schema.groups.c.id == group_id)).first()
        return None if row is None else group_from(row)

    def recently_answered(self, limit: int) -> list[tuple[str, int]]:
        """Return the groups answered most recently, newest first, with their answer's round.

        One pair (group id, round of the group's newest revision) per group that has an
        answer, at most `limit` pairs. The app fits these rounds as it starts, before any
        dashboard asks.
        """
        newest = (
            select(func.max(schema.revisions.c.id).label("id"))
            .group_by(schema.revisions.c.group_id)
            .order_by(func.max(schema.revisions.c.id).desc())
            .limit(max(limit, 0))
            .subquery()
        )
        with self._transaction() as conn:
            rows = conn.execute(
                select(schema.revisions.c.group_id, schema.revisions.c.round)
                .join(newest, schema.revisions.c.id == newest.c.id)
                .order_by(schema.revisions.c.id.desc())
            ).all()
        return [(str(group_id), int(round)) for group_id, round in rows]

    def is_facilitator(self, group_id: str, token: str | None) -> bool:
        """Tell whether `token` is the facilitator token of group `group_id`.

        A missing, malformed or wrong token (or an unknown group) gives False; it never
        raises.
        """
        if not plausible_group_id(group_id) or not plausible_token(token):
            return False
        digest = hash_token(token)
        with self._transaction() as conn:
            stored = conn.scalar(
                select(schema.groups.c.facilitator_token_hash).where(schema.groups.c.id == group_id)
            )
        return stored is not None and same_hash(stored, digest)

    def open_next_round(self, group_id: str) -> int:
        """Open the group's next round; check `is_facilitator` before calling this.

        Returns
        -------
        int
            The new current round.

        Raises
        ------
        NotFoundError
            If there is no such group.
        BadInputError
            If the group already has `MAX_ROUNDS` rounds.
        """
        new_round = None
        if plausible_group_id(group_id):
            with self._transaction(write=True) as conn:
                new_round = conn.scalar(
                    update(schema.groups)
                    .where(
                        schema.groups.c.id == group_id,
                        schema.groups.c.current_round < MAX_ROUNDS,
                    )
                    .values(current_round=schema.groups.c.current_round + 1)
                    .returning(schema.groups.c.current_round)
                )
        if new_round is None:
            if self.get_group(group_id) is not None:
                raise BadInputError(
                    f"the group already has {MAX_ROUNDS} rounds, the most it can have"
                )
            raise NotFoundError(f"no group with id {group_id!r}; check the link")
        return new_round

    # -- participants ---------------------------------------------------------------------

    def add_participant(self, group_id: str, display_name: str) -> tuple[Participant, str]:
        """Add a participant to a group.

        Parameters
        ----------
        group_id : str
            The group's id.
        display_name : str
            Name or pseudonym, stored as given; at most `MAX_DISPLAY_NAME_CHARS` characters.

        Returns
        -------
        participant : Participant
            The new participant.
        edit_token : str
            Secret that lets them come back and revise. Only its hash is stored: show it
            once.

        Raises
        ------
        BadInputError
            If the display name is empty, too long or cannot be stored.
        NotFoundError
            If there is no such group.
        """
        display_name = check_text(display_name, what="display name", max_chars=MAX_NAME_CHARS)
        token = new_token()
        created_at = dt.datetime.now(dt.UTC)
        with self._transaction(write=True) as conn:
            if not plausible_group_id(group_id) or (
                conn.scalar(select(schema.groups.c.id).where(schema.groups.c.id == group_id))
                is None
            ):
                raise NotFoundError(f"no group with id {group_id!r}; check the join link")
            participant_id = insert_participant(conn, group_id, display_name, token, created_at)
        return Participant(participant_id, group_id, display_name, created_at), token

    def participant_for_token(self, group_id: str, token: str | None) -> Participant | None:
        """Return the participant of group `group_id` whose edit token is `token`.

        A missing, malformed or wrong token, or one of another group, gives None; it never
        raises.
        """
        if not plausible_group_id(group_id) or not plausible_token(token):
            return None
        digest = hash_token(token)
        with self._transaction() as conn:
            row = conn.execute(
                select(*PARTICIPANT_COLUMNS, schema.participants.c.edit_token_hash).where(
                    schema.participants.c.edit_token_hash == digest,
                    schema.participants.c.group_id == group_id,
                )
            ).first()
        if row is None or not same_hash(row.edit_token_hash, digest):
            return None
        return participant_from(row)

    def participants(self, group_id: str, *, include_removed: bool = False) -> list[Participant]:
        """Return the group's participants in the order they joined (empty if no group).

        Members removed or merged by the facilitator are left out unless `include_removed`.
        """
        if not plausible_group_id(group_id):
            return []
        query = select(*PARTICIPANT_COLUMNS).where(schema.participants.c.group_id == group_id)
        if not include_removed:
            query = query.where(schema.participants.c.id.not_in(set_aside_ids(group_id)))
        with self._transaction() as conn:
            rows = conn.execute(query.order_by(schema.participants.c.id)).all()
        return [participant_from(row) for row in rows]

    # -- revisions ------------------------------------------------------------------------

    def add_revision(self, participant_id: int, *, round: int, payload: dict) -> Revision:
        """Append a revision of a participant's answer; earlier revisions stay as they are.

        Parameters
        ----------
        participant_id : int
            Who answers.
        round : int
            Round of the answer: from 1 up to the group's current round.
        payload : dict
            The answer: a JSON object (str keys; dict, list, str, int, float, bool or
            None values; finite floats) of at most `MAX_PAYLOAD_BYTES` as UTF-8 JSON.

        Returns
        -------
        Revision
            The stored revision; its payload is a copy, equal to `payload`.

        Raises
        ------
        BadInputError
            If the payload is not such a JSON object or is too large, the round is not
            open, or the facilitator removed or merged the participant (their answer would
            not count). Nothing is written.
        DuplicateRevisionError
            If the payload equals the participant's newest revision and that revision is of
            the same round (a form sent twice, e.g. by a double click). Nothing is written.
        NotFoundError
            If there is no such participant.
        """
        check_id(participant_id, what="participant_id")
        check_round(round)
        text = payload_json(payload)
        created_at = dt.datetime.now(dt.UTC)
        with self._transaction(write=True) as conn:
            found = conn.execute(
                select(schema.participants.c.group_id, schema.groups.c.current_round)
                .join(schema.groups, schema.groups.c.id == schema.participants.c.group_id)
                .where(schema.participants.c.id == participant_id)
                # One writer per participant at a time (PostgreSQL; SQLite writes one by one
                # anyway), so two copies of one answer cannot both pass the check below.
                .with_for_update(of=schema.participants)
            ).first()
            if found is None:
                raise NotFoundError(f"no participant with id {participant_id}")
            if round > found.current_round:
                raise BadInputError(
                    f"round {round} is not open: the group is in round {found.current_round}; "
                    f"answers go to rounds 1 to {found.current_round}"
                )
            refuse_set_aside(current(conn, found.group_id, [participant_id]).get(participant_id))
            newest = conn.execute(
                select(schema.revisions.c.round, schema.revisions.c.payload)
                .where(schema.revisions.c.participant_id == participant_id)
                .order_by(schema.revisions.c.id.desc())
                .limit(1)
            ).first()
            if (
                newest is not None
                and newest.round == round
                and json.loads(newest.payload) == (json.loads(text))
            ):
                raise DuplicateRevisionError(
                    f"this answer is already saved: it is the same as the newest one in round "
                    f"{round}; change an answer to save a new revision"
                )
            revision_id = conn.scalar(
                insert(schema.revisions)
                .values(
                    participant_id=participant_id,
                    group_id=found.group_id,
                    round=round,
                    payload=text,
                    created_at=created_at,
                )
                .returning(schema.revisions.c.id)
            )
        return Revision(
            revision_id, participant_id, found.group_id, round, json.loads(text), created_at
        )

    def revisions(self, participant_id: int) -> list[Revision]:
        """Return every revision of a participant, oldest first (empty if none)."""
        check_id(participant_id, what="participant_id")
        with self._transaction() as conn:
            rows = conn.execute(
                select(schema.revisions)
                .where(schema.revisions.c.participant_id == participant_id)
                .order_by(schema.revisions.c.id)
            ).all()
        return [revision_from(row) for row in rows]

    def latest_revisions(
        self, group_id: str, *, round: int, include_removed: bool = False
    ) -> list[tuple[Participant, Revision]]:
        """Return each participant's newest revision in a round.

        Parameters
        ----------
        group_id : str
            The group's id.
        round : int
            The round, from 1.
        include_removed : bool, default False
            Also members the facilitator removed or merged into another (whose answers
            otherwise no longer count; a merge keeps the other member's answers).

        Returns
        -------
        list of (Participant, Revision)
            One pair per participant who answered in that round, in the order they
            joined; empty for an unknown group.
        """
        check_round(round)
        return self._newest(group_id, round, include_removed)

    def last_answers(
        self, group_id: str, *, include_removed: bool = False
    ) -> list[tuple[Participant, Revision]]:
        """Return each participant's newest revision in any round.

        Like `latest_revisions`, over every round at once: one pair per participant who
        has answered, in the order they joined; `include_removed` as there.
        """
        return self._newest(group_id, None, include_removed)

    def count_answered(self, group_id: str, *, round: int, include_removed: bool = False) -> int:
        """Return how many participants have saved at least one revision in a round.

        Members removed or merged by the facilitator are not counted unless
        `include_removed`.
        """
        check_round(round)
        if not plausible_group_id(group_id):
            return 0
        query = select(func.count(distinct(schema.revisions.c.participant_id))).where(
            schema.revisions.c.group_id == group_id, schema.revisions.c.round == round
        )
        if not include_removed:
            query = query.where(schema.revisions.c.participant_id.not_in(set_aside_ids(group_id)))
        with self._transaction() as conn:
            return conn.scalar(query)

    def version(self, group_id: str) -> tuple[int, int, int, int]:
        """Return what changes when anything in a group changes, in one cheap query.

        Returns
        -------
        tuple of int
            (current round, number of members ever joined, id of the newest revision or 0,
            id of the newest status change or 0); (0, 0, 0, 0) for no such group.
            Revisions and status changes are append-only, so a new answer, removal, merge
            or restore always raises one of the last two numbers. The dashboard polls this
            to refresh itself.
        """
        if not plausible_group_id(group_id):
            return (0, 0, 0, 0)
        members = (
            select(func.count()).where(schema.participants.c.group_id == group_id).scalar_subquery()
        )
        newest = (
            select(func.coalesce(func.max(schema.revisions.c.id), 0))
            .where(schema.revisions.c.group_id == group_id)
            .scalar_subquery()
        )
        changed = (
            select(func.coalesce(func.max(schema.participant_status.c.id), 0))
            .where(schema.participant_status.c.group_id == group_id)
            .scalar_subquery()
        )
        with self._transaction() as conn:
            row = conn.execute(
                select(schema.groups.c.current_round, members, newest, changed).where(
                    schema.groups.c.id == group_id
                )
            ).first()
        return (0, 0, 0, 0) if row is None else (int(row[0]), int(row[1]), int(row[2]), int(row[3]))

    # -- members set aside (append-only) ----------------------------------------------------

    def remove_participant(self, group_id: str, participant_id: int) -> StatusChange:
        """Set a member aside: their answers stay in the database but no longer count.

        Appends a "removed" change; no revision or member row is changed or deleted, and
        `restore_participant` undoes it. Check `is_facilitator` before calling this.

        Returns
        -------
        StatusChange
            The change written.

        Raises
        ------
        NotFoundError
            If the group has no such member.
        BadInputError
            If the member is already removed or merged.
        """
        return self._change_status(group_id, participant_id, "removed", None)

    def merge_participants(self, group_id: str, keep_id: int, duplicate_id: int) -> StatusChange:
        """Merge an accidental duplicate into the member kept.

        The kept member's answers stand, in every round; the duplicate is set aside like a
        removed member (their revisions stay in the database, never counted, and come back
        with `restore_participant`). Nothing of the duplicate's answers is copied over:
        when the two differ, the kept member's own latest answer is the one used.

        Appends a "merged" change naming the kept member. Check `is_facilitator` before
        calling this.

        Returns
        -------
        StatusChange
            The change written.

        Raises
        ------
        NotFoundError
            If the group has no member with either id.
        BadInputError
            If the two are the same member, or either is removed or merged already.
        """
        check_id(keep_id, what="keep_id")
        return self._change_status(group_id, duplicate_id, "merged", keep_id)

    def restore_participant(self, group_id: str, participant_id: int) -> StatusChange:
        """Count a removed or merged member again, with all their answers.

        Appends a "restored" change. Check `is_facilitator` before calling this.

        Returns
        -------
        StatusChange
            The change written.

        Raises
        ------
        NotFoundError
            If the group has no such member.
        BadInputError
            If the member is not removed or merged.
        """
        return self._change_status(group_id, participant_id, "restored", None)

    def removals(self, group_id: str) -> dict[int, StatusChange]:
        """Return the members removed or merged now, each with the change that did it.

        Keyed by participant id; a member not in it counts (empty for an unknown group).
        """
        if not plausible_group_id(group_id):
            return {}
        with self._transaction() as conn:
            newest = current(conn, group_id)
        return {k: v for k, v in newest.items() if v.action != "restored"}

    def status_changes(self, group_id: str) -> list[StatusChange]:
        """Return every removal, merge and restore in a group, oldest first (empty if none)."""
        if not plausible_group_id(group_id):
            return []
        with self._transaction() as conn:
            return all_changes(conn, group_id)

    # -- export and import ----------------------------------------------------------------

    def export_group(self, group_id: str) -> dict[str, Any]:
        """Return the whole group as a JSON-serialisable dict (no token hashes).

        Returns
        -------
        dict
            ``format``, ``format_version``, ``group`` (its fields), ``participants`` (in
            joining order, removed ones too), ``revisions`` (every one, oldest first) and
            ``statuses`` (every removal, merge and restore, oldest first); times are ISO
            8601 strings in UTC.

        Raises
        ------
        NotFoundError
            If there is no such group.
        """
        if not plausible_group_id(group_id):
            raise NotFoundError(f"no group with id {group_id!r}; check the link")
        with self._transaction() as conn:  # one snapshot of all four tables
            data = read_group(conn, group_id)
        if data is None:
            raise NotFoundError(f"no group with id {group_id!r}; check the link")
        return data

    @staticmethod
    def check_export(data: object) -> None:
        """Check an `export_group` dict as `import_group` would, writing nothing.

        Raises
        ------
        ImportFileError
            If `data` is not a valid export; the message says what is wrong.
        """
        parse_export(data)

    def import_group(self, data: dict[str, Any]) -> ImportedGroup:
        """Import an `export_group` dict as a new group, in one transaction.

        Everything but the ids is kept: names, evidence, round, every revision with its
        payload, every removal, merge and restore (so the same members count), and the
        original times. Files of format version 1 (before removals existed) are read too.
        The group gets a new id and facilitator token, and each participant a new edit
        token (the old tokens do not work on it).

        Parameters
        ----------
        data : dict
            What `export_group` returned (possibly after a JSON round trip).

        Returns
        -------
        ImportedGroup
            The new group, its facilitator token and each participant's edit token.

        Raises
        ------
        ImportFileError
            If `data` is not a valid export; the message says what is wrong and nothing is
            written.
        """
        parsed = parse_export(data)
        with self._transaction(write=True) as conn:
            return write_group(conn, parsed)

    # -- plumbing -------------------------------------------------------------------------

    def _newest(
        self, group_id: str, round: int | None, include_removed: bool
    ) -> list[tuple[Participant, Revision]]:
        """Each participant's newest revision in `round` (in any round if None)."""
        if not plausible_group_id(group_id):
            return []
        newest = select(func.max(schema.revisions.c.id)).where(
            schema.revisions.c.group_id == group_id
        )
        if round is not None:
            newest = newest.where(schema.revisions.c.round == round)
        if not include_removed:
            newest = newest.where(schema.revisions.c.participant_id.not_in(set_aside_ids(group_id)))
        newest = newest.group_by(schema.revisions.c.participant_id)
        with self._transaction() as conn:
            rows = conn.execute(
                select(*PARTICIPANT_COLUMNS, *schema.revisions.c)
                .join(
                    schema.revisions, schema.revisions.c.participant_id == schema.participants.c.id
                )
                .where(schema.revisions.c.id.in_(newest))
                .order_by(schema.participants.c.id)
            ).all()
        return [(participant_from(row), revision_from(row)) for row in rows]

    def _change_status(
        self, group_id: str, participant_id: int, action: str, into: int | None
    ) -> StatusChange:
        """Append one status change after checking it against the member's current status."""
        check_id(participant_id, what="participant_id")
        with self._transaction(write=True) as conn:
            return change_status(conn, group_id, participant_id, action, into)

    @contextmanager
    def _transaction(self, *, write: bool = False) -> Iterator[Connection]:
        """Yield a connection inside one transaction: committed on success, else rolled back."""
        with transaction(self._engine, write=write) as conn:
            yield conn
