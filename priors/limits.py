"""Every size limit Cruxboard enforces, in one place; the store, the model and the pages read them.

A value over a limit is refused with a message naming the limit; nothing is written.
"""

MAX_GROUP_NAME_CHARS = 200
"""Longest group name, in characters."""

MAX_NAME_CHARS = 200
"""Longest participant display name (or pseudonym), in characters."""

MAX_RATIONALE_CHARS = 1_000_000
"""Longest rationale in a file or an import, in characters."""

MAX_FORM_RATIONALE_CHARS = 20_000
"""Longest rationale typed into the form (far below the payload limit, so a save cannot fail
on size)."""

MAX_PARTICIPANTS = 20_000
"""Most responses in one file."""

MAX_FILE_BYTES = 50_000_000
"""Largest responses file (CSV or JSON) the command line reads, in bytes."""

MAX_IMPORT_BYTES = 200 * 1024 * 1024
"""Largest whole-group file the Start page imports, in bytes (200 MB)."""

MAX_EVIDENCE_BYTES = 200_000
"""Largest evidence document (TOML) the loader reads, in bytes of UTF-8."""

MAX_EVIDENCE_ITEMS = 20
"""Most evidence items in one document."""

MAX_EVIDENCE_CHARS = 1_000_000
"""Largest evidence text the store keeps, in characters (the loader's byte limit binds first)."""

MAX_ROUNDS = 1000
"""Most rounds a group can have (a Delphi exercise has a few); keeps rounds in any SQL INTEGER."""

MAX_PAYLOAD_BYTES = 2 * 1024 * 1024
"""Largest revision payload, in bytes of UTF-8 JSON (2 MiB: room for a ~1 MB rationale)."""
