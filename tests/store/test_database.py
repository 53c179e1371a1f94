"""Tests of the database under the Store: transactions, schema, concurrency, SQLite files.

A failed write leaves nothing; the schema is created once however many Stores open a fresh
database at the same moment, and a newer schema or foreign tables are refused; threads and
processes write concurrently without losing an answer. On SQLite: WAL mode and foreign
keys, and a damaged file or a failed integrity check refused with what to do. Where the
database is: cruxboard.db in the current folder unless a URL is given, never read from the
environment; the store imports only the standard library, SQLAlchemy and the shared limits.
"""

import datetime as dt
import sqlite3
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import insert

import store as store_pkg
from store import SCHEMA_VERSION, CorruptDatabaseError, SchemaError, Store
from store.engine import resolve_url
from store.schema import groups
from tests.store.helpers import sqlite_url

# -- transactions, schema, concurrency ------------------------------------------------------


def test_failed_write_leaves_nothing(store):
    """A write transaction that fails halfway is rolled back whole (the plumbing works)."""
    now = dt.datetime.now(dt.UTC)
    with pytest.raises(RuntimeError, match="halfway"):
        with store._transaction(write=True) as conn:
            conn.execute(
                insert(groups).values(
                    id="halfway",
                    name="n",
                    evidence="",
                    current_round=1,
                    facilitator_token_hash="0" * 64,
                    created_at=now,
                )
            )
            raise RuntimeError("halfway")
    assert store.get_group("halfway") is None


def test_schema_creation_is_idempotent(store_url, raw_rows):
    with Store(store_url) as first, Store(store_url) as second:
        group, token = first.create_group("g", evidence="")
        assert second.get_group(group.id) == group
        assert second.is_facilitator(group.id, token)
    with Store(store_url) as third:
        assert third.get_group(group.id) == group
    versions = raw_rows("schema_version")
    assert [row["version"] for row in versions] == [SCHEMA_VERSION]


def test_newer_schema_is_refused(store_url):
    with Store(store_url) as opened:
        with opened._transaction(write=True) as conn:
            from store.schema import schema_version

            conn.execute(
                insert(schema_version).values(
                    version=SCHEMA_VERSION + 1, applied_at=dt.datetime.now(dt.UTC)
                )
            )
    with pytest.raises(SchemaError, match="newer than this Cruxboard knows"):
        Store(store_url)


def test_foreign_tables_are_refused(store_url):
    from sqlalchemy import create_engine, text

    engine = create_engine(store_url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE groups (x INTEGER)"))
    engine.dispose()
    with pytest.raises(SchemaError, match="groups that Cruxboard did not create"):
        Store(store_url)


def test_threads_write_concurrently(store):
    group, _ = store.create_group("g", evidence="")
    people = [store.add_participant(group.id, f"p{i}")[0] for i in range(6)]

    def answer(participant):
        for i in range(5):
            store.add_revision(participant.id, round=1, payload={"i": i})

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(answer, people))
    assert store.count_answered(group.id, round=1) == 6
    for participant, revision in store.latest_revisions(group.id, round=1):
        assert revision.payload == {"i": 4}
        assert [r.payload["i"] for r in store.revisions(participant.id)] == list(range(5))


_WORKER = """
import sys
from store import Store

url, index = sys.argv[1], int(sys.argv[2])
with Store(url) as store:  # every worker creates the schema at the same moment
    group, _ = store.create_group(f"group {index}", evidence="")
    participant, _ = store.add_participant(group.id, f"worker {index}")
    for i in range(10):
        store.add_revision(participant.id, round=1, payload={"worker": index, "i": i})
"""


def test_processes_start_and_write_concurrently(store_url, raw_rows):
    """Several processes open one fresh database at once, then all write to it."""
    root = Path(store_pkg.__file__).parent.parent
    workers = [
        subprocess.Popen(
            [sys.executable, "-W", "error", "-c", _WORKER, store_url, str(i)],
            cwd=root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(4)
    ]
    for worker in workers:
        _, err = worker.communicate(timeout=60)
        assert worker.returncode == 0, err
    assert len(raw_rows("groups")) == 4
    assert len(raw_rows("revisions")) == 40
    assert len(raw_rows("schema_version")) == 1


# -- SQLite specifics ---------------------------------------------------------------------


@pytest.fixture
def sqlite_path(tmp_path) -> Path:
    return tmp_path / "cruxboard.db"


def test_sqlite_runs_in_wal_mode_with_foreign_keys(sqlite_path):
    with Store(sqlite_url(sqlite_path)) as opened:
        with opened._transaction() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
    with sqlite3.connect(sqlite_path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    raw.close()


def test_sqlite_file_that_is_not_a_database(sqlite_path):
    sqlite_path.write_bytes(b"this is not a database " * 500)
    with pytest.raises(CorruptDatabaseError, match="failed its integrity check.*not a database"):
        Store(sqlite_url(sqlite_path))


def _database_with_answers(path: Path) -> None:
    with Store(sqlite_url(path)) as opened:
        group, _ = opened.create_group("g", evidence="")
        for name in ("Ada", "Bob"):
            participant, _ = opened.add_participant(group.id, name)
            for k in range(10):
                opened.add_revision(participant.id, round=1, payload={"r": "y" * 3000, "k": k})


def test_sqlite_damaged_pages(sqlite_path):
    _database_with_answers(sqlite_path)
    with sqlite_path.open("r+b") as f:
        f.seek(3 * 4096)
        f.write(b"\xff" * 3 * 4096)
    with pytest.raises(CorruptDatabaseError, match="failed its integrity check.*malformed"):
        Store(sqlite_url(sqlite_path))


def test_sqlite_integrity_check_problems_are_reported(sqlite_path):
    """An index that disagrees with its table: the file opens but integrity_check is not ok."""
    _database_with_answers(sqlite_path)
    raw = sqlite3.connect(sqlite_path)
    raw.execute("PRAGMA writable_schema = ON")
    raw.execute(
        "UPDATE sqlite_master SET sql = replace(sql, '(participant_id, id)', "
        "'(id, participant_id)') WHERE name = 'ix_revisions_participant_id_id'"
    )
    raw.commit()
    raw.close()
    with pytest.raises(CorruptDatabaseError, match="missing from index.*Restore it from a backup"):
        Store(sqlite_url(sqlite_path))


def test_in_memory_and_missing_folder_are_refused(tmp_path):
    with pytest.raises(ValueError, match="in-memory SQLite database is not supported"):
        Store("sqlite://")
    with pytest.raises(ValueError, match="in-memory SQLite database is not supported"):
        Store("sqlite:///:memory:")
    with pytest.raises(ValueError, match="does not exist; create it"):
        Store(sqlite_url(tmp_path / "missing" / "x.db"))


# -- where the database is ----------------------------------------------------------------


def test_default_is_cruxboard_db_in_current_folder_whatever_the_environment(tmp_path, monkeypatch):
    # The app reads DATABASE_URL / CRUXBOARD_DB (app_pages.settings); the store never does.
    monkeypatch.setenv("DATABASE_URL", sqlite_url(tmp_path / "env.db"))
    monkeypatch.setenv("CRUXBOARD_DB", str(tmp_path / "file.db"))
    monkeypatch.chdir(tmp_path)
    with Store() as opened:
        assert opened.url == sqlite_url(tmp_path / "cruxboard.db")
        opened.create_group("g", evidence="")
    assert (tmp_path / "cruxboard.db").exists()
    with Store(sqlite_url(tmp_path / "explicit.db")) as opened:
        assert opened.url.endswith("explicit.db")
    assert not (tmp_path / "env.db").exists() and not (tmp_path / "file.db").exists()


def test_no_store_module_reads_the_environment():
    for path in Path(store_pkg.__file__).parent.glob("*.py"):
        source = path.read_text(encoding="utf-8")
        for reader in ("os.environ", "getenv", "from os import"):
            assert reader not in source, f"{path.name} uses {reader}"


def test_postgres_urls_use_psycopg_and_hide_passwords():
    url = resolve_url("postgresql://me:secret@db.example:5432/crux")
    assert url.drivername == "postgresql+psycopg"
    assert resolve_url("postgres://me@db/crux").drivername == "postgresql+psycopg"
    assert "secret" not in url.render_as_string(hide_password=True)


def test_store_imports_only_the_standard_library_sqlalchemy_and_the_shared_limits():
    code = (
        "import sys, store\n"
        "banned = {'pymc', 'pytensor', 'arviz', 'numpy', 'pydantic', 'streamlit', 'model',"
        " 'priors.loader'}\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in banned or m in banned))"
    )
    root = Path(store_pkg.__file__).parent.parent
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
