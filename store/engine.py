"""The database connection: URL, SQLite pragmas and locks, corruption check, schema on opening.

Reads no environment variable: the caller passes the URL (the app builds it in
`app_pages.settings`).
"""

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import URL, Connection, Engine, create_engine, event, func, make_url, select
from sqlalchemy.exc import DBAPIError

from priors.errors import BadInputError
from store import schema
from store.errors import CorruptDatabaseError

BUSY_TIMEOUT_SECONDS = 30.0
"""How long a SQLite writer waits for another process's write to finish before failing."""

DEFAULT_SQLITE_FILE = "cruxboard.db"
"""The SQLite file, in the current folder, that `Store()` opens when given no URL."""

_WRITE_OPTION = "cruxboard_write"  # execution option: a SQLite write starts BEGIN IMMEDIATE
_PG_MIGRATION_LOCK = 0x4352_5558_424F_4152  # "CRUXBOAR": advisory lock key for migrations


def resolve_url(url: str | None) -> URL:
    """The URL to open: `url`, or the SQLite file `DEFAULT_SQLITE_FILE` in the current folder.

    ``postgres://`` and ``postgresql://`` URLs get the psycopg driver (the one we ship).

    Raises
    ------
    BadInputError
        If the URL names an in-memory SQLite database or a file in a missing folder.
    """
    if url is None:
        parsed = URL.create("sqlite", database=str(Path(DEFAULT_SQLITE_FILE).absolute()))
    else:
        parsed = make_url(url)
    if parsed.drivername in ("postgres", "postgresql"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        _check_sqlite_location(parsed)
    return parsed


def open_engine(url: URL) -> Engine:
    """An engine on `url` whose database passed its integrity check and has the current schema.

    Raises
    ------
    CorruptDatabaseError
        If the SQLite file fails its integrity check.
    SchemaError
        If the database was written by a newer Cruxboard, or holds tables of the same names
        that Cruxboard did not create.
    """
    engine = _make_engine(url)
    try:
        if engine.dialect.name == "sqlite":
            _check_integrity(engine, url)
        with transaction(engine, write=True) as conn:
            if conn.dialect.name == "postgresql":
                # Two processes starting at once must not both create the tables.
                conn.execute(select(func.pg_advisory_xact_lock(_PG_MIGRATION_LOCK)))
            schema.migrate(conn)
    except BaseException:
        engine.dispose()
        raise
    return engine


@contextmanager
def transaction(engine: Engine, *, write: bool = False) -> Iterator[Connection]:
    """Yield a connection inside one transaction: committed on success, else rolled back.

    Pass ``write=True`` for a transaction that writes: on SQLite it then takes the write
    lock at its start (``BEGIN IMMEDIATE``), waiting up to `BUSY_TIMEOUT_SECONDS`.
    """
    with engine.connect() as conn:
        if write:
            conn.execution_options(**{_WRITE_OPTION: True})
        with conn.begin():
            yield conn


def _check_sqlite_location(url: URL) -> None:
    database = url.database or ""
    if database in ("", ":memory:") or url.query.get("mode") == "memory":
        raise BadInputError(
            "an in-memory SQLite database is not supported (each connection would see its own "
            "empty one); give a file, e.g. sqlite:///cruxboard.db"
        )
    if url.query.get("uri"):
        return
    folder = Path(database).parent
    if not folder.is_dir():
        raise BadInputError(
            f"the folder {folder} for the SQLite database does not exist; create it, or name "
            "a file in an existing folder"
        )


def _make_engine(url: URL) -> Engine:
    if url.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_SECONDS})
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connect(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    # Take BEGIN away from the sqlite3 module so that _sqlite_begin decides how each
    # transaction starts (SQLAlchemy's documented recipe).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")  # readers never block the writer
    finally:
        cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    # A transaction that starts deferred, reads, then writes fails at once with
    # SQLITE_BUSY if another process wrote meanwhile (the busy timeout does not apply).
    # IMMEDIATE takes the write lock first, waiting up to the busy timeout for it.
    write = conn.get_execution_options().get(_WRITE_OPTION, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def _check_integrity(engine: Engine, url: URL) -> None:
    """Raise CorruptDatabaseError unless SQLite's integrity check says "ok"."""
    try:
        with engine.connect() as conn:
            problems = conn.exec_driver_sql("PRAGMA integrity_check").scalars().all()
    except DBAPIError as exc:
        if not _is_sqlite_corruption(exc.orig):
            raise
        raise CorruptDatabaseError(_corrupt_message(url, str(exc.orig))) from exc
    if problems != ["ok"]:
        raise CorruptDatabaseError(_corrupt_message(url, "; ".join(map(str, problems[:5]))))


def _is_sqlite_corruption(error: BaseException | None) -> bool:
    name = getattr(error, "sqlite_errorname", "")
    return isinstance(error, sqlite3.DatabaseError) and name.startswith(
        ("SQLITE_CORRUPT", "SQLITE_NOTADB")
    )


def _corrupt_message(url: URL, detail: str) -> str:
    path = url.database
    return (
        f"the SQLite database {path} failed its integrity check ({detail}). Nothing was "
        "changed. Restore it from a backup, or move it aside so Cruxboard starts a new "
        f"one; `sqlite3 {path} .recover` may save some of its data."
    )
