"""The app's settings: the only place that reads environment variables.

- ``DATABASE_URL``: an SQLAlchemy URL (e.g. PostgreSQL); else
- ``CRUXBOARD_DB``: the SQLite file (default ``./cruxboard.db``);
- ``CRUXBOARD_DRAWS``: posterior draws per chain (tests and benchmarks make it small).
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import URL

from model.sampling import DEFAULT_DRAWS

MIN_DRAWS = 10


def database_url() -> str:
    """What the app's Store opens: DATABASE_URL, else the SQLite file's absolute URL."""
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    path = Path(os.environ.get("CRUXBOARD_DB") or "cruxboard.db").expanduser().absolute()
    # URL.create escapes what a file name may hold (a "?" would otherwise start a query)
    return URL.create("sqlite", database=str(path)).render_as_string()


def draws() -> int:
    """Draws (and tuning steps) per chain: CRUXBOARD_DRAWS, default as the command line."""
    text = os.environ.get("CRUXBOARD_DRAWS", "")
    try:
        value = int(text) if text.strip() else DEFAULT_DRAWS
    except ValueError:
        value = DEFAULT_DRAWS
    return max(value, MIN_DRAWS)
