"""A rebuild's second process: on a big log with a core to spare, a forked worker folds
aggregates and sends their rows back; the rebuild's own process writes them.

Each aggregate's rows depend only on its own events, so the aggregates can be folded in
any order and by any process. Both processes take the next aggregate from one shared
counter, so the rebuild's process, which also writes every row, folds fewer. The rebuild
keeps its one write transaction: the worker only reads, through an engine of its own (the
events up to the head, which are committed and never change; each aggregate's view rows
as last committed, which nobody else touches meanwhile), and never writes. Its rows come
back in batches of whole aggregates, written as they arrive; if the worker fails or dies,
the rebuild folds the aggregates it took and did not finish itself, so the views never
depend on it. If the rebuild's process dies, its transaction rolls back and the worker's
next send fails: it exits. A catch-up far behind works the same way (`catchup.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, Final

from sqlalchemy import Connection

from ledger.forked import Claims, Receiver, a_core_to_spare, fork
from projections.views.writes import PageWrites

PROCESSES = 2
"""2: a forked worker folds half the aggregates of a big rebuild (Linux only); 1: alone."""

SPLIT_FROM = 5_000
"""Fold in two processes only a log of at least this many notifications."""
# Where a worker starts paying (SQLite, quiet 2-core machine, 2026-12-07, one process against
# two, with the 0.05 s gate): 2,000 events 0.20 -> 0.21 s, 5,000 0.51 -> 0.40 s, 10,000
# 0.95 -> 0.78 s. It was 20,000 while the gate waited 0.2 s.

BATCH: Final = 5_000
"""Events the worker folds (in whole aggregates) before it sends their rows."""

FoldOne = Callable[[PageWrites, Any], int]
"""Fold one aggregate's events into the rows of a PageWrites; return how many."""
Folding = Callable[[], AbstractContextManager[FoldOne]]
"""Run in the worker: its own projector and read transaction, for the time it folds."""


def worth_two_processes(head: int) -> bool:
    """Whether a worker should fold half a log of `head` notifications: a core to spare."""
    return PROCESSES >= 2 and head >= SPLIT_FROM and a_core_to_spare()


class FoldWorker(Receiver):
    """The forked worker, seen from the rebuild: its rows written as they arrive."""

    def __init__(self, process: Any, pipe: Any) -> None:
        super().__init__(process, pipe)
        self.arrived: set[Any] = set()  # aggregates whose rows were written
        self.events = 0  # events whose rows were written

    @classmethod
    def start(cls, claims: Claims, folding: Folding) -> FoldWorker | None:
        """Fork a worker that folds the aggregates it claims; None if that cannot be done."""
        started = fork(claims, _work, folding)
        return None if started is None else cls(*started)

    def write_arrived(self, conn: Connection) -> int:
        """Write the rows that have arrived, without waiting; return their events."""
        before = self.events
        self.receive(lambda message: self._take(conn, message), wait=False)
        return self.events - before

    def write_rest(self, conn: Connection, progress: Callable[[int], None]) -> set[Any]:
        """Wait for the worker, writing its rows; return the aggregates whose rows arrived."""

        def take(message: tuple[str, Any]) -> None:
            before = self.events
            self._take(conn, message)
            progress(self.events - before)

        self.receive(take, wait=True)
        return self.arrived

    def _take(self, conn: Connection, message: tuple[str, Any]) -> None:
        kind, value = message
        if kind != "rows":
            self.finished = True
            return
        done, events, part = value
        PageWrites.loaded(part).flush(conn)  # in arrival order: a close follows its open
        self.arrived.update(done)
        self.events += events


def _work(pipe: Any, claims: Claims, folding: Folding) -> None:
    """The worker process: fold the aggregates it claims, send their rows in batches."""
    with folding() as fold:
        writes, done, events = PageWrites(), [], 0
        while (raw_id := claims.next()) is not None:
            events += fold(writes, raw_id)
            done.append(raw_id)
            if events >= BATCH:
                pipe.send(("rows", (done, events, writes.export())))
                done, events = [], 0
        pipe.send(("rows", (done, events, writes.export())))
        pipe.send(("done", None))


class Counter:
    """A rebuild's events folded and written, reported every `step` (and at the end)."""

    def __init__(self, progress: Callable[[int, int], None] | None, head: int, step: int) -> None:
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
