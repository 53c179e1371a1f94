"""Real-browser fixtures: a Streamlit server on 127.0.0.1 and Debian's Chromium."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.server import CHROMIUM, CHROMIUM_ARGS, streamlit_app

HERE = Path(__file__).parent


def pytest_collection_modifyitems(config, items):
    # Called with every collected item, not only this folder's: every test in this folder
    # is a browser test (marked e2e even if its module forgets), and skips without Chromium;
    # under CRUXBOARD_REQUIRE_ALL=1 that skip fails the run (tests/conftest.py).
    skip = pytest.mark.skip(reason=f"{CHROMIUM} missing: scripts/test.sh installs it")
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.e2e)
        if item.get_closest_marker("e2e") is not None and not Path(CHROMIUM).exists():
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
