"""Verify's second process: on a big log with a core to spare, a forked worker checks half.

Measured at 900k events: 3.6 s -> 1.7 s on an idle 2-core machine. The worker reads the
same read snapshot through a connection of its own and sends back its problems; if it
cannot do its half, verify's own process does, so the report never depends on it.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection

from ledger.forked import Receiver, a_core_to_spare
from ledger.integrity.chains import ChainChecker, Part
from ledger.integrity.digest import Digest
from ledger.integrity.log_reader import (
    FETCH_SIZE,
    LogReader,
    max_notification_id,
    reader_in_snapshot,
    share_snapshot,
)

Progress = Callable[[int, int], None]
Tick = Callable[[int], None]
Walk = Callable[[ChainChecker, LogReader, Tick], None]
"""verify's walk over one part of the log (passed in: the worker runs the same one)."""

PROCESSES = 2
"""2: a forked worker checks half of a big log (Linux only); 1: verify works alone."""

SPLIT_FROM = 20_000
"""Split only a log that reaches this notification id: a smaller one is checked sooner alone."""

SPLIT_AT = "80000000-0000-0000-0000-000000000000"
"""The worker checks the aggregates from this id on, verify's own process those below it.

Aggregate ids are UUIDs derived from slugs (or random), so this halves the aggregates."""


def worth_splitting(conn: Connection) -> bool:
    """Whether a worker should check half of the log: a big log, and a core to spare."""
    if PROCESSES < 2 or max_notification_id(conn) < SPLIT_FROM:
        return False
    # Measured on a 2-core machine that others kept busy (load average 7-10): the
    # scheduler shares the CPU between sessions, not processes, so a worker only
    # added its ~10% overhead. With a core idle it halves verify's CPU-bound time.
    return a_core_to_spare()


def ticker(progress: Progress | None, total: int, worker: Worker | None) -> Tick:
    """Return what the walk calls after each batch with the events it has checked."""
    if worker is None:
        if progress is None:
            return lambda done: None
        return lambda done: progress(done, total)

    def tick(done: int) -> None:
        worker.poll()
        if progress is not None:
            progress(done + worker.done, total)

    return tick


class Worker(Receiver):
    """A forked process that checks the aggregates from SPLIT_AT on, in the same snapshot.

    It reads through a connection of its own (PostgreSQL imports the exported snapshot;
    SQLite checks that it sees the same log) and sends back its problems, which verify
    adds after its own: the report is the one a single process would make. If anything
    goes wrong in it, verify checks that half itself.
    """

    def __init__(self, process: Any, pipe: Any) -> None:
        super().__init__(process, pipe)
        self.split_at = SPLIT_AT  # the worker checks the aggregates from this id on
        self.done = 0
        self.part: Part | None = None

    @classmethod
    def start(
        cls, url: str, conn: Connection, reader: LogReader, digest: Digest | None, walk: Walk
    ) -> Worker | None:
        """Fork the worker; None if that cannot be done here (then verify works alone)."""
        token = share_snapshot(conn)
        if token is None:
            return None
        try:
            context = multiprocessing.get_context("fork")
            receiver, sender = context.Pipe(duplex=False)
            mine = reader.part(SPLIT_AT, None)
            process = context.Process(
                target=_work, args=(sender, url, token, mine, digest, walk), daemon=True
            )
            process.start()  # refused, for one, inside a daemonic process
        except Exception:
            return None
        sender.close()
        return cls(process, receiver)

    def poll(self) -> None:
        """Take the worker's progress reports that have arrived, without waiting."""
        self.receive(self._take, wait=False)

    def result(self) -> Part | None:
        """Wait for the worker; return its part, or None if it did not finish its half."""
        self.receive(self._take, wait=True)
        return self.part

    def _take(self, message: tuple[str, Any]) -> None:
        kind, value = message
        if kind == "progress":
            self.done = value
        else:
            self.finished = True
            self.part = value if kind == "done" else None


def _work(
    pipe: Any, url: str, token: str, reader: LogReader, digest: Digest | None, walk: Walk
) -> None:
    """The worker process: check one half of the log, send back what it found."""
    # Nothing inherited from the parent may be finalised here (its connections).
    gc.disable()
    try:
        with reader_in_snapshot(url, token, reader) as mine:
            check = ChainChecker(digest)
            sent = 0

            def tick(done: int) -> None:
                nonlocal sent
                if done - sent >= 10 * FETCH_SIZE:
                    pipe.send(("progress", done))
                    sent = done

            walk(check, mine, tick)
            pipe.send(("done", check.part()))
    except BaseException:  # verify's process checks this half itself
        pipe.send(("failed", None))
    finally:
        pipe.close()
        # Leave at once: multiprocessing's exit path flushes stdout and stderr, whose locks
        # another thread of the parent (a progress bar's refresh) may have held at the fork,
        # and verify would then wait for a child that never ends. This child writes nothing.
        os._exit(0)
