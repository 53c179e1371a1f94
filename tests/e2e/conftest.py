"""Real-browser fixtures: a Streamlit server on 127.0.0.1 and Debian's Chromium."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.server import CHROMIUM, CHROMIUM_ARGS, streamlit_app


def pytest_collection_modifyitems(config, items):
    if not Path(CHROMIUM).exists():
        skip = pytest.mark.skip(reason=f"{CHROMIUM} missing: scripts/test.sh installs it")
        for item in items:
            if "e2e" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args():
    return {"executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def app_server(tmp_path_factory):
    """Start `streamlit run app.py` on a fresh SQLite file; yield (base URL, db path)."""
    db = tmp_path_factory.mktemp("e2e-db") / "cruxboard.db"
    log = tmp_path_factory.mktemp("e2e-log") / "streamlit.log"
    with streamlit_app(db, log_path=log, draws=200) as base:
        yield base, db
