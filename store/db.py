"""The Store: groups, participants and append-only response revisions in SQL."""

import datetime as dt
import hashlib
import hmac
import json
import math
import os
import re
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

from sqlalchemy import (
    URL,
    Connection,
    Engine,
    Row,
    create_engine,
    distinct,
    event,
    func,
    insert,
    make_url,
    select,
    update,
)
from sqlalchemy.exc import DBAPIError

from store import schema
from store.schema import (
    MAX_DISPLAY_NAME_CHARS,
    MAX_EVIDENCE_CHARS,
    MAX_GROUP_NAME_CHARS,
    MAX_PAYLOAD_BYTES,
    MAX_ROUNDS,
    StoreError,
)

BUSY_TIMEOUT_SECONDS = 30.0
"""How long a SQLite writer waits for another process's write to finish before failing."""

EXPORT_FORMAT = "cruxboard.group"
"""Value of ``"format"`` in `Store.export_group` output."""

EXPORT_VERSION = 1
"""Value of ``"format_version"`` in `Store.export_group` output."""

_GROUP_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")
_MAX_TOKEN_CHARS = 512  # real tokens have 43; anything far longer is not one of ours
_MAX_PAYLOAD_DEPTH = 64
_WRITE_OPTION = "cruxboard_write"  # execution option: a SQLite write starts BEGIN IMMEDIATE
_PG_MIGRATION_LOCK = 0x4352_5558_424F_4152  # "CRUXBOAR": advisory lock key for migrations

_GROUP_COLUMNS = [c for c in schema.groups.c if c.name != "facilitator_token_hash"]
_PARTICIPANT_COLUMNS = [c for c in schema.participants.c if c.name != "edit_token_hash"]


class CorruptDatabaseError(StoreError):
    """The SQLite file failed ``PRAGMA integrity_check`` (or is not a database at all)."""


class NotFoundError(StoreError, LookupError):
    """No group or participant has the given id."""


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


class Store:
    """Persistence for groups, participants and response revisions.

    One Store per process; it is safe to share between threads. Several processes may
    use the same database at once.

    Parameters
    ----------
    url : str, optional
        SQLAlchemy database URL. Without it: ``DATABASE_URL`` from the environment if set
        (``postgresql://`` URLs use psycopg), else the SQLite file named by
        ``CRUXBOARD_DB``, else ``cruxboard.db`` in the current folder.

    Raises
    ------
    CorruptDatabaseError
        If the SQLite file fails its integrity check.
    SchemaError
        If the database was written by a newer Cruxboard, or holds tables of the same names
        that Cruxboard did not create.
    ValueError
        If the URL names an in-memory SQLite database or a file in a missing folder.

    Notes
    -----
    Opening creates or migrates the schema; no manual step is needed. On SQLite the
    database runs in WAL mode with foreign keys on, and writers wait up to
    `BUSY_TIMEOUT_SECONDS` for each other.
    """

    def __init__(self, url: str | None = None) -> None:
        self._url = _resolve_url(url)
        self._engine = _make_engine(self._url)
        try:
            if self._engine.dialect.name == "sqlite":
                self._check_integrity()
            with self._transaction(write=True) as conn:
                if conn.dialect.name == "postgresql":
                    # Two processes starting at once must not both create the tables.
                    conn.execute(select(func.pg_advisory_xact_lock(_PG_MIGRATION_LOCK)))
                schema.migrate(conn)
        except BaseException:
            self._engine.dispose()
            raise

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
        ValueError
            If the name is empty or too long, or either text cannot be stored.
        """
        name = _check_text(name, what="group name", max_chars=MAX_GROUP_NAME_CHARS)
        evidence = _check_text(
            evidence, what="evidence", max_chars=MAX_EVIDENCE_CHARS, allow_empty=True
        )
        token = _new_token()
        group = Group(
            id=secrets.token_urlsafe(9),
            name=name,
            evidence=evidence,
            current_round=1,
            created_at=_now(),
        )
        with self._transaction(write=True) as conn:
            conn.execute(
                insert(schema.groups).values(
                    id=group.id,
                    name=group.name,
                    evidence=group.evidence,
                    current_round=group.current_round,
                    facilitator_token_hash=_hash_token(token),
                    created_at=group.created_at,
                )
            )
        return group, token

    def get_group(self, group_id: str) -> Group | None:
        """Return the group with this id, or None if there is none."""
        if not _plausible_group_id(group_id):
            return None
        with self._transaction() as conn:
            row = conn.execute(
                select(*_GROUP_COLUMNS).where(schema.groups.c.id == group_id)
            ).first()
        return None if row is None else _group(row)

    def is_facilitator(self, group_id: str, token: str | None) -> bool:
        """Tell whether `token` is the facilitator token of group `group_id`.

        A missing, malformed or wrong token (or an unknown group) gives False; it never
        raises.
        """
        if not _plausible_group_id(group_id) or not _plausible_token(token):
            return False
        digest = _hash_token(token)
        with self._transaction() as conn:
            stored = conn.scalar(
                select(schema.groups.c.facilitator_token_hash).where(schema.groups.c.id == group_id)
            )
        return stored is not None and hmac.compare_digest(stored, digest)

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
        ValueError
            If the group already has `MAX_ROUNDS` rounds.
        """
        new_round = None
        if _plausible_group_id(group_id):
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
                raise ValueError(f"the group already has {MAX_ROUNDS} rounds, the most it can have")
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
        ValueError
            If the display name is empty, too long or cannot be stored.
        NotFoundError
            If there is no such group.
        """
        display_name = _check_text(
            display_name, what="display name", max_chars=MAX_DISPLAY_NAME_CHARS
        )
        token = _new_token()
        created_at = _now()
        with self._transaction(write=True) as conn:
            if not _plausible_group_id(group_id) or (
                conn.scalar(select(schema.groups.c.id).where(schema.groups.c.id == group_id))
                is None
            ):
                raise NotFoundError(f"no group with id {group_id!r}; check the join link")
            participant_id = conn.scalar(
                insert(schema.participants)
                .values(
                    group_id=group_id,
                    display_name=display_name,
                    edit_token_hash=_hash_token(token),
                    created_at=created_at,
                )
                .returning(schema.participants.c.id)
            )
        return Participant(participant_id, group_id, display_name, created_at), token

    def participant_for_token(self, group_id: str, token: str | None) -> Participant | None:
        """Return the participant of group `group_id` whose edit token is `token`.

        A missing, malformed or wrong token, or one of another group, gives None; it never
        raises.
        """
        if not _plausible_group_id(group_id) or not _plausible_token(token):
            return None
        digest = _hash_token(token)
        with self._transaction() as conn:
            row = conn.execute(
                select(*_PARTICIPANT_COLUMNS, schema.participants.c.edit_token_hash).where(
                    schema.participants.c.edit_token_hash == digest,
                    schema.participants.c.group_id == group_id,
                )
            ).first()
        if row is None or not hmac.compare_digest(row.edit_token_hash, digest):
            return None
        return _participant(row)

    def participants(self, group_id: str) -> list[Participant]:
        """Return the group's participants in the order they joined (empty if no group)."""
        if not _plausible_group_id(group_id):
            return []
        with self._transaction() as conn:
            rows = conn.execute(
                select(*_PARTICIPANT_COLUMNS)
                .where(schema.participants.c.group_id == group_id)
                .order_by(schema.participants.c.id)
            ).all()
        return [_participant(row) for row in rows]

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
        ValueError
            If the payload is not such a JSON object or is too large, or the round is not
            open. Nothing is written.
        NotFoundError
            If there is no such participant.
        """
        _check_id(participant_id, what="participant_id")
        _check_round(round)
        text = _payload_json(payload)
        created_at = _now()
        with self._transaction(write=True) as conn:
            found = conn.execute(
                select(schema.participants.c.group_id, schema.groups.c.current_round)
                .join(schema.groups, schema.groups.c.id == schema.participants.c.group_id)
                .where(schema.participants.c.id == participant_id)
            ).first()
            if found is None:
                raise NotFoundError(f"no participant with id {participant_id}")
            if round > found.current_round:
                raise ValueError(
                    f"round {round} is not open: the group is in round {found.current_round}; "
                    f"answers go to rounds 1 to {found.current_round}"
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
        _check_id(participant_id, what="participant_id")
        with self._transaction() as conn:
            rows = conn.execute(
                select(schema.revisions)
                .where(schema.revisions.c.participant_id == participant_id)
                .order_by(schema.revisions.c.id)
            ).all()
        return [_revision(row) for row in rows]

    def latest_revisions(self, group_id: str, *, round: int) -> list[tuple[Participant, Revision]]:
        """Return each participant's newest revision in a round.

        Parameters
        ----------
        group_id : str
            The group's id.
        round : int
            The round, from 1.

        Returns
        -------
        list of (Participant, Revision)
            One pair per participant who answered in that round, in the order they
            joined; empty for an unknown group.
        """
        _check_round(round)
        if not _plausible_group_id(group_id):
            return []
        newest = (
            select(func.max(schema.revisions.c.id))
            .where(schema.revisions.c.group_id == group_id, schema.revisions.c.round == round)
            .group_by(schema.revisions.c.participant_id)
        )
        with self._transaction() as conn:
            rows = conn.execute(
                select(*_PARTICIPANT_COLUMNS, *schema.revisions.c)
                .join(
                    schema.revisions, schema.revisions.c.participant_id == schema.participants.c.id
                )
                .where(schema.revisions.c.id.in_(newest))
                .order_by(schema.participants.c.id)
            ).all()
        return [(_participant(row), _revision(row)) for row in rows]

    def count_answered(self, group_id: str, *, round: int) -> int:
        """Return how many participants have saved at least one revision in a round."""
        _check_round(round)
        if not _plausible_group_id(group_id):
            return 0
        with self._transaction() as conn:
            return conn.scalar(
                select(func.count(distinct(schema.revisions.c.participant_id))).where(
                    schema.revisions.c.group_id == group_id, schema.revisions.c.round == round
                )
            )

    def version(self, group_id: str) -> tuple[int, int, int]:
        """Return what changes when anything in a group changes, in one cheap query.

        Returns
        -------
        tuple of int
            (current round, number of members, id of the newest revision or 0); (0, 0, 0)
            for no such group. Revisions are append-only, so a new answer always raises
            the last number. The dashboard polls this to refresh itself.
        """
        if not _plausible_group_id(group_id):
            return (0, 0, 0)
        members = (
            select(func.count()).where(schema.participants.c.group_id == group_id).scalar_subquery()
        )
        newest = (
            select(func.coalesce(func.max(schema.revisions.c.id), 0))
            .where(schema.revisions.c.group_id == group_id)
            .scalar_subquery()
        )
        with self._transaction() as conn:
            row = conn.execute(
                select(schema.groups.c.current_round, members, newest).where(
                    schema.groups.c.id == group_id
                )
            ).first()
        return (0, 0, 0) if row is None else (int(row[0]), int(row[1]), int(row[2]))

    # -- export and import ----------------------------------------------------------------

    def export_group(self, group_id: str) -> dict[str, Any]:
        """Return the whole group as a JSON-serialisable dict (no token hashes).

        Returns
        -------
        dict
            ``format``, ``format_version``, ``group`` (its fields), ``participants`` (in
            joining order) and ``revisions`` (every one, oldest first); times are ISO 8601
            strings in UTC.

        Raises
        ------
        NotFoundError
            If there is no such group.
        """
        if not _plausible_group_id(group_id):
            raise NotFoundError(f"no group with id {group_id!r}; check the link")
        with self._transaction() as conn:  # one snapshot of all three tables
            group_row = conn.execute(
                select(*_GROUP_COLUMNS).where(schema.groups.c.id == group_id)
            ).first()
            if group_row is None:
                raise NotFoundError(f"no group with id {group_id!r}; check the link")
            participant_rows = conn.execute(
                select(*_PARTICIPANT_COLUMNS)
                .where(schema.participants.c.group_id == group_id)
                .order_by(schema.participants.c.id)
            ).all()
            revision_rows = conn.execute(
                select(schema.revisions)
                .where(schema.revisions.c.group_id == group_id)
                .order_by(schema.revisions.c.id)
            ).all()
        group = _group(group_row)
        return {
            "format": EXPORT_FORMAT,
            "format_version": EXPORT_VERSION,
            "group": {
                "id": group.id,
                "name": group.name,
                "evidence": group.evidence,
                "current_round": group.current_round,
                "created_at": group.created_at.isoformat(),
            },
            "participants": [
                {"id": p.id, "display_name": p.display_name, "created_at": p.created_at.isoformat()}
                for p in map(_participant, participant_rows)
            ],
            "revisions": [
                {
                    "id": r.id,
                    "participant_id": r.participant_id,
                    "round": r.round,
                    "payload": r.payload,
                    "created_at": r.created_at.isoformat(),
                }
                for r in map(_revision, revision_rows)
            ],
        }

    @staticmethod
    def check_export(data: object) -> None:
        """Check an `export_group` dict as `import_group` would, writing nothing.

        Raises
        ------
        ValueError
            If `data` is not a valid export; the message says what is wrong.
        """
        _parse_export(data)

    def import_group(self, data: dict[str, Any]) -> ImportedGroup:
        """Import an `export_group` dict as a new group, in one transaction.

        Everything but the ids is kept: names, evidence, round, every revision with its
        payload, and the original times. The group gets a new id and facilitator token,
        and each participant a new edit token (the old tokens do not work on it).

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
        ValueError
            If `data` is not a valid export; the message says what is wrong and nothing is
            written.
        """
        group_fields, people, answers = _parse_export(data)
        facilitator_token = _new_token()
        group = Group(id=secrets.token_urlsafe(9), **group_fields)
        imported: list[tuple[Participant, str]] = []
        with self._transaction(write=True) as conn:
            conn.execute(
                insert(schema.groups).values(
                    id=group.id,
                    name=group.name,
                    evidence=group.evidence,
                    current_round=group.current_round,
                    facilitator_token_hash=_hash_token(facilitator_token),
                    created_at=group.created_at,
                )
            )
            new_ids: dict[int, int] = {}
            for old_id, display_name, created_at in people:
                token = _new_token()
                new_ids[old_id] = conn.scalar(
                    insert(schema.participants)
                    .values(
                        group_id=group.id,
                        display_name=display_name,
                        edit_token_hash=_hash_token(token),
                        created_at=created_at,
                    )
                    .returning(schema.participants.c.id)
                )
                imported.append(
                    (Participant(new_ids[old_id], group.id, display_name, created_at), token)
                )
            if answers:
                conn.execute(
                    insert(schema.revisions),
                    [
                        {
                            "participant_id": new_ids[old_participant],
                            "group_id": group.id,
                            "round": round_,
                            "payload": text,
                            "created_at": created_at,
                        }
                        for old_participant, round_, text, created_at in answers
                    ],
                )
        return ImportedGroup(group, facilitator_token, tuple(imported), len(answers))

    # -- plumbing -------------------------------------------------------------------------

    @contextmanager
    def _transaction(self, *, write: bool = False) -> Iterator[Connection]:
        """Yield a connection inside one transaction: committed on success, else rolled back."""
        with self._engine.connect() as conn:
            if write:
                conn.execution_options(**{_WRITE_OPTION: True})
            with conn.begin():
                yield conn

    def _check_integrity(self) -> None:
        """Raise CorruptDatabaseError unless SQLite's integrity check says "ok"."""
        try:
            with self._engine.connect() as conn:
                problems = conn.exec_driver_sql("PRAGMA integrity_check").scalars().all()
        except DBAPIError as exc:
            if not _is_sqlite_corruption(exc.orig):
                raise
            raise CorruptDatabaseError(self._corrupt_message(str(exc.orig))) from exc
        if problems != ["ok"]:
            raise CorruptDatabaseError(self._corrupt_message("; ".join(map(str, problems[:5]))))

    def _corrupt_message(self, detail: str) -> str:
        path = self._url.database
        return (
            f"the SQLite database {path} failed its integrity check ({detail}). Nothing was "
            "changed. Restore it from a backup, or move it aside so Cruxboard starts a new "
            f"one; `sqlite3 {path} .recover` may save some of its data."
        )


# -- records from rows ---------------------------------------------------------------------


def _group(row: Row[Any]) -> Group:
    m = row._mapping
    return Group(
        id=m[schema.groups.c.id],
        name=m[schema.groups.c.name],
        evidence=m[schema.groups.c.evidence],
        current_round=m[schema.groups.c.current_round],
        created_at=m[schema.groups.c.created_at],
    )


def _participant(row: Row[Any]) -> Participant:
    m = row._mapping
    return Participant(
        id=m[schema.participants.c.id],
        group_id=m[schema.participants.c.group_id],
        display_name=m[schema.participants.c.display_name],
        created_at=m[schema.participants.c.created_at],
    )


def _revision(row: Row[Any]) -> Revision:
    m = row._mapping
    return Revision(
        id=m[schema.revisions.c.id],
        participant_id=m[schema.revisions.c.participant_id],
        group_id=m[schema.revisions.c.group_id],
        round=m[schema.revisions.c.round],
        payload=json.loads(m[schema.revisions.c.payload]),
        created_at=m[schema.revisions.c.created_at],
    )


# -- tokens --------------------------------------------------------------------------------


def _new_token() -> str:
    return secrets.token_urlsafe(32)


def _hash_token(token: str) -> str:
    # Tokens carry 256 random bits, so a fast unsalted hash is enough (no password stretching).
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _plausible_token(token: object) -> bool:
    return isinstance(token, str) and 0 < len(token) <= _MAX_TOKEN_CHARS


def _plausible_group_id(group_id: object) -> bool:
    # Ids come from links: reject anything we never issue before it reaches SQL (a NUL
    # byte, for one, makes PostgreSQL raise).
    return isinstance(group_id, str) and _GROUP_ID.fullmatch(group_id) is not None


# -- validation ----------------------------------------------------------------------------


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_id(value: object, *, what: str) -> None:
    if not _is_int(value):
        raise ValueError(f"{what} must be an int, not {type(value).__name__}")


def _check_round(value: object) -> None:
    if not _is_int(value) or not 1 <= value <= MAX_ROUNDS:
        raise ValueError(
            f"round must be a whole number from 1 to {MAX_ROUNDS}, not {_short(value)}"
        )


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _check_text(value: object, *, what: str, max_chars: int, allow_empty: bool = False) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{what} must be text (str), not {type(value).__name__}")
    if not allow_empty and not value.strip():
        raise ValueError(f"{what} is empty; enter at least one visible character")
    if len(value) > max_chars:
        raise ValueError(
            f"{what} is {len(value):,} characters long; shorten it to at most {max_chars:,}"
        )
    if "\x00" in value:
        raise ValueError(f"{what} contains a NUL character (\\x00), which cannot be stored")
    if not _encodable(value):
        raise ValueError(f"{what} contains an unpaired surrogate (broken Unicode); re-enter it")
    return value


def _payload_json(payload: object) -> str:
    """Validate a payload and return the exact JSON text to store."""
    if not isinstance(payload, dict):
        raise ValueError(f"payload must be a dict (a JSON object), not {type(payload).__name__}")
    _check_json(payload, "payload", 0)
    text = json.dumps(payload, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    size = len(text.encode("utf-8"))
    if size > MAX_PAYLOAD_BYTES:
        raise ValueError(
            f"payload is {size:,} bytes as JSON, over the limit of {MAX_PAYLOAD_BYTES:,} "
            "bytes (2 MiB); shorten the rationale or other long text"
        )
    return text


def _check_json(value: object, path: str, depth: int) -> None:
    """Raise ValueError unless `value` survives a JSON round trip unchanged."""
    if depth > _MAX_PAYLOAD_DEPTH:
        raise ValueError(f"{path} is nested over {_MAX_PAYLOAD_DEPTH} levels deep; flatten it")
    if value is None or isinstance(value, bool | int):
        return
    if isinstance(value, str):
        if not _encodable(value):
            raise ValueError(f"{path} contains an unpaired surrogate (broken Unicode)")
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(
                f"{path} is {value!r}, which JSON cannot hold; use None for a missing number"
            )
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(
                    f"{path} has the key {key!r} ({type(key).__name__}); JSON object keys "
                    "must be str"
                )
            if not _encodable(key):
                raise ValueError(f"{path} has a key with an unpaired surrogate (broken Unicode)")
            _check_json(item, f"{path}[{key!r}]", depth + 1)
        return
    if isinstance(value, list):
        for index, item in enumerate(value):
            _check_json(item, f"{path}[{index}]", depth + 1)
        return
    raise ValueError(
        f"{path} is a {type(value).__name__}, which JSON cannot hold; use dict, list, str, "
        "int, float, bool or None (a tuple as a list, a NumPy number via float() or int())"
    )


# -- import parsing ------------------------------------------------------------------------


_EXPORT_FIELDS = {
    "data": ("format", "format_version", "group", "participants", "revisions"),
    "group": ("id", "name", "evidence", "current_round", "created_at"),
    "participant": ("id", "display_name", "created_at"),
    "revision": ("id", "participant_id", "round", "payload", "created_at"),
}


def _only_known(obj: dict[str, Any], kind: str, where: str) -> None:
    """Refuse fields an export never has (a damaged or hand-edited file)."""
    unknown = sorted(map(str, set(obj) - set(_EXPORT_FIELDS[kind])))
    if unknown:
        raise ValueError(
            f"import: {where} has unknown field(s) {', '.join(_short(k) for k in unknown[:5])}; "
            f"remove them (the fields are {', '.join(_EXPORT_FIELDS[kind])})"
        )


def _field(obj: dict[str, Any], key: str, kind: type, where: str) -> Any:
    if key not in obj:
        raise ValueError(f"import: {where} has no {key!r}; the export is incomplete")
    value = obj[key]
    if not (_is_int(value) if kind is int else isinstance(value, kind)):
        raise ValueError(
            f"import: {where}[{key!r}] must be {kind.__name__}, not {type(value).__name__}"
        )
    return value


def _parse_time(text: str, where: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"import: {where} {_short(text)} is not an ISO 8601 time") from None
    if value.tzinfo is None:
        raise ValueError(f"import: {where} {_short(text)} has no UTC offset; add +00:00")
    return value.astimezone(dt.UTC)


def _short(value: object, limit: int = 60) -> str:
    """`repr(value)` cut to `limit` characters, for messages that quote a file's content."""
    text = repr(value) if not isinstance(value, int) or abs(value) < 10**limit else "a huge int"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _parse_export(
    data: object,
) -> tuple[
    dict[str, Any],
    list[tuple[int, str, dt.datetime]],
    list[tuple[int, int, str, dt.datetime]],
]:
    """Check an export and return (group fields, participants, revisions) ready to insert."""
    if not isinstance(data, dict):
        raise ValueError(
            f"import: data must be a dict as export_group returns, not {type(data).__name__}"
        )
    if data.get("format") != EXPORT_FORMAT:
        raise ValueError(
            f"import: 'format' is {_short(data.get('format'))}, not {EXPORT_FORMAT!r}; "
            "this is not a Cruxboard group export"
        )
    version = data.get("format_version")
    if version != EXPORT_VERSION:
        raise ValueError(
            f"import: 'format_version' is {_short(version)}; this Cruxboard reads version "
            f"{EXPORT_VERSION} (a newer export needs a newer Cruxboard)"
        )
    _only_known(data, "data", "data")
    group = _field(data, "group", dict, "data")
    _only_known(group, "group", "group")
    current_round = _field(group, "current_round", int, "group")
    if not 1 <= current_round <= MAX_ROUNDS:
        raise ValueError(
            f"import: group current_round is {_short(current_round)}; it must be from 1 to "
            f"{MAX_ROUNDS}"
        )
    group_fields = {
        "name": _check_text(
            _field(group, "name", str, "group"),
            what="import: group name",
            max_chars=MAX_GROUP_NAME_CHARS,
        ),
        "evidence": _check_text(
            _field(group, "evidence", str, "group"),
            what="import: evidence",
            max_chars=MAX_EVIDENCE_CHARS,
            allow_empty=True,
        ),
        "current_round": current_round,
        "created_at": _parse_time(_field(group, "created_at", str, "group"), "group created_at"),
    }

    people: list[tuple[int, str, dt.datetime]] = []
    known: set[int] = set()
    for index, person in enumerate(_field(data, "participants", list, "data")):
        where = f"participants[{index}]"
        if not isinstance(person, dict):
            raise ValueError(f"import: {where} must be a dict, not {type(person).__name__}")
        _only_known(person, "participant", where)
        old_id = _field(person, "id", int, where)
        if old_id in known:
            raise ValueError(f"import: {where} repeats participant id {old_id}")
        name = _check_text(
            _field(person, "display_name", str, where),
            what=f"import: {where} display name",
            max_chars=MAX_DISPLAY_NAME_CHARS,
        )
        created_at = _parse_time(_field(person, "created_at", str, where), f"{where} created_at")
        people.append((old_id, name, created_at))
        known.add(old_id)

    answers: list[tuple[int, int, str, dt.datetime]] = []
    for index, answer in enumerate(_field(data, "revisions", list, "data")):
        where = f"revisions[{index}]"
        if not isinstance(answer, dict):
            raise ValueError(f"import: {where} must be a dict, not {type(answer).__name__}")
        _only_known(answer, "revision", where)
        participant_id = _field(answer, "participant_id", int, where)
        if participant_id not in known:
            raise ValueError(
                f"import: {where} belongs to participant {participant_id}, who is not in "
                "'participants'"
            )
        round_ = _field(answer, "round", int, where)
        if not 1 <= round_ <= current_round:
            raise ValueError(
                f"import: {where} is in round {round_}; rounds run from 1 to the group's "
                f"current_round {current_round}"
            )
        payload = _field(answer, "payload", dict, where)
        try:
            text = _payload_json(payload)
        except ValueError as exc:
            raise ValueError(f"import: {where} {exc}") from None
        created_at = _parse_time(_field(answer, "created_at", str, where), f"{where} created_at")
        answers.append((participant_id, round_, text, created_at))
    return group_fields, people, answers


def export_json(data: dict[str, Any]) -> str:
    """An `export_group` dict as the whole-group file's JSON text (UTF-8, indented)."""
    return json.dumps(data, indent=1, ensure_ascii=False)


def parse_export_json(raw: bytes | str) -> dict[str, Any]:
    """Read a whole-group file (`export_json` text) back into a dict for `Store.import_group`.

    Raises
    ------
    ValueError
        If the text is not UTF-8 JSON holding an object; the message says how to fix it.
    """
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValueError(
                f"import: the file is not UTF-8 text (byte {exc.start}); upload the .json file "
                "the dashboard's 'Whole group' button saved, unchanged"
            ) from None
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:  # includes nesting too deep, huge integers
        detail = str(exc) if isinstance(exc, ValueError) else "nested too deep"
        raise ValueError(
            f"import: the file is not valid JSON ({detail}); upload the .json file the "
            "dashboard's 'Whole group' button saved, unchanged"
        ) from None
    if not isinstance(data, dict):
        raise ValueError(
            f"import: the file holds a JSON {type(data).__name__}, not the object a whole-group "
            "file has; upload the .json file the dashboard's 'Whole group' button saved"
        )
    return data


# -- engine --------------------------------------------------------------------------------


def _resolve_url(url: str | None) -> URL:
    """Pick the database URL: explicit, else DATABASE_URL, else a SQLite file."""
    if url is None:
        url = os.environ.get("DATABASE_URL") or None
    if url is None:
        path = Path(os.environ.get("CRUXBOARD_DB") or "cruxboard.db").expanduser().absolute()
        parsed = URL.create("sqlite", database=str(path))
    else:
        parsed = make_url(url)
    if parsed.drivername in ("postgres", "postgresql"):
        parsed = parsed.set(drivername="postgresql+psycopg")  # the driver we ship
    if parsed.get_backend_name() == "sqlite":
        _check_sqlite_location(parsed)
    return parsed


def _check_sqlite_location(url: URL) -> None:
    database = url.database or ""
    if database in ("", ":memory:") or url.query.get("mode") == "memory":
        raise ValueError(
            "an in-memory SQLite database is not supported (each connection would see its own "
            "empty one); give a file, e.g. sqlite:///cruxboard.db"
        )
    if url.query.get("uri"):
        return
    folder = Path(database).parent
    if not folder.is_dir():
        raise ValueError(
            f"the folder {folder} for the SQLite database does not exist; create it, or set "
            "CRUXBOARD_DB to a file in an existing folder"
        )


def _make_engine(url: URL) -> Engine:
    if url.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_SECONDS})
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connect(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    # Take BEGIN away from the sqlite3 module so that _sqlite_begin decides how each
    # transaction starts (SQLAlchemy's documented recipe).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")  # readers never block the writer
    finally:
        cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    # A transaction that starts deferred, reads, then writes fails at once with
    # SQLITE_BUSY if another process wrote meanwhile (the busy timeout does not apply).
    # IMMEDIATE takes the write lock first, waiting up to the busy timeout for it.
    write = conn.get_execution_options().get(_WRITE_OPTION, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def _is_sqlite_corruption(error: BaseException | None) -> bool:
    name = getattr(error, "sqlite_errorname", "")
    return isinstance(error, sqlite3.DatabaseError) and name.startswith(
        ("SQLITE_CORRUPT", "SQLITE_NOTADB")
    )
