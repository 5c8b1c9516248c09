"""Catch-up: pull the notification log in pages; apply each page and its position atomically.

One pull loop serves SQLite and PostgreSQL. The ledger's writers draw notification ids
inside a lock held until commit (BEGIN IMMEDIATE on SQLite, a transaction-scoped
advisory lock on PostgreSQL), so ids become visible in order and a pull never skips one
that commits later. The library's ProjectionRunner would read this same recorder
through its polling subscription, i.e. the same loop plus a thread; a reader that must
see its own writes wants the loop run in its own call, which is what `catch_up` is.

Exactly once: each page runs in one write transaction that first locks the position
(BEGIN IMMEDIATE on SQLite; SELECT ... FOR UPDATE of the position row on PostgreSQL),
re-reads it, applies the notifications after it, and writes the rows and the new
position before committing. A process killed anywhere loses the page, never half of it.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, cast
from uuid import UUID

from eventsourcing.persistence import Notification
from sqlalchemy import Connection, Engine, Table, delete, func, select, update
from sqlalchemy.exc import DBAPIError

from ledger.application import NegotiationLedger
from ledger.domain.alliance import PartiesRegistered
from ledger.domain.events import LedgerEvent, MoveCorrected
from ledger.domain.folding import as_known
from ledger.domain.negotiation import Negotiation
from ledger.persistence.base import SqlRecorderBase, insert_many
from ledger.persistence.engine import write_transaction
from ledger.persistence.schema import TABLES
from projections.views.derive import SplitRow, correction_moved, dumps, history_row
from projections.views.intervals import INCOMPLETE, CurrentRow, StoryMark, advance
from projections.views.moved import moved_changes
from projections.views.tables import POSITION_NAME, VIEW_TABLES, moved, moves, position, splits
from projections.views.timeaxis import END_OF_TIME, micros

Progress = Callable[[int, int], None]
PAGE_SIZE = 1000
REBUILD_BATCH = 20_000
"""Events a rebuild folds before it writes their rows (all in its one transaction)."""
CACHE_SIZE = 1024
ROW_WINDOW = 128
"""Current split rows kept in memory per negotiation (between this and twice as many).

A late fact or a correction that reaches further back reads them all from the table."""
_NEVER = -END_OF_TIME
_IDS_MEMO = 65_536
_NOTIFICATION_COLUMNS: Final = (
    "notification_id",
    "originator_id",
    "originator_version",
    "topic",
    "state",
)


@dataclass
class _Entry:
    """An aggregate as the view tables know it: folded up to `version`."""

    aggregate: Any
    version: int
    known_from: int  # running maximum of its events' timestamps: "as known on" is a prefix
    rows: list[CurrentRow] = field(default_factory=list)  # current split rows (negotiations)
    partial: bool = False  # rows holds only the latest current rows; the rest are in the table
    moved: dict[str, tuple[str, int]] = field(default_factory=dict)  # move id -> current row


_SPLIT_COLUMNS: Final = (
    "negotiation",
    "valid_from",
    "valid_to",
    "recorded_from",
    "recorded_to",
    *SplitRow._fields,
)
_MOVE_COLUMNS: Final = tuple(c.name for c in moves.c)
_MOVED_COLUMNS: Final = tuple(c.name for c in moved.c)


class _PageWrites:
    """The row changes of one page, written together just before the position.

    Rows are kept as lists in column order and sent with one driver-level executemany per
    statement: SQLAlchemy's per-row parameter handling costs more than the inserts.
    """

    def __init__(self) -> None:
        self.inserts: dict[tuple[str, int, int], list[Any]] = {}
        self.closes: list[tuple[int, str, int, int]] = []  # (recorded_to, key...)
        self.deletes: list[tuple[str, int, int]] = []
        self.history: list[tuple[Any, ...]] = []
        self.moved = MovedWrites()

    def open(self, negotiation: str, row: CurrentRow) -> None:
        key = (negotiation, row.valid_from, row.recorded_from)
        self.inserts[key] = [
            negotiation,
            row.valid_from,
            row.valid_to,
            row.recorded_from,
            END_OF_TIME,
            *row.content,
        ]

    def close(self, negotiation: str, row: CurrentRow, at: int) -> None:
        # A row opened and closed at the same instant was never visible: drop it.
        key = (negotiation, row.valid_from, row.recorded_from)
        pending = self.inserts.get(key)
        if pending is not None:
            if row.recorded_from == at:
                del self.inserts[key]
            else:
                pending[4] = at
            return
        if row.recorded_from == at:
            self.deletes.append(key)
        else:
            self.closes.append((at, *key))

    def flush(self, conn: Connection) -> None:
        if self.closes or self.deletes:
            quote = conn.dialect.identifier_preparer.quote
            mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
            where = " AND ".join(
                f"{quote(c)} = {mark}" for c in ("negotiation", "valid_from", "recorded_from")
            )
            table = quote(splits.name)
            if self.closes:
                conn.exec_driver_sql(
                    f"UPDATE {table} SET {quote('recorded_to')} = {mark} WHERE {where}",
                    self.closes,
                )
            if self.deletes:
                conn.exec_driver_sql(f"DELETE FROM {table} WHERE {where}", self.deletes)
        if self.inserts:
            _insert(conn, splits, _SPLIT_COLUMNS, list(self.inserts.values()))
        if self.history:
            _insert(conn, moves, _MOVE_COLUMNS, self.history)
        self.moved.flush(conn)
        self.inserts.clear()
        self.closes.clear()
        self.deletes.clear()
        self.history.clear()


class MovedWrites:
    """The seats-moved rows of one page: opened (recorded_from = K) and closed at K."""

    def __init__(self) -> None:
        self.inserts: dict[tuple[str, int], list[Any]] = {}
        self.closes: list[tuple[int, str, int]] = []  # (recorded_to, move_id, recorded_from)
        self.deletes: list[tuple[str, int]] = []

    def set(
        self,
        shown: dict[str, tuple[str, int]],
        negotiation: str | None,
        move_id: str,
        value: Any,
        at: int,
    ) -> None:
        """Make `value` (None: no seats moved) the move's seats moved from K = `at` on.

        `shown` holds each move's current row (its text and recorded_from), kept up to date.
        """
        text = None if value is None else dumps(value)
        current = shown.get(move_id)
        if (current[0] if current is not None else None) == text:
            return
        if current is not None:
            self._close(move_id, current[1], at)
            del shown[move_id]
        if text is not None:
            self.inserts[(move_id, at)] = [move_id, at, END_OF_TIME, negotiation, text]
            shown[move_id] = (text, at)

    def _close(self, move_id: str, recorded_from: int, at: int) -> None:
        # A row opened and closed at the same instant was never visible: drop it.
        key = (move_id, recorded_from)
        pending = self.inserts.get(key)
        if pending is not None:
            if recorded_from == at:
                del self.inserts[key]
            else:
                pending[2] = at
        elif recorded_from == at:
            self.deletes.append(key)
        else:
            self.closes.append((at, *key))

    def flush(self, conn: Connection) -> None:
        quote = conn.dialect.identifier_preparer.quote
        mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        where = " AND ".join(f"{quote(c)} = {mark}" for c in ("move_id", "recorded_from"))
        table = quote(moved.name)
        if self.closes:
            conn.exec_driver_sql(
                f"UPDATE {table} SET {quote('recorded_to')} = {mark} WHERE {where}", self.closes
            )
        if self.deletes:
            conn.exec_driver_sql(f"DELETE FROM {table} WHERE {where}", self.deletes)
        if self.inserts:
            _insert(conn, moved, _MOVED_COLUMNS, list(self.inserts.values()))
        self.inserts.clear()
        self.closes.clear()
        self.deletes.clear()


def current_moved(conn: Connection, negotiation: str) -> dict[str, tuple[str, int]]:
    """The seats-moved rows of a negotiation current on the recorded axis, by move id."""
    c = moved.c
    query = select(c.move_id, c.seats_moved, c.recorded_from).where(
        c.negotiation == negotiation, c.recorded_to == END_OF_TIME
    )
    return {str(r[0]): (str(r[1]), int(r[2])) for r in conn.execute(query)}


def _insert(
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


def lock_position(conn: Connection) -> int:
    """Take the projection's write lock and read the position inside it."""
    query = select(position.c.notification_id).where(position.c.name == POSITION_NAME)
    return int(conn.execute(query.with_for_update()).scalar_one())


def read_position(conn: Connection) -> int:
    """The last notification id applied (no lock)."""
    query = select(position.c.notification_id).where(position.c.name == POSITION_NAME)
    return int(conn.execute(query).scalar_one())


def _set_position(conn: Connection, notification_id: int) -> None:
    conn.execute(
        update(position)
        .where(position.c.name == POSITION_NAME)
        .values(notification_id=notification_id)
    )


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


class Projector:
    """Keeps the view tables in step with the event log."""

    def __init__(
        self, app: NegotiationLedger, engine: Engine, *, page_size: int = PAGE_SIZE
    ) -> None:
        self.app = app
        self.engine = engine
        self.page_size = page_size
        # Aggregates stay folded between pages and calls; evicted ones are re-read.
        self._cache: OrderedDict[UUID, _Entry] = OrderedDict()
        self._page_sql: str | None = None
        self._aggregate_sql: str | None = None
        self._ids: dict[str, UUID] = {}  # aggregate ids as text -> UUID

    def catch_up(self, progress: Progress | None = None, *, pages: int = 1) -> int:
        """Apply every notification after the position; return how many were applied.

        Each transaction applies up to `pages` pages (their rows written once, then the
        position): a rebuild commits far less often than a catch-up of a few moves.
        """
        applied = total = 0
        head = self.app.recorder.max_notification_id() or 0
        while True:
            done: list[int] = []  # the size of each page applied in this transaction
            try:
                with write_transaction(self.engine) as conn:
                    at = lock_position(conn)
                    if applied == 0:
                        total = max(head - at, 0)  # in notification ids: a progress estimate
                    writes = _PageWrites()
                    while len(done) < pages:
                        page = self._read_page(conn, at)
                        if not page:
                            break
                        self._apply_page(conn, page, writes)
                        at = page[-1].id
                        done.append(len(page))
                    if done:
                        writes.flush(conn)
                        _set_position(conn, at)
            except BaseException:
                self._cache.clear()  # it may be ahead of what was committed
                raise
            for count in done:
                applied += count
                if progress is not None:
                    progress(applied, max(total, applied))
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
            if len(done) < pages:
                return applied

    def rebuild(self, progress: Progress | None = None) -> int:
        """Drop every view row (and snapshot), derive the rows again one aggregate at a time;
        return the count.

        Each aggregate's rows depend only on its own events (its fold, its running clock
        `known_from`, its versions; alliance moves reach a negotiation as mirror events in
        its own stream), so the log is read aggregate by aggregate in version order, and
        only one folded aggregate is held at a time. The rows are the ones a catch-up in
        notification order writes (tests/integration/test_rebuild_per_aggregate.py).

        All in one write transaction: the rows of every event up to the head N read in it,
        then the position N. Killed, it leaves the views and position as they were. Events
        recorded after N (writers commit notification ids in order) are caught up after.
        """
        applied = reported = 0
        try:
            with write_transaction(self.engine) as conn:
                lock_position(conn)
                for table in VIEW_TABLES:
                    conn.execute(delete(table))
                # Snapshots are a cache too; one that verify names would stay named (and
                # ignored) until superseded, so the talks are folded from events instead.
                conn.execute(delete(TABLES.snapshots))
                _set_position(conn, 0)
                self._cache.clear()
                head = self._head(conn)
                writes = _PageWrites()
                pending = 0
                for raw_id in self._aggregate_ids(conn):
                    after = 0
                    while True:
                        page = self._read_aggregate_page(conn, raw_id, after, head)
                        if not page:
                            break
                        self._apply_page(conn, page, writes)
                        after = page[-1].originator_version
                        applied += len(page)
                        pending += len(page)
                        if progress is not None and applied >= reported + self.page_size:
                            reported = applied - applied % self.page_size
                            progress(applied, max(head, applied))
                        if len(page) < self.page_size:
                            break
                    self._cache.clear()  # one folded aggregate at a time
                    if pending >= REBUILD_BATCH:
                        writes.flush(conn)
                        pending = 0
                writes.flush(conn)
                _set_position(conn, head)
        except BaseException:
            self._cache.clear()
            raise
        if progress is None:
            return applied + self.catch_up()
        if applied > reported:
            progress(applied, max(head, applied))
        done = applied
        return done + self.catch_up(lambda n, total: progress(done + n, done + total))

    def _events_sql(self, conn: Connection) -> tuple[str, str, list[str]]:
        """The events table and its notification columns, quoted, and the driver's mark."""
        events = cast(SqlRecorderBase, self.app.recorder).tables.events
        preparer = conn.dialect.identifier_preparer
        mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        columns = [preparer.quote(events.c[name].name) for name in _NOTIFICATION_COLUMNS]
        return preparer.format_table(events), mark, columns

    def _head(self, conn: Connection) -> int:
        """The last notification id recorded, as this transaction sees it."""
        events = cast(SqlRecorderBase, self.app.recorder).tables.events
        return int(conn.execute(select(func.max(events.c.notification_id))).scalar() or 0)

    def _aggregate_ids(self, conn: Connection) -> list[Any]:
        """Every aggregate id in the log, as the driver returns it (to be passed back)."""
        table, _, (_, oid, *_) = self._events_sql(conn)
        rows = _fetch(conn, f"SELECT DISTINCT {oid} FROM {table} ORDER BY {oid}")
        return [row[0] for row in rows]

    def _read_aggregate_page(
        self, conn: Connection, raw_id: Any, after: int, head: int
    ) -> list[Notification]:
        """One aggregate's notifications after version `after`, up to id `head`, by version."""
        if self._aggregate_sql is None:
            table, mark, (nid, oid, version, topic, state) = self._events_sql(conn)
            self._aggregate_sql = (
                f"SELECT {nid}, {version}, {topic}, {state} FROM {table} "
                f"WHERE {oid} = {mark} AND {version} > {mark} AND {nid} <= {mark} "
                f"ORDER BY {version} LIMIT {mark}"
            )
        rows = _fetch(conn, self._aggregate_sql, (raw_id, after, head, self.page_size))
        if not rows:
            return []
        originator_id = raw_id if isinstance(raw_id, UUID) else UUID(str(raw_id))
        return [
            Notification(
                id=int(notification_id),
                originator_id=originator_id,
                originator_version=int(version),
                topic=topic,
                state=state if type(state) is bytes else bytes(state),
            )
            for notification_id, version, topic, state in rows
        ]

    def _read_page(self, conn: Connection, after: int) -> list[Notification]:
        """The notifications after `after` (a page), read on the catch-up's own connection.

        What the recorder's select_notifications returns, without a connection and a
        transaction per page or a UUID parsed per row (a ledger has few aggregates).
        """
        if self._page_sql is None:
            table, mark, (nid, oid, version, topic, state) = self._events_sql(conn)
            # The id as text: a dict of ~500 strings beats a UUID object made per row
            # (psycopg's loader) and hashed in Python for every lookup.
            self._page_sql = (
                f"SELECT {nid}, CAST({oid} AS TEXT), {version}, {topic}, {state} FROM {table} "
                f"WHERE {nid} > {mark} ORDER BY {nid} LIMIT {mark}"
            )
        rows = _fetch(conn, self._page_sql, (after, self.page_size))
        ids = self._ids
        page = []
        for notification_id, raw_id, version, topic, state in rows:
            originator_id = ids.get(raw_id)
            if originator_id is None:
                originator_id = UUID(raw_id)
                if len(ids) >= _IDS_MEMO:
                    ids.clear()
                ids[raw_id] = originator_id
            page.append(
                Notification(
                    id=int(notification_id),
                    originator_id=originator_id,
                    originator_version=int(version),
                    topic=topic,
                    state=state if type(state) is bytes else bytes(state),
                )
            )
        return page

    def _apply_page(
        self, conn: Connection, page: Sequence[Notification], writes: _PageWrites
    ) -> None:
        to_domain_event = self.app.mapper.to_domain_event
        for notification in page:
            event = to_domain_event(notification)
            if isinstance(event, LedgerEvent) and not isinstance(event, PartiesRegistered):
                self._apply(conn, event, writes)

    def _apply(self, conn: Connection, event: LedgerEvent, writes: _PageWrites) -> None:
        entry = self._entry(conn, event, writes)
        entry.known_from = max(entry.known_from, micros(event.timestamp))
        row = history_row(entry.aggregate, event, entry.known_from)
        if row is not None:
            writes.history.append(row)
            if isinstance(event, MoveCorrected):
                fixed = correction_moved(entry.aggregate, event)
                writes.moved.set(entry.moved, row[2], event.move_id, fixed, entry.known_from)
        before = entry.aggregate
        mark = StoryMark(before.story if isinstance(before, Negotiation) else None)
        entry.aggregate = event.mutate(before)
        entry.version = event.originator_version
        negotiation = entry.aggregate
        if not isinstance(negotiation, Negotiation):
            return
        story, slug = negotiation.story, negotiation.slug
        for move_id, value in moved_changes(mark, story):
            writes.moved.set(entry.moved, slug, move_id, value, entry.known_from)
        changes = advance(entry.rows, mark, story, entry.known_from, complete=not entry.partial)
        if changes is INCOMPLETE:
            writes.flush(conn)  # the table must hold what this page did before it is read back
            entry.rows, entry.partial = current_rows(conn, slug), False
            changes = advance(entry.rows, mark, story, entry.known_from)
        if changes is None:
            return
        for row in changes.closed:
            writes.close(slug, row, entry.known_from)
        for row in changes.opened:
            writes.open(slug, row)
        entry.rows = rows = changes.current
        if len(rows) > 2 * ROW_WINDOW:
            del rows[:-ROW_WINDOW]
            entry.partial = True

    def _entry(self, conn: Connection, event: LedgerEvent, writes: _PageWrites) -> _Entry:
        key = event.originator_id
        entry = self._cache.get(key)
        if entry is not None and entry.version == event.originator_version - 1:
            self._cache.move_to_end(key)
            return entry
        if event.originator_version > 1:
            writes.flush(conn)  # the table must hold what this page did before it is read back
        entry = self._load(conn, event)
        self._cache[key] = entry
        return entry

    def _load(self, conn: Connection, event: LedgerEvent) -> _Entry:
        """Rebuild an aggregate from its events before this one (resuming, or evicted)."""
        version = event.originator_version
        if version == 1:
            return _Entry(None, 0, _NEVER)
        stored = self.app.recorder.select_events(event.originator_id, lte=version - 1)
        events = [cast(LedgerEvent, self.app.mapper.to_domain_event(s)) for s in stored]
        aggregate = as_known(events, None)
        known_from = max((micros(e.timestamp) for e in events), default=_NEVER)
        if not isinstance(aggregate, Negotiation):
            return _Entry(aggregate, version - 1, known_from)
        rows, slug = current_rows(conn, aggregate.slug), aggregate.slug
        return _Entry(aggregate, version - 1, known_from, rows, moved=current_moved(conn, slug))


def _fetch(conn: Connection, sql: str, parameters: tuple[Any, ...] = ()) -> list[Any]:
    """All rows of a statement as the driver's tuples, not SQLAlchemy rows."""
    result = conn.exec_driver_sql(sql, parameters)
    rows = list(result.cursor.fetchall())
    result.close()
    return rows
