"""The database as Cruxboard wrote it at schema version 1, frozen, to test migrations from it.

A copy of `store/schema.py` as of version 1 (groups, participants, revisions, and the
schema_version stamp), written out so that later changes to the real tables cannot change
what "a version 1 database" is. Times are stored as that code stored them: naive UTC on
SQLite, ``timestamptz`` on PostgreSQL.
"""

import datetime as dt

from sqlalchemy import (
    CheckConstraint,
    Column,
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
)
from sqlalchemy.types import TypeDecorator


class _UTC(TypeDecorator[dt.datetime]):
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect):
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value


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
    Column("applied_at", _UTC, nullable=False),
)
groups = Table(
    "groups",
    METADATA,
    Column("id", String(32), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("evidence", Text, nullable=False),
    Column("current_round", Integer, nullable=False),
    Column("facilitator_token_hash", String(64), nullable=False),
    Column("created_at", _UTC, nullable=False),
    CheckConstraint("current_round >= 1", name="current_round_positive"),
)
participants = Table(
    "participants",
    METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("group_id", String(32), ForeignKey("groups.id"), nullable=False, index=True),
    Column("display_name", String(200), nullable=False),
    Column("edit_token_hash", String(64), nullable=False, unique=True),
    Column("created_at", _UTC, nullable=False),
    UniqueConstraint("id", "group_id"),
)
revisions = Table(
    "revisions",
    METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("participant_id", Integer, nullable=False),
    Column("group_id", String(32), nullable=False),
    Column("round", Integer, nullable=False),
    Column("payload", Text, nullable=False),
    Column("created_at", _UTC, nullable=False),
    ForeignKeyConstraint(
        ["participant_id", "group_id"], ["participants.id", "participants.group_id"]
    ),
    CheckConstraint("round >= 1", name="round_positive"),
    Index(None, "group_id", "round", "participant_id", "id"),
    Index(None, "participant_id", "id"),
)
