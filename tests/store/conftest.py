"""Fixtures for the store tests: a fresh database per test on SQLite and PostgreSQL."""

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import URL, create_engine, make_url, text

from store import Store

_PG_URL = os.environ.get("TEST_DATABASE_URL") or None
# A skip, except under CRUXBOARD_REQUIRE_ALL=1 (CI), where tests/conftest.py makes it a failure.
_PG_SKIP = "TEST_DATABASE_URL not set (scripts/test.sh starts a throwaway PostgreSQL)"


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param(
            "postgres",
            marks=[pytest.mark.postgres, pytest.mark.skipif(_PG_URL is None, reason=_PG_SKIP)],
        ),
    ]
)
def store_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """URL of an empty database: a SQLite file, or a PostgreSQL schema of its own."""
    if request.param == "sqlite":
        yield URL.create("sqlite", database=str(tmp_path / "cruxboard.db")).render_as_string()
        return
    # Each test gets its own schema (via search_path), dropped afterwards, so tests never
    # see each other's tables or rows.
    schema = f"store_test_{uuid.uuid4().hex[:16]}"
    admin = create_engine(_PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(_PG_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    with Store(store_url) as opened:
        yield opened


@pytest.fixture
def raw_rows(store_url: str):
    """Read every row of a table straight from the database, bypassing the Store."""

    def read(table: str) -> list[dict]:
        engine = create_engine(store_url)
        try:
            with engine.connect() as conn:
                return [dict(row._mapping) for row in conn.execute(text(f"SELECT * FROM {table}"))]
        finally:
            engine.dispose()

    return read


@pytest.fixture
def report(record_property, capsys, store_url, request):
    """Print a line of numbers (visible without -s) and record them for the junit report.

    The line starts with the test module's topic ("load" for test_load.py) and the backend.
    """
    topic = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
    backend = "sqlite" if store_url.startswith("sqlite") else "postgresql"

    def emit(what: str, **numbers) -> None:
        for key, value in numbers.items():
            record_property(key, value)
        with capsys.disabled():
            shown = " ".join(f"{k}={v}" for k, v in numbers.items())
            print(f"\n[{topic}] {backend} {what}: {shown}")

    return emit
