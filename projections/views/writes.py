"""The row changes one page makes to the view tables, written together before the position.

Every view table is bitemporal on the recorded axis: a change closes the current row at K
(its `recorded_to`) and opens a new one from K. `TableChanges` keeps one table's changes;
a row opened and closed at the same instant was never visible and is dropped rather than
written. Rows are lists in column order, sent with one driver-level executemany per
statement (COPY on PostgreSQL): SQLAlchemy's per-row parameter handling costs more than
the inserts.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Final

from sqlalchemy import Connection, Table, delete, select, update
from sqlalchemy.exc import DBAPIError

from ledger.domain.folding import Moved
from ledger.persistence.base import insert_many
from ledger.persistence.schema import TABLES
from projections.views.derive import SplitRow, dumps
from projections.views.intervals import CurrentRow
from projections.views.seat_history import Change, SeatChanges
from projections.views.tables import (
    POSITION_NAME,
    VIEW_TABLES,
    moved,
    moves,
    position,
    seat_changes,
    splits,
)
from projections.views.timeaxis import END_OF_TIME

TablePart = tuple[list[list[Any]], list[tuple[Any, ...]], list[tuple[Any, ...]]]
"""One table's changes as plain lists (rows opened, closes, deletes): picklable."""

Shown = dict[str, tuple[str, str | None, int]]
"""Each move's current seats-moved row: its two texts and recorded_from, by move id."""


class TableChanges:
    """One view table's rows opened, closed and dropped in one page."""

    def __init__(self, table: Table, key: Sequence[str], recorded_to_at: int) -> None:
        self.table = table
        self.columns: Final = tuple(c.name for c in table.c)
        self.key = tuple(key)
        self.recorded_to_at = recorded_to_at  # where recorded_to sits in a row
        self.inserts: dict[tuple[Any, ...], list[Any]] = {}
        self.closes: list[tuple[Any, ...]] = []  # (recorded_to, *key)
        self.deletes: list[tuple[Any, ...]] = []

    def open(self, key: tuple[Any, ...], row: list[Any]) -> None:
        self.inserts[key] = row

    def close(self, key: tuple[Any, ...], recorded_from: int, at: int) -> None:
        """Close the row `key` (current since `recorded_from`) at K = `at`."""
        pending = self.inserts.get(key)
        if pending is not None:
            if recorded_from == at:
                del self.inserts[key]
            else:
                pending[self.recorded_to_at] = at
        elif recorded_from == at:
            self.deletes.append(key)
        else:
            self.closes.append((at, *key))

    def flush(self, conn: Connection) -> None:
        quote = conn.dialect.identifier_preparer.quote
        mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        where = " AND ".join(f"{quote(c)} = {mark}" for c in self.key)
        table = quote(self.table.name)
        if self.closes:
            conn.exec_driver_sql(
                f"UPDATE {table} SET {quote('recorded_to')} = {mark} WHERE {where}", self.closes
            )
        if self.deletes:
            conn.exec_driver_sql(f"DELETE FROM {table} WHERE {where}", self.deletes)
        if self.inserts:
            insert_rows(conn, self.table, self.columns, list(self.inserts.values()))
        self.inserts.clear()
        self.closes.clear()
        self.deletes.clear()

    def export(self) -> TablePart:
        """Hand over (and forget) the changes, for another process to write (`load`)."""
        part = (list(self.inserts.values()), self.closes, self.deletes)
        self.inserts, self.closes, self.deletes = {}, [], []
        return part

    def load(self, part: TablePart) -> None:
        """Take changes another process exported; to be flushed before any other change."""
        inserts, self.closes, self.deletes = part
        self.inserts = {(index,): row for index, row in enumerate(inserts)}


class MovedWrites(TableChanges):
    """The seats-moved rows of one page: opened (recorded_from = K) and closed at K."""

    def __init__(self) -> None:
        super().__init__(moved, ("move_id", "recorded_from"), recorded_to_at=2)

    def set(
        self, shown: Shown, negotiation: str | None, move_id: str, value: Moved | None, at: int
    ) -> None:
        """Make `value` (None: no seats moved) the move's seats moved from K = `at` on.

        `shown` holds each move's current row (its texts and recorded_from), kept up to date.
        """
        texts = None if value is None else moved_texts(value)
        current = shown.get(move_id)
        if (current[:2] if current is not None else None) == texts:
            return
        if current is not None:
            self.close((move_id, current[2]), current[2], at)
            del shown[move_id]
        if texts is not None:
            self.open((move_id, at), [move_id, at, END_OF_TIME, negotiation, *texts])
            shown[move_id] = (*texts, at)


def moved_texts(value: Moved) -> tuple[str, str | None]:
    """A move's seats moved as stored: the counts, and the named seats given (None: none)."""
    return dumps(value.seats), dumps(value.given) if value.given else None


class SeatWrites(TableChanges):
    """The seat-changes rows of one page: opened (recorded_from = K) and closed at K."""

    def __init__(self) -> None:
        key = ("negotiation", "constituency", "valid_from", "recorded_from")
        super().__init__(seat_changes, key, recorded_to_at=4)

    def open_seat(self, negotiation: str, key: str, valid_from: int, row: Change) -> None:
        name, holder, status, move_id, at = row
        content = [negotiation, key, valid_from, at, END_OF_TIME, name, holder, status, move_id]
        self.open((negotiation, key, valid_from, at), content)

    def close_seat(
        self, negotiation: str, key: str, valid_from: int, recorded_from: int, at: int
    ) -> None:
        self.close((negotiation, key, valid_from, recorded_from), recorded_from, at)


class PageWrites:
    """Everything one page changes: split, history, seats-moved and seat-changes rows."""

    def __init__(self) -> None:
        self.splits = TableChanges(splits, ("negotiation", "valid_from", "recorded_from"), 4)
        self.history: list[tuple[Any, ...]] = []
        self.moved = MovedWrites()
        self.seats = SeatWrites()

    def open(self, negotiation: str, row: CurrentRow) -> None:
        key = (negotiation, row.valid_from, row.recorded_from)
        content = [negotiation, row.valid_from, row.valid_to, row.recorded_from, END_OF_TIME]
        self.splits.open(key, content + list(row.content))

    def close(self, negotiation: str, row: CurrentRow, at: int) -> None:
        key = (negotiation, row.valid_from, row.recorded_from)
        self.splits.close(key, row.recorded_from, at)

    def export(self) -> dict[str, Any]:
        """Hand over (and forget) every change, as plain lists, by attribute."""
        part: dict[str, Any] = {"history": self.history}
        self.history = []
        for name, changes in vars(self).items():
            if isinstance(changes, TableChanges):
                part[name] = changes.export()
        return part

    @classmethod
    def loaded(cls, part: dict[str, Any]) -> PageWrites:
        """The changes another process exported, ready to flush."""
        writes = cls()
        writes.history = part.pop("history")
        for name, table_part in part.items():
            changes = getattr(writes, name)
            assert isinstance(changes, TableChanges)
            changes.load(table_part)
        return writes

    def flush(self, conn: Connection) -> None:
        self.splits.flush(conn)
        if self.history:
            insert_rows(conn, moves, tuple(c.name for c in moves.c), self.history)
            self.history.clear()
        self.moved.flush(conn)
        self.seats.flush(conn)


def insert_rows(
    conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Insert rows (in `columns` order): COPY on PostgreSQL, one executemany elsewhere."""
    if conn.dialect.name != "postgresql":
        insert_many(conn, table, columns, [tuple(row) for row in rows])
        return
    quote = conn.dialect.identifier_preparer.quote
    statement = f"COPY {quote(table.name)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
    dbapi_error = conn.dialect.loaded_dbapi.Error
    try:
        driver: Any = conn.connection.dbapi_connection  # a psycopg connection
        cursor = driver.cursor()
        with cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
    except dbapi_error as error:
        # Surface driver errors as SQLAlchemy's, as every other statement here does.
        raise DBAPIError.instance(statement, None, error, dbapi_error) from error


def current_rows(conn: Connection, negotiation: str) -> list[CurrentRow]:
    """The rows of a negotiation that are current on the recorded axis, by valid_from."""
    c = splits.c
    query = (
        select(c.valid_from, c.valid_to, c.recorded_from, *(c[f] for f in SplitRow._fields))
        .where(c.negotiation == negotiation, c.recorded_to == END_OF_TIME)
        .order_by(c.valid_from)
    )
    return [
        CurrentRow(int(r[0]), int(r[1]), SplitRow(*r[3:]), int(r[2])) for r in conn.execute(query)
    ]


def current_moved(conn: Connection, negotiation: str) -> Shown:
    """The seats-moved rows of a negotiation current on the recorded axis, by move id."""
    c = moved.c
    query = select(c.move_id, c.seats_moved, c.seats_given, c.recorded_from).where(
        c.negotiation == negotiation, c.recorded_to == END_OF_TIME
    )
    return {str(r[0]): (str(r[1]), r[2], int(r[3])) for r in conn.execute(query)}


def current_seats(conn: Connection, negotiation: str) -> SeatChanges:
    """The seat-changes rows of a negotiation current on the recorded axis, by valid_from."""
    c = seat_changes.c
    query = select(
        c.valid_from, c.constituency, c.name, c.holder, c.status, c.move_id, c.recorded_from
    ).where(c.negotiation == negotiation, c.recorded_to == END_OF_TIME)
    found: SeatChanges = {}
    for valid_from, key, name, holder, status, move_id, recorded_from in conn.execute(query):
        row = (str(name), holder, str(status), str(move_id), int(recorded_from))
        found.setdefault(int(valid_from), {})[str(key)] = row
    return found


def lock_position(conn: Connection) -> int:
    """Take the projection's write lock and read the position inside it."""
    query = select(position.c.notification_id).where(position.c.name == POSITION_NAME)
    return int(conn.execute(query.with_for_update()).scalar_one())


def read_position(conn: Connection) -> int:
    """The last notification id applied (no lock)."""
    query = select(position.c.notification_id).where(position.c.name == POSITION_NAME)
    return int(conn.execute(query).scalar_one())


def set_position(conn: Connection, notification_id: int) -> None:
    conn.execute(
        update(position)
        .where(position.c.name == POSITION_NAME)
        .values(notification_id=notification_id)
    )


def clear_views(conn: Connection) -> None:
    """Delete every view row and every snapshot, in `conn`'s transaction (a rebuild's start).

    Snapshots are a cache too; one that verify names would stay named (and ignored) until
    superseded, so the talks are folded from their events instead.
    """
    with _derived_rows_freed_fast(conn):
        for table in (*VIEW_TABLES, TABLES.snapshots):
            conn.execute(delete(table))


@contextmanager
def _derived_rows_freed_fast(conn: Connection) -> Iterator[None]:
    """On SQLite, let deletes skip zeroing freed pages: these rows are derived from the log."""
    # saves 0.4-0.9 s of a 100k rebuild (Debian's SQLite zeroes freed pages by default:
    # the views' delete took 0.5-1.0 s, with secure_delete=FAST 0.10-0.13 s; 2026-12-08)
    if conn.dialect.name != "sqlite":
        yield
        return
    before = int(conn.exec_driver_sql("PRAGMA secure_delete").scalar_one())
    conn.exec_driver_sql("PRAGMA secure_delete=FAST")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA secure_delete={before}")
