"""The store's errors: a database it cannot use, or a group or participant that is not there.

Each is a `priors.errors.StoreError` (so a `CruxboardError`). A bad value passed in is a
`priors.errors.BadInputError`, a refused whole-group file an `ImportFileError`; both are
`ValueError`s.
"""

from priors.errors import BadInputError, StoreError


class CorruptDatabaseError(StoreError):
    """The SQLite file failed ``PRAGMA integrity_check`` (or is not a database at all)."""


class NotFoundError(StoreError, LookupError):
    """No group or participant has the given id."""


class SchemaError(StoreError):
    """The database holds a schema this code cannot use (newer, or not Cruxboard's)."""


class DuplicateRevisionError(BadInputError):
    """The answer equals the participant's newest one in the same round: it is already saved.

    A second click on Submit, or a form sent twice, is refused instead of stored again.
    """
