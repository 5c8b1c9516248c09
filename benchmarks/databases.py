"""Throwaway databases for the benchmarks: SQLite files, PostgreSQL schemas."""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from contextlib import suppress
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from ledger.persistence.engine import dispose_engines, get_engine, normalize_url

PG_ENV = "SEATLEDGER_BENCH_PG_URL"


class Databases:
    """Makes empty databases of one backend and removes them again."""

    def __init__(self, backend: str, workdir: Path, pg_server: str | None) -> None:
        self.backend = backend
        self.workdir = workdir
        self.pg_server = pg_server
        self.made: list[str] = []

    def fresh(self, label: str) -> str:
        """The URL of a new, empty database."""
        if self.backend == "sqlite":
            folder = Path(tempfile.mkdtemp(prefix=f"{label}-", dir=self.workdir))
            url = f"sqlite:///{folder / 'ledger.db'}"
        else:
            assert self.pg_server is not None
            schema = f"bench_{label.replace('-', '_')}_{secrets.token_hex(4)}"
            with get_engine(self.pg_server).begin() as conn:
                conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
            parsed = make_url(self.pg_server)
            url = parsed.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
                hide_password=False
            )
        self.made.append(url)
        return url

    def drop(self, url: str) -> None:
        """Remove a database made by `fresh`."""
        dispose_engines()
        if self.backend == "sqlite":
            path = make_url(url).database
            if path:
                shutil.rmtree(Path(path).parent, ignore_errors=True)
        else:
            assert self.pg_server is not None
            options = make_url(url).query.get("options", "")
            schema = str(options).split("search_path=", 1)[-1]
            with get_engine(self.pg_server).begin() as conn:
                conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            dispose_engines()
        with suppress(ValueError):
            self.made.remove(url)

    def drop_all(self) -> None:
        """Remove every database still around (after an error, say)."""
        for url in list(self.made):
            with suppress(Exception):
                self.drop(url)


BENCH_DATABASE = "seatledger_bench"


def postgres_server() -> tuple[str | None, str]:
    """A PostgreSQL URL ($SEATLEDGER_BENCH_PG_URL, else a database of our own), or why not."""
    configured = os.environ.get(PG_ENV)
    if configured:
        return normalize_url(configured), "from $" + PG_ENV
    try:
        from tests.support import pg  # the test suite's discovery: local server, else pgserver

        server = pg.server_url()
    except Exception as error:
        return None, f"no PostgreSQL server ({error})"
    return own_database(server), "a database of its own on the test suite's server"


def own_database(server: str) -> str:
    """A database just for the benchmarks, made if missing; else the server's own.

    The ledger serializes appends with an advisory lock, and advisory locks are per
    database: in the test suite's database, other people's test runs would queue with us.
    """
    try:
        engine = create_engine(server, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            exists = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": BENCH_DATABASE}
            ).scalar()
            if not exists:
                conn.exec_driver_sql(f'CREATE DATABASE "{BENCH_DATABASE}"')
        engine.dispose()
    except Exception:
        return server  # no right to create databases: share the server's
    return make_url(server).set(database=BENCH_DATABASE).render_as_string(hide_password=False)
