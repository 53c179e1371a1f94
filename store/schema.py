"""Tables and ordered schema migrations of the Cruxboard database."""

import datetime as dt
from collections.abc import Callable

from sqlalchemy import (
    CheckConstraint,
    Column,
    Connection,
    DateTime,
    Dialect,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    insert,
    inspect,
    select,
)
from sqlalchemy.types import TypeDecorator

from priors.limits import MAX_GROUP_NAME_CHARS, MAX_NAME_CHARS
from store.errors import SchemaError

_ID_CHARS = 32
_HASH_CHARS = 64  # sha256 hex digest


class _UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC datetime on every backend.

    SQLite keeps no UTC offset, so values are stored there as naive UTC and given their
    offset back on reading; PostgreSQL stores ``timestamptz``.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"datetime {value.isoformat()} has no UTC offset; pass an aware one")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


# Named constraints, so a later migration can alter or drop them by name on any backend.
METADATA = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

schema_version = Table(
    "schema_version",
    METADATA,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("applied_at", _UTCDateTime, nullable=False),
)

groups = Table(
    "groups",
    METADATA,
    Column("id", String(_ID_CHARS), primary_key=True),
    Column("name", String(MAX_GROUP_NAME_CHARS), nullable=False),
    Column("evidence", Text, nullable=False),
    Column("current_round", Integer, nullable=False),
    Column("facilitator_token_hash", String(_HASH_CHARS), nullable=False),
    Column("created_at", _UTCDateTime, nullable=False),
    CheckConstraint("current_round >= 1", name="current_round_positive"),
)

participants = Table(
    "participants",
    METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("group_id", String(_ID_CHARS), ForeignKey("groups.id"), nullable=False, index=True),
    Column("display_name", String(MAX_NAME_CHARS), nullable=False),
    Column("edit_token_hash", String(_HASH_CHARS), nullable=False, unique=True),
    Column("created_at", _UTCDateTime, nullable=False),
    # Target of the revisions' composite key: a revision's group is its participant's group.
    UniqueConstraint("id", "group_id"),
)

revisions = Table(
    "revisions",
    METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("participant_id", Integer, nullable=False),
    Column("group_id", String(_ID_CHARS), nullable=False),
    Column("round", Integer, nullable=False),
    Column("payload", Text, nullable=False),  # JSON text exactly as serialised by the store
    Column("created_at", _UTCDateTime, nullable=False),
    ForeignKeyConstraint(
        ["participant_id", "group_id"], ["participants.id", "participants.group_id"]
    ),
    CheckConstraint("round >= 1", name="round_positive"),
    Index(None, "group_id", "round", "participant_id", "id"),
    Index(None, "participant_id", "id"),
)


STATUS_ACTIONS = ("removed", "merged", "restored")
"""What a status change can do: set a member aside (removed, merged) or count them again."""

STATUS_BY = "facilitator"
"""Who changes a member's status (the only one who can, for now)."""

_ACTION_CHARS = 16
_BY_CHARS = 32

# Append-only, like the revisions: a member's status is the action of their newest row.
participant_status = Table(
    "participant_status",
    METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("participant_id", Integer, nullable=False),
    Column("group_id", String(_ID_CHARS), nullable=False),
    Column("action", String(_ACTION_CHARS), nullable=False),
    Column("into_participant_id", Integer, nullable=True),
    Column("actor", String(_BY_CHARS), nullable=False),  # "by" is an SQL keyword
    Column("created_at", _UTCDateTime, nullable=False),
    # Both members belong to the row's group (a NULL into_participant_id is not checked).
    ForeignKeyConstraint(
        ["participant_id", "group_id"],
        ["participants.id", "participants.group_id"],
        name="fk_participant_status_member",
    ),
    ForeignKeyConstraint(
        ["into_participant_id", "group_id"],
        ["participants.id", "participants.group_id"],
        name="fk_participant_status_into",
    ),
    CheckConstraint(
        "action IN (" + ", ".join(f"'{a}'" for a in STATUS_ACTIONS) + ")", name="action_known"
    ),
    CheckConstraint(
        "(action = 'merged' AND into_participant_id IS NOT NULL "
        "AND into_participant_id <> participant_id) "
        "OR (action <> 'merged' AND into_participant_id IS NULL)",
        name="merged_names_another_member",
    ),
    Index(None, "group_id", "participant_id", "id"),
)


def _create_all(conn: Connection) -> None:
    """Version 1: create every table."""
    METADATA.create_all(conn, checkfirst=True)


def _add_participant_status(conn: Connection) -> None:
    """Version 2: the append-only record of members removed, merged or restored.

    Adds a table and touches no existing row: every group, member and revision stays.
    """
    participant_status.create(conn, checkfirst=True)


# Ordered (version, step) pairs. A fresh database gets the current tables from METADATA in
# one go and is stamped with the newest version; the steps after 1 run only on databases
# written by an older Cruxboard. To change a table: edit it above AND append a step here.
MIGRATIONS: tuple[tuple[int, Callable[[Connection], None]], ...] = (
    (1, _create_all),
    (2, _add_participant_status),
)

SCHEMA_VERSION = MIGRATIONS[-1][0]
"""Schema version this code writes."""


def migrate(conn: Connection) -> int:
    """Create or migrate the schema to `SCHEMA_VERSION` on `conn`.

    The caller holds a transaction that excludes every other migrator (SQLite: ``BEGIN
    IMMEDIATE``; PostgreSQL: an advisory lock), so two processes starting at once run
    this one after the other and the second finds nothing to do.

    Parameters
    ----------
    conn : sqlalchemy.Connection
        A connection inside that transaction.

    Returns
    -------
    int
        The version found before migrating (0 for a fresh database).

    Raises
    ------
    SchemaError
        If the database is newer than this code, or has tables of the same names that
        Cruxboard did not create.
    """
    existing = set(inspect(conn).get_table_names())
    found = 0
    if schema_version.name in existing:
        found = conn.scalar(select(func.max(schema_version.c.version))) or 0
    if found > SCHEMA_VERSION:
        raise SchemaError(
            f"the database schema is version {found}, newer than this Cruxboard knows "
            f"({SCHEMA_VERSION}); upgrade Cruxboard to open it"
        )
    now = dt.datetime.now(dt.UTC)
    if found == 0:
        foreign = sorted(existing & set(METADATA.tables))
        if foreign:
            raise SchemaError(
                f"the database already has table(s) {', '.join(foreign)} that Cruxboard did "
                "not create; point it at an empty database, or give it its own PostgreSQL schema "
                "(CREATE SCHEMA cruxboard, then add ?options=-csearch_path%3Dcruxboard to the URL)"
            )
        _create_all(conn)
        conn.execute(insert(schema_version).values(version=SCHEMA_VERSION, applied_at=now))
        return found
    for version, step in MIGRATIONS:
        if version > found:
            step(conn)
            conn.execute(insert(schema_version).values(version=version, applied_at=now))
    return found
