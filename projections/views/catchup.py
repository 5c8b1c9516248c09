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
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from typing import Any, cast
from uuid import UUID

from eventsourcing.persistence import Notification
from sqlalchemy import Connection, Engine

from ledger.application import NegotiationLedger
from ledger.domain.alliance import PartiesRegistered
from ledger.domain.events import LedgerEvent
from ledger.domain.folding import as_known
from ledger.domain.negotiation import Negotiation
from ledger.forked import Claims
from ledger.persistence.base import SqlRecorderBase
from ledger.persistence.engine import (
    forget_engines,
    get_engine,
    read_transaction,
    write_transaction,
)
from projections.views.fold import NEVER, Folded, fold_event
from projections.views.fold_worker import (
    Counter,
    FoldOne,
    FoldWorker,
    worth_two_processes,
)
from projections.views.intervals import CurrentRow
from projections.views.log_pages import PAGE_SIZE, LogPages, Progress
from projections.views.seat_history import SeatChanges
from projections.views.timeaxis import micros
from projections.views.writes import (
    PageWrites,
    clear_views,
    current_moved,
    current_rows,
    current_seats,
    lock_position,
    read_position,
    set_position,
)

BY_AGGREGATE_FROM = 8_000
"""A catch-up this many events behind goes aggregate by aggregate, as a rebuild does."""
# Measured on SQLite, quiet 2-core machine, 2026-12-07 (the first read after an import):
# 10,000 events behind, page by page 0.97-1.23 s, by aggregate with the worker 0.80-0.89 s
# (alone 0.99-1.06 s); 5,000 behind, the same either way (0.50-0.61 s). Was 20,000.
REBUILD_BATCH = 20_000
"""Events a rebuild folds before it writes their rows (all in its one transaction)."""
CACHE_SIZE = 1024
DENSE_CHECKPOINTS = 8
"""Moves between a talks' kept states while it is folded alone (a rebuild): a late move or
a correction re-folds from the one before it, and may stop at the next one."""
ROW_WINDOW = 128
"""Current split rows kept in memory per negotiation (between this and twice as many).

A late fact or a correction that reaches further back reads them all from the table."""


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
        self._log = LogPages(cast(SqlRecorderBase, app.recorder).tables.events, page_size)
        self.in_worker = False  # in a fold worker: never writes, keeps every current row
        self._alone = False  # folding one aggregate at a time (`_fold_aggregate`)

    def catch_up(self, progress: Progress | None = None, *, pages: int = 1) -> int:
        """Apply every notification after the position; return how many were applied.

        Each transaction applies up to `pages` pages (their rows written once, then the
        position): a rebuild commits far less often than a catch-up of a few moves.
        """
        head = self.app.recorder.max_notification_id() or 0
        applied, total = self._catch_up_by_aggregate(head, progress), 0
        while True:
            done: list[int] = []  # the size of each page applied in this transaction
            try:
                with write_transaction(self.engine) as conn:
                    at = lock_position(conn)
                    if total == 0:
                        total = max(head - at, 0) + applied  # notification ids: an estimate
                    writes = PageWrites()
                    while len(done) < pages:
                        page = self._log.page(conn, at)
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
                clear_views(conn)
                set_position(conn, 0)
                self._cache.clear()
                head = self._head(conn)
                counter = Counter(progress, head, self.page_size)
                self._fold_every_aggregate(conn, 0, head, counter)
                set_position(conn, head)
        except BaseException:
            self._cache.clear()
            raise
        applied = counter.done
        if progress is None:
            return applied + self.catch_up()
        counter.report()
        return applied + self.catch_up(lambda n, total: progress(applied + n, applied + total))

    def _catch_up_by_aggregate(self, head: int, progress: Progress | None) -> int:
        """Catch a big lag up aggregate by aggregate, as a rebuild does; return the count.

        Worth it from BY_AGGREGATE_FROM events behind (the first read after a big import):
        one folded aggregate at a time, and a worker process where a core is spare. One
        write transaction, as a rebuild: killed, nothing of it is kept. 0 for a small lag.
        """
        with read_transaction(self.engine) as conn:
            if head - read_position(conn) < BY_AGGREGATE_FROM:
                return 0
        try:
            with write_transaction(self.engine) as conn:
                at = lock_position(conn)
                head = self._head(conn)
                if head - at < BY_AGGREGATE_FROM:  # another process caught up meanwhile
                    return 0
                self._cache.clear()
                counter = Counter(progress, head - at, self.page_size)
                self._fold_every_aggregate(conn, at, head, counter)
                set_position(conn, head)
        except BaseException:
            self._cache.clear()
            raise
        counter.report()
        return counter.done

    def _fold_every_aggregate(
        self, conn: Connection, at: int, head: int, counter: Counter
    ) -> None:
        """Fold each aggregate's events in (at, head] and write the rows, in `conn`.

        With a core to spare, a forked worker folds aggregates too (`fold_worker`): the
        fold is most of a rebuild's work (measured: see BENCHMARKS.md).
        """
        ids = self._log.aggregate_ids(conn, at, head)
        claims, worker = Claims(ids), None
        if worth_two_processes(head - at):
            worker = FoldWorker.start(claims, partial(self._folding_apart, at, head))
        writes, pending, mine = PageWrites(), 0, set()
        try:
            while (raw_id := claims.next()) is not None:
                mine.add(raw_id)
                pending += self._fold_aggregate(conn, writes, raw_id, at, head, counter)
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
                        self._fold_aggregate(conn, writes, raw_id, at, head, counter)
                writes.flush(conn)
        finally:
            if worker is not None:
                worker.stop()

    def _fold_aggregate(
        self,
        conn: Connection,
        writes: PageWrites,
        raw_id: Any,
        at: int,
        head: int,
        counter: Counter | None = None,
    ) -> int:
        """Fold one aggregate's events in (at, head] into `writes`; return how many."""
        after = applied = 0
        self._alone = True
        try:
            while True:
                page = self._log.aggregate_page(conn, raw_id, after, at, head)
                if not page:
                    break
                self._apply_page(conn, page, writes)
                after = page[-1].originator_version
                applied += len(page)
                if counter is not None:
                    counter.add(len(page))
                if len(page) < self.page_size:
                    break
        finally:
            self._alone = False
        self._cache.clear()  # one folded aggregate at a time
        return applied

    @contextmanager
    def _folding_apart(self, at: int, head: int) -> Iterator[FoldOne]:
        """In a forked worker: a projector of its own (its own engine; no schema work) that
        keeps every current row in memory, reading the tables but never writing them."""
        forget_engines()
        app = NegotiationLedger(self.app.url, env={"CREATE_TABLE": "no"})
        apart = Projector(app, get_engine(self.app.url), page_size=self.page_size)
        apart.in_worker = True
        with read_transaction(apart.engine) as conn:
            yield lambda writes, raw_id: apart._fold_aggregate(conn, writes, raw_id, at, head)

    def _head(self, conn: Connection) -> int:
        """The last notification id recorded, as this transaction sees it."""
        return self._log.head(conn)

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
        if self._alone and event.originator_version == 1:
            _dense_checkpoints(entry.aggregate)
        rows = entry.rows
        # Keep memory flat for talks with long histories (a worker keeps all: no table).
        if not self.in_worker and len(rows) > 2 * ROW_WINDOW:
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
        if event.originator_version > 1 and not self.in_worker:
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


def _dense_checkpoints(aggregate: Any) -> None:
    """Let a talks folded alone keep a state every DENSE_CHECKPOINTS moves, not 64.

    Only one such talks is held at a time, and the views never snapshot it.
    """
    # saves 5.4% of a one-process rebuild at 100k (SQLite; callgrind, 67.1G -> 63.5G
    # instructions): rule applications 2.45 -> 1.55 an event, corrections re-folded ~61
    if isinstance(aggregate, Negotiation):
        aggregate.story.every = DENSE_CHECKPOINTS
