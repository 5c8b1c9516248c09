"""What the recorders share: the engine and tables they use, and reading stored events."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from operator import attrgetter
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Table,
    Uuid,
    any_,
    bindparam,
    insert,
    select,
)
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import postgresql

from ledger.persistence.chain import as_uuid, by_value
from ledger.persistence.engine import read_transaction
from ledger.persistence.schema import TABLES, LedgerTables

_VALUE = attrgetter("int")

SQLITE_CHUNK = 900
"""Most values bound in one SQLite IN (...) list (old SQLite allows 999 variables)."""

POSTGRES_CHUNK = 10_000
"""Most values bound in one PostgreSQL array parameter."""

_T = TypeVar("_T")


class SqlRecorderBase:
    """Holds the engine and the tables that a recorder reads and writes."""

    def __init__(self, engine: Engine, tables: LedgerTables = TABLES) -> None:
        self.engine = engine
        self.tables = tables


def insert_many(
    conn: Connection, table: Table, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    """INSERT rows (tuples of `columns`) with one driver-level executemany.

    The statement and the values are those `conn.execute(insert(table), dicts)` would
    send (each value through its column type's bind processor), without SQLAlchemy's
    per-row parameter handling, which costs as much as the insert itself. Driver
    errors still come out as SQLAlchemy's, so callers translate them as before.
    """
    if not rows:
        return
    dialect = conn.dialect
    marker = {"qmark": "?", "format": "%s", "pyformat": "%s"}.get(dialect.paramstyle)
    if marker is None:
        conn.execute(insert(table), [dict(zip(columns, row, strict=True)) for row in rows])
        return
    quote = dialect.identifier_preparer.quote
    processors = [
        (i, processor, isinstance(table.c[name].type, Uuid))
        for i, name in enumerate(columns)
        if (processor := table.c[name].type.dialect_impl(dialect).bind_processor(dialect))
    ]
    if processors:
        # Column by column, with map: the per-row Python loop cost as much as the insert.
        values = list(zip(*rows, strict=True))
        for i, processor, repeated in processors:
            if repeated and all(type(value) is UUID for value in values[i]):
                # Aggregate ids: a batch has few distinct ones, each converted once
                # (keyed by value: a UUID's own hash and equality are Python code).
                keys = list(map(_VALUE, values[i]))
                converted = {k: processor(v) for k, v in by_value(values[i]).items()}
                values[i] = tuple(map(converted.__getitem__, keys))
            else:
                values[i] = tuple(map(processor, values[i]))
        rows = list(zip(*values, strict=True))
    names = ", ".join(quote(c) for c in columns)
    if dialect.name == "postgresql" and dialect.driver == "psycopg":
        _copy(conn, f"COPY {quote(table.name)} ({names}) FROM STDIN", rows)
        return
    statement = (
        f"INSERT INTO {quote(table.name)} ({names}) VALUES ({', '.join([marker] * len(columns))})"
    )
    conn.exec_driver_sql(statement, rows)


def _copy(conn: Connection, statement: str, rows: list[tuple[Any, ...]]) -> None:
    # COPY, in the caller's transaction: psycopg's pipelined executemany spends
    # ~35 us of Python per row; COPY ~8 (and needs only the INSERT privilege).
    dbapi = conn.dialect.loaded_dbapi
    raw: Any = conn.connection.dbapi_connection  # a psycopg.Connection
    try:
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
    except dbapi.Error as error:
        # As SQLAlchemy reports a driver error, so callers translate it as before.
        raise sa_exc.DBAPIError.instance(statement, None, error, dbapi.Error) from error


def chunks(items: Sequence[_T], size: int) -> Iterator[Sequence[_T]]:
    """Yield consecutive slices of at most `size` items."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def in_parameter(
    column: ColumnElement[Any], name: str, dialect: str
) -> tuple[ColumnElement[bool], int]:
    """`column IN :name`, the list bound at execution, and the most values one list may hold."""
    if dialect == "postgresql":
        array = bindparam(name, type_=postgresql.ARRAY(column.type))
        return column == any_(array), POSTGRES_CHUNK
    return column.in_(bindparam(name, expanding=True)), SQLITE_CHUNK


def where_in(
    conn: Connection, column: ColumnElement[Any], values: Sequence[Any]
) -> Iterator[ColumnElement[bool]]:
    """Yield conditions `column IN values`, one per chunk of values."""
    # PostgreSQL gets one array parameter (= ANY(:values)) per chunk: psycopg
    # parses a query with thousands of placeholders slowly.
    size = POSTGRES_CHUNK if conn.dialect.name == "postgresql" else SQLITE_CHUNK
    for chunk in chunks(values, size):
        yield is_in(conn, column, chunk)


def is_in(
    conn: Connection, column: ColumnElement[Any], values: Sequence[Any]
) -> ColumnElement[bool]:
    """`column IN values`, for at most SQLITE_CHUNK values (PostgreSQL: POSTGRES_CHUNK)."""
    if conn.dialect.name == "postgresql":
        array_type = postgresql.ARRAY(column.type)
        return column == any_(bindparam(None, list(values), type_=array_type))
    return column.in_(values)


def select_stored_events(
    engine: Engine,
    table: Table,
    originator_id: UUID | str,
    *,
    gt: int | None,
    lte: int | None,
    desc: bool,
    limit: int | None,
    conn: Connection | None = None,
) -> list[StoredEvent]:
    """Return one aggregate's rows of an events-shaped table as plain StoredEvent objects
    (in a read transaction of their own, or in `conn`'s)."""
    version = table.c.originator_version
    query = select(table.c.originator_id, version, table.c.topic, table.c.state).where(
        table.c.originator_id == as_uuid(originator_id)
    )
    if gt is not None:
        query = query.where(version > gt)
    if lte is not None:
        query = query.where(version <= lte)
    query = query.order_by(version.desc() if desc else version.asc())
    if limit is not None:
        query = query.limit(limit)
    rows: Sequence[Any]
    if conn is not None:
        rows = conn.execute(query).all()
    else:
        with read_transaction(engine) as own:
            rows = own.execute(query).all()
    return [StoredEvent(row[0], int(row[1]), row[2], bytes(row[3])) for row in rows]


def binary_rows(conn: Connection, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """Rows of a query run on PostgreSQL's driver cursor in binary (bytea as bytes, not
    hex); a driver error comes out as SQLAlchemy's, to be translated as every other."""
    driver = conn.connection.driver_connection
    assert driver is not None
    error = conn.dialect.loaded_dbapi.Error
    try:
        with driver.cursor(binary=True) as cursor:
            cursor.execute(sql, params)
            return list(cursor.fetchall())
    except error as orig:
        raise sa_exc.DBAPIError.instance(sql, params, orig, error) from orig
