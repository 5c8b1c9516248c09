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
from functools import partial
from typing import Any, Final, cast
from uuid import UUID

from eventsourcing.persistence import Notification
from sqlalchemy import Connection, Engine, delete, func, select

from ledger.application import NegotiationLedger
from ledger.domain.alliance import PartiesRegistered
from ledger.domain.events import LedgerEvent
from ledger.domain.folding import as_known
from ledger.domain.negotiation import Negotiation
from ledger.persistence.base import SqlRecorderBase
from ledger.persistence.engine import write_transaction
from ledger.persistence.schema import TABLES
from projections.views.fold import NEVER, Folded, fold_event
from projections.views.fold_worker import Claims, Fetch, FoldWorker, worth_two_processes
from projections.views.intervals import CurrentRow
from projections.views.seat_history import SeatChanges
from projections.views.tables import VIEW_TABLES
from projections.views.timeaxis import micros
from projections.views.writes import (
    PageWrites,
    current_moved,
    current_rows,
    current_seats,
    lock_position,
    set_position,
)

Progress = Callable[[int, int], None]
PAGE_SIZE = 1000
REBUILD_BATCH = 20_000
"""Events a rebuild folds before it writes their rows (all in its one transaction)."""
CACHE_SIZE = 1024
ROW_WINDOW = 128
"""Current split rows kept in memory per negotiation (between this and twice as many).

A late fact or a correction that reaches further back reads them all from the table."""
_IDS_MEMO = 65_536
_NOTIFICATION_COLUMNS: Final = (
    "notification_id",
    "originator_id",
    "originator_version",
    "topic",
    "state",
)


class Projector:
    """Keeps the view tables in step with the event log."""

    def __init__(
        self, app: NegotiationLedger, engine: Engine, *, page_size: int = PAGE_SIZE
    ) -> None:
        self.app = app
        self.engine = engine
        self.page_size = page_size
        # Aggregates stay folded between pages and calls; evicted ones are re-read.
        self._cache: OrderedDict[UUID, Folded] = OrderedDict()
        self._page_sql: str | None = None
        self._aggregate_sql: str | None = None
        self._ids: dict[str, UUID] = {}  # aggregate ids as text -> UUID
        self.keep_all_rows = False  # True in a fold worker: it cannot read rows back

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
                    writes = PageWrites()
                    while len(done) < pages:
                        page = self._read_page(conn, at)
                        if not page:
                            break
                        self._apply_page(conn, page, writes)
                        at = page[-1].id
                        done.append(len(page))
                    if done:
                        writes.flush(conn)
                        set_position(conn, at)
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
        notification order writes (tests/projections/views/test_rebuild_per_aggregate.py).

        All in one write transaction: the rows of every event up to the head N read in it,
        then the position N. Killed, it leaves the views and position as they were. Events
        recorded after N (writers commit notification ids in order) are caught up after.
        """
        try:
            with write_transaction(self.engine) as conn:
                lock_position(conn)
                for table in VIEW_TABLES:
                    conn.execute(delete(table))
                # Snapshots are a cache too; one that verify names would stay named (and
                # ignored) until superseded, so the talks are folded from events instead.
                conn.execute(delete(TABLES.snapshots))
                set_position(conn, 0)
                self._cache.clear()
                head = self._head(conn)
                counter = _Counter(progress, head, self.page_size)
                self._fold_every_aggregate(conn, head, counter)
                set_position(conn, head)
        except BaseException:
            self._cache.clear()
            raise
        applied = counter.done
        if progress is None:
            return applied + self.catch_up()
        counter.report()
        return applied + self.catch_up(lambda n, total: progress(applied + n, applied + total))

    def _fold_every_aggregate(self, conn: Connection, head: int, counter: _Counter) -> None:
        """Fold each aggregate's events up to `head` and write the rows, in `conn`.

        With a core to spare, a forked worker folds aggregates too (`fold_worker`): the
        fold is most of a rebuild's work (measured: see BENCHMARKS.md).
        """
        ids = self._aggregate_ids(conn)
        self._aggregate_query(conn)  # built before a fork, for both processes
        claims, worker = Claims(ids), None
        if worth_two_processes(head):
            url = self.engine.url.render_as_string(hide_password=False)
            worker = FoldWorker.start(url, claims, partial(self._fold_apart, head))

        def fetch(sql: str, parameters: tuple[Any, ...]) -> list[Any]:
            return _fetch(conn, sql, parameters)

        writes, pending, mine = PageWrites(), 0, set()
        try:
            while (raw_id := claims.next()) is not None:
                mine.add(raw_id)
                pending += self._fold_aggregate(conn, writes, fetch, raw_id, head, counter)
                if pending >= REBUILD_BATCH:
                    writes.flush(conn)
                    pending = 0
                if worker is not None:
                    counter.add(worker.write_arrived(conn))
            writes.flush(conn)
            if worker is not None:
                arrived = worker.write_rest(conn, counter.add)
                for raw_id in ids:  # those the worker took and did not finish
                    if raw_id not in mine and raw_id not in arrived:
                        self._fold_aggregate(conn, writes, fetch, raw_id, head, counter)
                writes.flush(conn)
        finally:
            if worker is not None:
                worker.stop()

    def _fold_aggregate(
        self,
        conn: Connection | None,
        writes: PageWrites,
        fetch: Fetch,
        raw_id: Any,
        head: int,
        counter: _Counter | None = None,
    ) -> int:
        """Fold one aggregate's events up to `head` into `writes`; return how many."""
        after = applied = 0
        while True:
            page = self._read_aggregate_page(fetch, raw_id, after, head)
            if not page:
                break
            self._apply_page(conn, page, writes)  # type: ignore[arg-type]
            after = page[-1].originator_version
            applied += len(page)
            if counter is not None:
                counter.add(len(page))
            if len(page) < self.page_size:
                break
        self._cache.clear()  # one folded aggregate at a time
        return applied

    def _fold_apart(self, head: int, writes: PageWrites, fetch: Fetch, raw_id: Any) -> int:
        """In the worker: fold one aggregate with every current row in memory (no table)."""
        self.keep_all_rows = True
        return self._fold_aggregate(None, writes, fetch, raw_id, head)

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

    def _aggregate_query(self, conn: Connection) -> str:
        """The statement that reads a page of one aggregate's notifications."""
        if self._aggregate_sql is None:
            table, mark, (nid, oid, version, topic, state) = self._events_sql(conn)
            self._aggregate_sql = (
                f"SELECT {nid}, {version}, {topic}, {state} FROM {table} "
                f"WHERE {oid} = {mark} AND {version} > {mark} AND {nid} <= {mark} "
                f"ORDER BY {version} LIMIT {mark}"
            )
        return self._aggregate_sql

    def _read_aggregate_page(
        self, fetch: Fetch, raw_id: Any, after: int, head: int
    ) -> list[Notification]:
        """One aggregate's notifications after version `after`, up to id `head`, by version."""
        assert self._aggregate_sql is not None  # `_aggregate_query` built it
        rows = fetch(self._aggregate_sql, (raw_id, after, head, self.page_size))
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
        self, conn: Connection, page: Sequence[Notification], writes: PageWrites
    ) -> None:
        to_domain_event = self.app.mapper.to_domain_event
        for notification in page:
            event = to_domain_event(notification)
            if isinstance(event, LedgerEvent) and not isinstance(event, PartiesRegistered):
                self._apply(conn, event, writes)

    def _apply(self, conn: Connection, event: LedgerEvent, writes: PageWrites) -> None:
        entry = self._entry(conn, event, writes)

        def reread(slug: str) -> tuple[list[CurrentRow], SeatChanges]:
            writes.flush(conn)  # the table must hold what this page did before it is read back
            return current_rows(conn, slug), current_seats(conn, slug)

        fold_event(entry, event, writes, reread)
        rows = entry.rows
        # Keep memory flat for talks with long histories (a worker keeps all: no table).
        if not self.keep_all_rows and len(rows) > 2 * ROW_WINDOW:
            del rows[:-ROW_WINDOW]
            entry.partial = True
            first = rows[0].valid_from  # and the seat changes of the rows kept
            entry.seats = {at: seats for at, seats in entry.seats.items() if at >= first}

    def _entry(self, conn: Connection, event: LedgerEvent, writes: PageWrites) -> Folded:
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

    def _load(self, conn: Connection, event: LedgerEvent) -> Folded:
        """Rebuild an aggregate from its events before this one (resuming, or evicted)."""
        version = event.originator_version
        if version == 1:
            return Folded(None, 0, NEVER)
        stored = self.app.recorder.select_events(event.originator_id, lte=version - 1)
        events = [cast(LedgerEvent, self.app.mapper.to_domain_event(s)) for s in stored]
        aggregate = as_known(events, None)
        known_from = max((micros(e.timestamp) for e in events), default=NEVER)
        if not isinstance(aggregate, Negotiation):
            return Folded(aggregate, version - 1, known_from)
        rows, slug = current_rows(conn, aggregate.slug), aggregate.slug
        return Folded(
            aggregate, version - 1, known_from, rows,
            moved=current_moved(conn, slug), seats=current_seats(conn, slug),
        )  # fmt: skip


class _Counter:
    """A rebuild's events folded and written, reported every `step` (and at the end)."""

    def __init__(self, progress: Progress | None, head: int, step: int) -> None:
        self.progress, self.head, self.step = progress, head, step
        self.done = self.reported = 0

    def add(self, count: int) -> None:
        self.done += count
        if self.progress is not None and self.done >= self.reported + self.step:
            self.reported = self.done - self.done % self.step
            self.progress(self.done, max(self.head, self.done))

    def report(self) -> None:
        if self.progress is not None and self.done > self.reported:
            self.progress(self.done, max(self.head, self.done))


def _fetch(conn: Connection, sql: str, parameters: tuple[Any, ...] = ()) -> list[Any]:
    """All rows of a statement as the driver's tuples, not SQLAlchemy rows."""
    result = conn.exec_driver_sql(sql, parameters)
    rows = list(result.cursor.fetchall())
    result.close()
    return rows
