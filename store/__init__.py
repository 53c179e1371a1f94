"""Persistence (SQLAlchemy) for groups, participants and response revisions.

May import only the standard library, SQLAlchemy and `priors.limits` / `priors.errors`
(never NumPy, pydantic, PyMC, Streamlit, the model or a page), and reads no environment
variable: the caller passes the database URL.

One concern per module: `records` (what the store hands out), `schema` (tables and
migrations), `engine` (URL, SQLite set-up, corruption check, transactions), `tokens`,
`checks` (values passed in), `status` (members removed or merged, and the rules for it),
`groupfile` (the whole-group JSON file), `errors`, and `repository` (the `Store` itself).
"""

from priors.errors import StoreError
from priors.limits import MAX_EVIDENCE_CHARS, MAX_GROUP_NAME_CHARS, MAX_PAYLOAD_BYTES, MAX_ROUNDS
from priors.limits import MAX_NAME_CHARS as MAX_DISPLAY_NAME_CHARS
from store.engine import BUSY_TIMEOUT_SECONDS
from store.errors import CorruptDatabaseError, DuplicateRevisionError, NotFoundError, SchemaError
from store.groupfile import EXPORT_FORMAT, EXPORT_VERSION, export_json, parse_export_json
from store.records import Group, ImportedGroup, Participant, Revision, StatusChange
from store.repository import Store
from store.schema import SCHEMA_VERSION

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
    "DuplicateRevisionError",
    "Group",
    "ImportedGroup",
    "NotFoundError",
    "Participant",
    "Revision",
    "SchemaError",
    "StatusChange",
    "Store",
    "StoreError",
    "export_json",
    "parse_export_json",
]
