"""Persistence (SQLAlchemy) for groups, participants and response revisions.

May import only the standard library, SQLAlchemy and `priors.limits` / `priors.errors`
(never PyMC, the model or a page).
"""

from store.db import (
    BUSY_TIMEOUT_SECONDS,
    EXPORT_FORMAT,
    EXPORT_VERSION,
    CorruptDatabaseError,
    Group,
    ImportedGroup,
    NotFoundError,
    Participant,
    Revision,
    Store,
    export_json,
    parse_export_json,
)
from store.schema import (
    MAX_DISPLAY_NAME_CHARS,
    MAX_EVIDENCE_CHARS,
    MAX_GROUP_NAME_CHARS,
    MAX_PAYLOAD_BYTES,
    MAX_ROUNDS,
    SCHEMA_VERSION,
    SchemaError,
    StoreError,
)

__all__ = [
    "BUSY_TIMEOUT_SECONDS",
    "EXPORT_FORMAT",
    "EXPORT_VERSION",
    "MAX_DISPLAY_NAME_CHARS",
    "MAX_EVIDENCE_CHARS",
    "MAX_GROUP_NAME_CHARS",
    "MAX_PAYLOAD_BYTES",
    "MAX_ROUNDS",
    "SCHEMA_VERSION",
    "CorruptDatabaseError",
    "Group",
    "ImportedGroup",
    "NotFoundError",
    "Participant",
    "Revision",
    "SchemaError",
    "Store",
    "StoreError",
    "export_json",
    "parse_export_json",
]
