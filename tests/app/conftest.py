"""Shared fixtures of the page tests."""

from __future__ import annotations

import pytest
from sqlalchemy import URL

from store import Store


@pytest.fixture
def db(monkeypatch, tmp_path):
    """A fresh SQLite file for the app (via CRUXBOARD_DB) and a Store on it for the test."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    path = tmp_path / "t.db"
    monkeypatch.setenv("CRUXBOARD_DB", str(path))
    monkeypatch.setenv("CRUXBOARD_DRAWS", "100")
    with Store(URL.create("sqlite", database=str(path)).render_as_string()) as store:
        store.path = path  # for tests that read the SQLite file itself
        yield store
