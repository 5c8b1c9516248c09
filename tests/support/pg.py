"""Finding a PostgreSQL server for the tests, and making a throwaway schema in it."""

from __future__ import annotations

import os
import secrets
import tempfile
import threading
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

from ledger.persistence.engine import get_engine, normalize_url

ENV_VAR = "SEATLEDGER_TEST_PG_URL"
LOCAL_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


class NoPostgresError(RuntimeError):
    """No PostgreSQL server could be found or started for the tests."""


_lock = threading.Lock()
_server_url: str | None = None
_failure: NoPostgresError | None = None
_pgserver: Any = None  # keeps the throwaway server alive until the session ends


def server_url() -> str:
    """Return a URL of a PostgreSQL server: $SEATLEDGER_TEST_PG_URL, local, or pgserver."""
    global _server_url, _failure
    with _lock:
        if _failure is not None:
            raise _failure
        if _server_url is None:
            try:
                _server_url = _discover()
            except NoPostgresError as error:
                _failure = error  # do not try to start a server again
                raise
        return _server_url


def _discover() -> str:
    configured = os.environ.get(ENV_VAR)
    if configured:
        return normalize_url(configured)
    if _accepts_connections(LOCAL_URL):
        return LOCAL_URL
    try:
        return _start_pgserver()
    except Exception as error:
        msg = (
            f"No PostgreSQL for the tests: set {ENV_VAR}, run a server that accepts "
            f"{LOCAL_URL}, or install pgserver (starting it failed: {error})"
        )
        raise NoPostgresError(msg) from error


def _accepts_connections(url: str) -> bool:
    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        with psycopg.connect(conninfo, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def _start_pgserver() -> str:
    global _pgserver
    import pgserver

    _pgserver = pgserver.get_server(
        tempfile.mkdtemp(prefix="seatledger-pg-"), cleanup_mode="delete"
    )
    return normalize_url(_pgserver.get_uri())


def create_test_schema(base_url: str) -> tuple[str, str]:
    """Create a fresh schema sl_<hex>; return its name and a URL whose search_path is it."""
    schema = f"sl_{secrets.token_hex(6)}"
    with get_engine(base_url).begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"})
    return schema, url.render_as_string(hide_password=False)


def drop_test_schema(base_url: str, schema: str) -> None:
    """Drop a schema made by create_test_schema, with everything in it."""
    with get_engine(base_url).begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
