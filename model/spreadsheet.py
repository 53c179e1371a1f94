"""Text cells a spreadsheet will not run as formulas, and the way back (CSV injection).

Excel and LibreOffice run a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula
(``=HYPERLINK(...)``), and a leading tab or carriage return can hide such a start; OWASP's
CSV-injection guidance lists these six characters. Every CSV the app or the command line
writes passes its text cells (names, rationales, links) through `escape_cell`, which puts
the usual apostrophe in front of such a cell; the reader undoes it with `unescape_cell`.

The pair is a bijection on all text: a cell that already starts with apostrophes followed by
a formula character (``'=x``) gets one more apostrophe, so ``unescape_cell(escape_cell(t))
== t`` for every `t`, and text that starts with an apostrophe otherwise (``'tis``) is left
alone both ways. Number cells are never passed through: a probability is written as the
number it is. Standard library only.
"""

from __future__ import annotations

import re

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""Characters that make a spreadsheet read a cell as a formula (OWASP, CSV injection)."""

_ESCAPE = "'"
# Text the reader would take for an escaped cell: apostrophes, then a formula character.
_ESCAPED = re.compile(r"'+[=+\-@\t\r]")
_NEEDS_ESCAPE = re.compile(r"'*[=+\-@\t\r]")


def escape_cell(text: str) -> str:
    """`text` with an apostrophe in front if a spreadsheet would run it as a formula.

    Also for text that starts with apostrophes and then a formula character, so that
    `unescape_cell` gives back exactly `text`.
    """
    return _ESCAPE + text if _NEEDS_ESCAPE.match(text) else text


def unescape_cell(text: str) -> str:
    """The text `escape_cell` was given: one leading apostrophe removed where it added one."""
    return text[1:] if _ESCAPED.match(text) else text


def is_safe_cell(text: str) -> bool:
    """True when a spreadsheet would show `text` as text, not run it as a formula."""
    return not text.startswith(FORMULA_START)
