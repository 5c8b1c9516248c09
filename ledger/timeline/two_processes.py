"""An import's second process: on a big file with a core to spare, a forked worker folds
some of the file's talks and sends their rows and snapshots back.

Once the alliances are folded, each talks' new events depend only on its own recorded
events, the file's moves for it and what the batch already holds (roster, openings,
founding members), none of which a talks' fold changes: the talks can be folded by
either process. Both take the next talks from one shared counter (`ledger.forked`). The
worker loads through an engine of its own and only reads; nothing is written before the
import's one transaction, by its own process. The rows are then put back in the order of
the talks, so the log (notification ids, hash chain) is that of a one-process import.

Whatever the worker did not deliver (it refused a move, failed or died), the import's
process folds itself, in order: the error a refused file gives is the one-process error.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from eventsourcing.persistence import StoredEvent

from ledger.application import NegotiationLedger
from ledger.forked import Claims, Receiver, a_core_to_spare, fork
from ledger.persistence.engine import forget_engines
from ledger.timeline.batch import Batch, SnapshotList

PROCESSES = 1 if os.environ.get("SEATLEDGER_IMPORT_PROCESSES") == "1" else 2
"""2: a forked worker folds some talks of a big import (Linux only); 1: alone."""

SPLIT_FROM = 8_000
"""Fold in two processes only when the talks get at least this many of the file's moves."""
# Where a worker starts paying (SQLite, quiet 2-core machine, 2026-12-07, one process against
# two, with the 0.05 s gate): 4,900 moves 0.29-0.37 -> 0.32 s (no gain), 9,800 moves
# 0.55-0.59 -> 0.51-0.52 s. It was 20,000 while the gate waited 0.2 s.

BATCH: Final = 2_000
"""Moves the worker folds (in whole talks) before it sends their rows."""

Fold = Callable[[NegotiationLedger, Batch, Any, Callable[[], None]], None]
"""Fold one group of the file's moves (one talks) into a batch's rows and snapshots."""


@dataclass
class _Part:
    """One talks folded: its rows, where its snapshots are, and its new events."""

    rows: Sequence[StoredEvent]
    snapshots: range  # positions in the batch's snapshot index
    events: int


def worth_two_processes(moves: int, batch: Batch) -> bool:
    """Whether a worker should fold some of `moves` moves: a big file, a core to spare."""
    # 100k events in one file, a core to spare: 12.3-12.5 s -> 9.7-9.8 s on SQLite,
    # 14.2-14.7 s -> 11.0-11.3 s on PostgreSQL (BENCHMARKS.md). Under load the two only
    # share the CPU; below ~20k moves the fold is too short to pay for the fork.
    return PROCESSES >= 2 and not batch.dry_run and moves >= SPLIT_FROM and a_core_to_spare()


def fold_talks(
    app: NegotiationLedger,
    batch: Batch,
    groups: list[Any],
    fold: Fold,
    step: Callable[[], None],
    moves: int,
) -> None:
    """Fold every talks' group into `batch`, its rows in the order of `groups`."""
    claims = Claims(list(range(len(groups))))
    started = None
    if worth_two_processes(moves, batch):
        started = fork(claims, _work, app, batch, groups, fold)
    if started is None:
        for group in groups:
            fold(app, batch, group, step)
        return
    ahead, kept = batch.rows, len(batch.snapshots.index)
    batch.rows = []
    receiver = _Receiver(*started, batch, step)
    parts: dict[int, _Part] = {}
    error: tuple[int, Exception] | None = None
    try:
        while (index := claims.next()) is not None:
            try:
                parts[index] = _fold_one(app, batch, groups[index], fold, step)
            except Exception as refused:  # raised below unless an earlier talks fails first
                error = (index, refused)
                claims.close()
                break
            receiver.take_arrived(parts)
        receiver.take_rest(parts)
    finally:
        receiver.stop()
    for index in range(len(groups)):  # those the worker did not deliver, in order
        if index not in parts:
            if error is not None and index == error[0]:
                raise error[1]
            parts[index] = _fold_one(app, batch, groups[index], fold, step)
    batch.rows = ahead
    taken = batch.snapshots.index
    batch.snapshots.index = taken[:kept]
    for index in range(len(groups)):
        part = parts.pop(index)
        batch.rows.extend(part.rows)
        batch.events += part.events
        batch.snapshots.index.extend(taken[at] for at in part.snapshots)


def _fold_one(
    app: NegotiationLedger, batch: Batch, group: Any, fold: Fold, step: Callable[[], None]
) -> _Part:
    """Fold one talks in this process; its rows are kept apart until they are put in order."""
    rows, events, first = batch.rows, batch.events, len(batch.snapshots.index)
    batch.rows = []
    try:
        fold(app, batch, group, step)
        return _Part(batch.rows, range(first, len(batch.snapshots.index)), batch.events - events)
    finally:
        batch.rows, batch.events = rows, events


class _Receiver(Receiver):
    """The forked worker, seen from the import: the talks it delivered, as they arrive."""

    def __init__(self, process: Any, pipe: Any, batch: Batch, step: Callable[[], None]) -> None:
        super().__init__(process, pipe)
        self.batch, self.step = batch, step

    def take_arrived(self, parts: dict[int, _Part]) -> None:
        """Keep what has arrived, without waiting."""
        self.receive(lambda message: self._take(parts, message), wait=False)

    def take_rest(self, parts: dict[int, _Part]) -> None:
        """Wait for the worker to finish (or fail, or die), keeping what it delivers."""
        self.receive(lambda message: self._take(parts, message), wait=True)

    def _take(self, parts: dict[int, _Part], message: tuple[str, Any]) -> None:
        kind, value = message
        if kind != "talks":  # "done" or "failed": nothing more comes
            self.finished = True
            return
        snapshots = self.batch.snapshots
        for index, rows, taken, events, steps in value:
            first = len(snapshots.index)
            for stored in taken:
                snapshots.add_stored(stored)
            parts[index] = _Part(rows, range(first, len(snapshots.index)), events)
            for _ in range(steps):
                self.step()


def _work(pipe: Any, claims: Claims, app: NegotiationLedger, batch: Batch, groups: list[Any],
          fold: Fold) -> None:  # fmt: skip
    """The worker process: fold the talks it claims, send their rows in batches.

    It stops at the first talks it cannot fold (saying which): the import folds that one
    and every later one the worker had not delivered itself."""
    forget_engines()
    own = NegotiationLedger(app.url, recorded_by=app.recorded_by, env={"CREATE_TABLE": "no"})
    # The parent's spill file is the parent's: the worker keeps its snapshots to send them.
    snapshots = batch.snapshots = SnapshotList()
    batch.rows, batch.events = [], 0
    done: list[tuple[int, list[StoredEvent], list[StoredEvent], int, int]] = []
    pending = steps = 0

    def step() -> None:
        nonlocal steps
        steps += 1

    while (index := claims.next()) is not None:
        steps = 0
        try:
            fold(own, batch, groups[index], step)
        except Exception:
            pipe.send(("talks", done))
            pipe.send(("failed", index))
            return
        done.append((index, batch.rows, snapshots.take(), batch.events, steps))
        pending += batch.events
        batch.rows, batch.events = [], 0
        if pending >= BATCH:
            pipe.send(("talks", done))
            done, pending = [], 0
    pipe.send(("talks", done))
    pipe.send(("done", None))
