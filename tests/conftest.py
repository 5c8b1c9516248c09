"""Database fixtures shared by the whole suite: one test body, SQLite and PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.persistence.engine import dispose_engines
from tests.support import pg
from tests.support.example import record_example

# Snapshots are sealed with a key kept outside the database; the suite (and the
# subprocesses it starts) use this one rather than make a key file in the home folder.
os.environ.setdefault("SEATLEDGER_SNAPSHOT_KEY", "the test suite's snapshot key")


@pytest.fixture(scope="session")
def pg_server_url() -> str:
    """URL of a PostgreSQL server: $SEATLEDGER_TEST_PG_URL, local, or a pgserver."""
    try:
        return pg.server_url()
    except pg.NoPostgresError as error:
        # Never skip: CI must run the PostgreSQL tests.
        pytest.fail(str(error), pytrace=False)


@pytest.fixture
def pg_url(pg_server_url: str) -> Iterator[str]:
    """URL of a fresh, empty schema of its own, dropped after the test."""
    schema, url = pg.create_test_schema(pg_server_url)
    try:
        yield url
    finally:
        dispose_engines()
        pg.drop_test_schema(pg_server_url, schema)
        dispose_engines()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> Iterator[str]:
    """URL of a SQLite database file of its own."""
    try:
        yield f"sqlite:///{tmp_path / 'seatledger.db'}"
    finally:
        dispose_engines()


@pytest.fixture(params=["sqlite", "postgres"], ids=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest) -> str:
    """URL of an empty database of its own, once on SQLite and once on PostgreSQL."""
    fixture = "sqlite_url" if request.param == "sqlite" else "pg_url"
    url: str = request.getfixturevalue(fixture)
    return url


@pytest.fixture
def example_ledger(db_url: str) -> str:
    """The bundled example (the INDIA bloc's 2024 talks) recorded into a fresh ledger."""
    return record_example(db_url)
