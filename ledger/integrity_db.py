"""Reading the event log for verify and digest: one snapshot, keyset pages, raw driver rows."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, column, inspect, select, text
from sqlalchemy.engine import make_url

from ledger.domain.errors import NotFoundError
from ledger.persistence.base import where_in
from ledger.persistence.engine import get_engine, mask_url, normalize_url, translate_db_errors
from ledger.persistence.schema import TABLES

PAGE_SIZE = 5_000
"""Rows per keyset page: memory stays bounded however long the log is."""

EventRow = tuple[Any, int, int, str, bytes, str]
"""(originator id as the driver gives it, version, notification id, topic, state, hash)."""


@contextmanager
def ledger_snapshot(url: str) -> Iterator[Connection]:
    """Yield a read-only connection that sees one consistent state of the whole ledger."""
    normalized = normalize_url(url)
    parsed = make_url(normalized)
    if parsed.get_backend_name() == "sqlite" and not Path(str(parsed.database)).exists():
        # Connecting would create an empty file and report "nothing to verify".
        raise NotFoundError(f"no ledger at {mask_url(url)}: the file does not exist")
    with translate_db_errors(), get_engine(normalized).connect() as conn:
        if conn.dialect.name == "postgresql":
            # Pages are separate statements: REPEATABLE READ makes them (and the
            # digest's position) agree with each other while writers carry on.
            conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        with conn.begin():
            if not inspect(conn).has_table(TABLES.events.name):
                msg = f"no ledger at {mask_url(url)}: run `seatledger init` first"
                raise NotFoundError(msg)
            yield conn


def canonical_id(conn: Connection, raw: Any) -> str:
    """Return an originator id as the driver gives it in canonical form (lowercase, dashed)."""
    if conn.dialect.name == "postgresql":
        return str(raw)  # selected as uuid::text, which is already canonical
    return str(UUID(str(raw)))


def _table(conn: Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote(name)


def _id_column(conn: Connection, column: str) -> str:
    # PostgreSQL's uuid::text is canonical and cheaper than building UUID objects;
    # SQLite stores SQLAlchemy's 32-digit hex, which sorts the same way.
    return f"{column}::text" if conn.dialect.name == "postgresql" else column


def _id_param(conn: Connection) -> str:
    return "CAST(:oid AS uuid)" if conn.dialect.name == "postgresql" else ":oid"


def count_rows(conn: Connection, table: str) -> int:
    """Return the number of rows in one of the ledger's tables."""
    return int(conn.execute(text(f"SELECT count(*) FROM {_table(conn, table)}")).scalar_one())


def max_notification_id(conn: Connection) -> int:
    """Return the highest notification id in the log (0 when it is empty)."""
    query = text(f"SELECT max(notification_id) FROM {_table(conn, TABLES.events.name)}")
    return int(conn.execute(query).scalar_one() or 0)


def event_pages(conn: Connection, page_size: int | None = None) -> Iterator[Sequence[EventRow]]:
    """Yield the whole log in pages, ordered by aggregate, version and notification id."""
    # The notification id breaks ties, so that even duplicated versions (possible
    # only if someone dropped the unique constraint) are neither skipped nor repeated.
    head = (
        f"SELECT {_id_column(conn, 'e.originator_id')}, e.originator_version, "
        f"e.notification_id, e.topic, e.state, e.hash FROM {_table(conn, TABLES.events.name)} e "
    )
    # Qualified names: a bare originator_id would sort by the selected uuid::text.
    tail = " ORDER BY e.originator_id, e.originator_version, e.notification_id LIMIT :limit"
    first = text(head + tail)
    after = text(
        head + "WHERE (e.originator_id, e.originator_version, e.notification_id) > "
        f"({_id_param(conn)}, :version, :nid)" + tail
    )
    page_size = page_size or PAGE_SIZE
    rows: Sequence[Any] = conn.execute(first, {"limit": page_size}).fetchall()
    while rows:
        yield rows
        if len(rows) < page_size:
            return
        oid, version, nid = rows[-1][0], rows[-1][1], rows[-1][2]
        params = {"oid": oid, "version": version, "nid": nid, "limit": page_size}
        rows = conn.execute(after, params).fetchall()


def move_index_pages(conn: Connection, page_size: int | None = None) -> Iterator[Sequence[Any]]:
    """Yield (move id, originator id, version, notification id, state) per move-index row.

    The notification id and state are those of the event the row points at,
    or None when no event is there.
    """
    events, moves = _table(conn, TABLES.events.name), _table(conn, TABLES.moves.name)
    head = (
        f"SELECT m.move_id, {_id_column(conn, 'm.originator_id')}, m.originator_version, "
        f"e.notification_id, e.state FROM {moves} m LEFT JOIN {events} e "
        "ON e.originator_id = m.originator_id AND e.originator_version = m.originator_version "
    )
    tail = " ORDER BY m.move_id LIMIT :limit"
    page_size = page_size or PAGE_SIZE
    rows: Sequence[Any] = conn.execute(text(head + tail), {"limit": page_size}).fetchall()
    after = text(head + "WHERE m.move_id > :move_id" + tail)
    while rows:
        yield rows
        if len(rows) < page_size:
            return
        rows = conn.execute(after, {"move_id": rows[-1][0], "limit": page_size}).fetchall()


def head_pages(conn: Connection, page_size: int | None = None) -> Iterator[Sequence[Any]]:
    """Yield (originator id, head version, head hash) of every aggregate, by originator id."""
    table = _table(conn, TABLES.events.name)

    def query(where: str) -> str:
        return (
            f"SELECT {_id_column(conn, 'e.originator_id')}, e.originator_version, e.hash "
            f"FROM {table} e JOIN (SELECT originator_id, max(originator_version) AS version "
            f"FROM {table} {where} GROUP BY originator_id ORDER BY originator_id "
            "LIMIT :limit) h ON e.originator_id = h.originator_id "
            "AND e.originator_version = h.version "
            "ORDER BY e.originator_id, e.notification_id"
        )

    page_size = page_size or PAGE_SIZE
    rows: Sequence[Any] = conn.execute(text(query("")), {"limit": page_size}).fetchall()
    after = text(query(f"WHERE originator_id > {_id_param(conn)}"))
    while rows:
        yield rows
        if len({row[0] for row in rows}) < page_size:
            return
        rows = conn.execute(after, {"oid": rows[-1][0], "limit": page_size}).fetchall()


def first_events(conn: Connection, originator_ids: Sequence[str]) -> dict[str, Any]:
    """Return the stored state of version 1 of each named aggregate that still has one."""
    events = TABLES.events
    found: dict[str, Any] = {}
    uuids = [UUID(originator_id) for originator_id in originator_ids]
    for condition in where_in(conn, events.c.originator_id, uuids):
        # An untyped column: a state rewritten as TEXT must not trip a bytes conversion.
        query = select(events.c.originator_id, column("state")).where(
            condition, events.c.originator_version == 1
        )
        for originator_id, state in conn.execute(query):
            found[str(originator_id)] = state
    return found
