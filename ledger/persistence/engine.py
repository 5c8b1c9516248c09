"""Building database engines and transactions: the only place that creates engines."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy.exc as sa_exc
from eventsourcing import persistence as es
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url

DEFAULT_DB_URL = "sqlite:///seatledger.db"

WRITE_OPTION = "seatledger_write"
"""Execution option that makes a SQLite transaction start with BEGIN IMMEDIATE."""

_SQLITE_DRIVERS = {"sqlite", "sqlite+pysqlite"}
_POSTGRES_DRIVERS = {"postgres", "postgresql", "postgresql+psycopg"}
_SQLITE_PRAGMAS = (
    # busy_timeout first, so that switching to WAL waits for other connections.
    "PRAGMA busy_timeout=30000",
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
)

_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


class DatabaseURLError(ValueError):
    """The database URL names a database this ledger cannot use."""


def normalize_url(url: str) -> str:
    """Return the canonical SQLAlchemy URL for a SQLite path or a PostgreSQL URL."""
    text = url.strip()
    if not text:
        raise DatabaseURLError("The database URL is empty: give a file path or a URL.")
    if "://" not in text:
        return "sqlite:///" + text
    try:
        parsed = make_url(text)
    except sa_exc.ArgumentError:
        msg = f"Cannot parse the database URL {mask_url(text)!r}."
        raise DatabaseURLError(msg) from None
    if parsed.drivername in _SQLITE_DRIVERS:
        if parsed.database in (None, "", ":memory:") or parsed.host:
            msg = (
                f"SQLite URL {mask_url(text)!r} names no database file: "
                "use sqlite:///relative/path.db or sqlite:////absolute/path.db."
            )
            raise DatabaseURLError(msg)
        return _render(parsed.set(drivername="sqlite"))
    if parsed.drivername in _POSTGRES_DRIVERS:
        return _render(parsed.set(drivername="postgresql+psycopg"))
    msg = (
        f"Unsupported database URL {mask_url(text)!r}: use a SQLite file path or URL "
        "(sqlite:///path.db) or a PostgreSQL URL (postgresql://user@host/dbname)."
    )
    raise DatabaseURLError(msg)


def _render(url: URL) -> str:
    return url.render_as_string(hide_password=False)


_USERINFO = re.compile(r"(://[^:/@\s]*:)[^@\s]*@")
_PASSWORD_PARAM = re.compile(r"(\bpassword=)[^&\s]*", re.IGNORECASE)


def _scrub(text: str) -> str:
    """Replace anything that looks like a password in free text with ***."""
    return _PASSWORD_PARAM.sub(r"\1***", _USERINFO.sub(r"\1***@", text))


def mask_url(url: str) -> str:
    """Return the URL with any password replaced by ***."""
    try:
        parsed = make_url(url)
    except sa_exc.ArgumentError:
        return _scrub(url)
    if "password" in parsed.query:
        parsed = parsed.update_query_dict({"password": "***"})
    # render_as_string percent-encodes the query; scrub covers what it leaves.
    return _scrub(parsed.render_as_string(hide_password=True))


def get_engine(url: str) -> Engine:
    """Return the engine for the URL, building it on first use."""
    key = normalize_url(url)
    with _engines_lock:
        engine = _engines.get(key)
        if engine is None:
            engine = _build_engine(key)
            _engines[key] = engine
        return engine


def dispose_engines() -> None:
    """Close every cached engine's connections and forget the engines."""
    with _engines_lock:
        engines = list(_engines.values())
        _engines.clear()
    for engine in engines:
        engine.dispose()


def _build_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(parsed)
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    connect_args: dict[str, Any] = {}
    if "connect_timeout" not in parsed.query:
        connect_args["connect_timeout"] = 10
    return create_engine(parsed, pool_pre_ping=True, connect_args=connect_args)


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Take transaction control away from pysqlite so that the "begin" listener
    # decides how each transaction starts (SQLAlchemy's documented recipe).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        for pragma in _SQLITE_PRAGMAS:
            cursor.execute(pragma)
    finally:
        cursor.close()


def _sqlite_on_begin(conn: Connection) -> None:
    # A writer takes the write lock up front: a deferred transaction that reads
    # and then writes can fail with "database is locked" instead of waiting.
    if conn.get_execution_options().get(WRITE_OPTION):
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.exec_driver_sql("BEGIN")


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """Yield a connection in a write transaction: committed on success, else rolled back."""
    with translate_db_errors(), engine.connect() as conn:
        conn.execution_options(**{WRITE_OPTION: True})
        with conn.begin():
            yield conn


@contextmanager
def read_transaction(engine: Engine) -> Iterator[Connection]:
    """Yield a connection in a read transaction that sees one consistent snapshot."""
    with translate_db_errors(), engine.connect() as conn, conn.begin():
        yield conn


_ERROR_MAP: tuple[tuple[type[Exception], type[es.PersistenceError]], ...] = (
    (sa_exc.IntegrityError, es.IntegrityError),
    (sa_exc.OperationalError, es.OperationalError),
    (sa_exc.DataError, es.DataError),
    (sa_exc.ProgrammingError, es.ProgrammingError),
    (sa_exc.InternalError, es.InternalError),
    (sa_exc.NotSupportedError, es.NotSupportedError),
    (sa_exc.InterfaceError, es.InterfaceError),
    (sa_exc.DatabaseError, es.DatabaseError),
    (sa_exc.TimeoutError, es.OperationalError),
    (sa_exc.DBAPIError, es.PersistenceError),
)


@contextmanager
def translate_db_errors() -> Iterator[None]:
    """Turn SQLAlchemy errors into eventsourcing.persistence errors, passwords masked."""
    try:
        yield
    except sa_exc.SQLAlchemyError as error:
        target = next((t for s, t in _ERROR_MAP if isinstance(error, s)), None)
        if target is None:
            raise
        original = getattr(error, "orig", None)
        raw = str(original if original is not None else error)
        message = _scrub(raw)
        if message != raw:
            # The original text held a secret: do not chain it.
            raise target(message) from None
        raise target(message) from error


def forget_engines() -> None:
    """In a forked child: forget the parent's engines without closing their connections
    (they are the parent's to close); the next `get_engine` builds the child's own."""
    global _engines_lock
    _engines_lock = threading.Lock()  # another thread of the parent may have held it
    _engines.clear()
