"""The project's one error family: every error Cruxboard raises on purpose is one of these.

Pages and the command line catch `CruxboardError` (or one of its kinds), never a bare
`ValueError`. Each kind that is bad input is also a `ValueError`, as it was before the
family existed, so callers that catch `ValueError` keep working.
"""


class CruxboardError(Exception):
    """Base of every error Cruxboard raises on purpose; its message says how to fix it."""


class BadInputError(CruxboardError, ValueError):
    """A value given to Cruxboard (a form, a file, an option) cannot be used as it is."""


class ResponseError(BadInputError):
    """A response (or a file of them) failed validation; the message says how to fix it."""


class EvidenceError(BadInputError):
    """An evidence document (TOML or its parsed form) cannot be used; the message says why."""


class ImportFileError(BadInputError):
    """A whole-group file cannot be imported; nothing was written."""


class StoreError(CruxboardError, RuntimeError):
    """A problem with the database itself (not with the values passed in)."""
