"""Verify the ledger: recompute every hash chain, check the move index and an earlier digest."""

from __future__ import annotations

import gc
import hashlib
import multiprocessing
import os
import sys
from collections.abc import Callable
from contextlib import closing
from dataclasses import replace
from typing import Any

import orjson
from sqlalchemy import Connection

from ledger.integrity.chains import (
    NOTHING,
    ChainChecker,
    MoveIndex,
    Part,
    as_bytes,
    by_move_id,
    parse_state,
)
from ledger.integrity.digest import (
    Digest,
    Head,
    compute_digest,
    leaf_hash,
    merkle_root,
    read_digest,
    write_digest,
)
from ledger.integrity.findings import (
    BAD_VERSION,
    DIGEST,
    HASH_MISMATCH,
    MISSING_VERSIONS,
    MOVE_INDEX,
    NOTIFICATION_ORDER,
    Problem,
    VerifyReport,
)
from ledger.integrity.log_reader import (
    FETCH_SIZE,
    LogReader,
    count_rows,
    first_events,
    ledger_snapshot,
    log_reader,
    max_notification_id,
    reader_in_snapshot,
    share_snapshot,
)
from ledger.persistence.chain import GENESIS_HASH
from ledger.persistence.schema import TABLES

__all__ = [
    "BAD_VERSION",
    "DIGEST",
    "HASH_MISMATCH",
    "MISSING_VERSIONS",
    "MOVE_INDEX",
    "NOTIFICATION_ORDER",
    "Digest",
    "Head",
    "Problem",
    "VerifyReport",
    "compute_digest",
    "leaf_hash",
    "merkle_root",
    "read_digest",
    "verify",
    "write_digest",
]

Progress = Callable[[int, int], None]


PROCESSES = 2
"""2: a forked worker checks half of a big log (Linux only); 1: verify works alone."""

SPLIT_FROM = 20_000
"""Split only a log that reaches this notification id: a smaller one is checked sooner alone."""

SPARE_LOAD = 0.5
"""A worker is started only while the 1-minute load average is at most cores - 1 + this."""

SPLIT_AT = "80000000-0000-0000-0000-000000000000"
"""The worker checks the aggregates from this id on, verify's own process those below it.

Aggregate ids are UUIDs derived from slugs (or random), so this halves the aggregates."""


Derived = Callable[[Connection], list[Problem]]
"""Checks the data derived from the log (views, snapshots) in verify's read snapshot."""


def verify(
    url: str,
    *,
    digest: Digest | None = None,
    progress: Progress | None = None,
    derived: Derived | None = None,
) -> VerifyReport:
    """Recompute every hash chain of the ledger at `url` and report every problem.

    `derived` (from the read side: `projections.views.verify.DerivedChecker`) also
    checks what is derived from the log, in the same snapshot, after the chains.
    """
    with ledger_snapshot(url) as conn:
        total = 0 if progress is None else count_rows(conn, TABLES.events.name)
        check = ChainChecker(digest)
        reader = log_reader(conn)
        worker = _Worker.start(url, conn, reader, digest) if _split(conn) else None
        try:
            if worker is None:
                _walk(check, reader, _ticker(progress, total, None))
            else:
                _walk(check, reader.part(None, SPLIT_AT), _ticker(progress, total, worker))
                part = worker.result()
                if part is None:  # it failed, or SQLite's log moved: check its half here
                    _walk(check, reader.part(SPLIT_AT, None), _ticker(progress, total, None))
                else:
                    check.absorb(part)
                    if progress is not None:
                        progress(check.events, total)
        finally:
            if worker is not None:
                worker.stop()
        problems = check.problems + sorted(check.move_problems, key=by_move_id)
        problems += check.digest_problems()
        if derived is not None:
            problems += derived(conn)
        problems = _name_aggregates(conn, problems)
    return VerifyReport(
        not problems, check.events, check.aggregates, problems, digest, derived is not None
    )


def _split(conn: Connection) -> bool:
    """Whether a worker should check half of the log: a big log, and a core to spare."""
    if PROCESSES < 2 or sys.platform != "linux":
        return False
    # Measured on a 2-core machine that others kept busy (load average 7-10): the
    # scheduler shares the CPU between sessions, not processes, so a worker only
    # added its ~10% overhead. With a core idle it halves verify's CPU-bound time.
    cores = len(os.sched_getaffinity(0))
    if cores < 2 or os.getloadavg()[0] > cores - 1 + SPARE_LOAD:
        return False
    return max_notification_id(conn) >= SPLIT_FROM


Tick = Callable[[int], None]


def _ticker(progress: Progress | None, total: int, worker: _Worker | None) -> Tick:
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


class _Worker:
    """A forked process that checks the aggregates from SPLIT_AT on, in the same snapshot.

    It reads through a connection of its own (PostgreSQL imports the exported snapshot;
    SQLite checks that it sees the same log) and sends back its problems, which verify
    adds after its own: the report is the one a single process would make. If anything
    goes wrong in it, verify checks that half itself.
    """

    def __init__(self, process: Any, pipe: Any) -> None:
        self.process, self.pipe = process, pipe
        self.done = 0
        self.finished = False
        self.part: Part | None = None

    @classmethod
    def start(
        cls, url: str, conn: Connection, reader: LogReader, digest: Digest | None
    ) -> _Worker | None:
        """Fork the worker; None if that cannot be done here (then verify works alone)."""
        token = share_snapshot(conn)
        if token is None:
            return None
        try:
            context = multiprocessing.get_context("fork")
            receiver, sender = context.Pipe(duplex=False)
            mine = reader.part(SPLIT_AT, None)
            process = context.Process(
                target=_work, args=(sender, url, token, mine, digest), daemon=True
            )
            process.start()  # refused, for one, inside a daemonic process
        except Exception:
            return None
        sender.close()
        return cls(process, receiver)

    def poll(self) -> None:
        """Take the worker's progress reports that have arrived, without waiting."""
        try:
            while not self.finished and self.pipe.poll():
                self._take(self.pipe.recv())
        except (EOFError, OSError):
            self.finished = True

    def result(self) -> Part | None:
        """Wait for the worker; return its part, or None if it did not finish its half."""
        try:
            while not self.finished:
                self._take(self.pipe.recv())
        except (EOFError, OSError):
            self.finished = True
        return self.part

    def _take(self, message: tuple[str, Any]) -> None:
        kind, value = message
        if kind == "progress":
            self.done = value
        else:
            self.finished = True
            self.part = value if kind == "done" else None

    def stop(self) -> None:
        self.pipe.close()
        if self.process.is_alive() and not self.finished:
            self.process.kill()
        self.process.join()


def _work(pipe: Any, url: str, token: str, reader: LogReader, digest: Digest | None) -> None:
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

            _walk(check, mine, tick)
            pipe.send(("done", check.part()))
    except BaseException:  # verify's process checks this half itself
        pipe.send(("failed", None))
    finally:
        pipe.close()
        # Leave at once: multiprocessing's exit path flushes stdout and stderr, whose locks
        # another thread of the parent (a progress bar's refresh) may have held at the fork,
        # and verify would then wait for a child that never ends. This child writes nothing.
        os._exit(0)


def _walk(check: ChainChecker, reader: LogReader, tick: Tick) -> None:
    """Check every event's link, and the move index along the way, in one ordered scan.

    The loop is the hot path of verify: a healthy event costs one SHA-256, a few
    comparisons and a dictionary lookup; anything else goes through the checker.
    """
    sha256 = hashlib.sha256
    digest = check.digest is not None
    check.canonical = reader.canonical
    current: Any = NOTHING
    loads, JSONDecodeError = orjson.loads, orjson.JSONDecodeError
    prev_hash, prev_version, prev_nid = GENESIS_HASH, 0, -1
    with closing(reader.moves()) as index_batches, closing(reader.events()) as batches:
        index = MoveIndex(reader.canonical, index_batches)
        moves = index.entries
        matched = index.matched.add
        for rows in batches:
            for row in rows:
                raw, version, nid, topic, state, stored = row
                if raw != current:
                    check.close_aggregate(prev_version)
                    aggregate = check.open_aggregate(raw)
                    moves = index.at(raw)
                    matched = index.matched.add
                    current = raw
                    prev_hash, prev_version, prev_nid = GENESIS_HASH, 0, -1
                if type(state) is not bytes:
                    state = as_bytes(state)
                    row = (raw, version, nid, topic, state, stored)
                move_ids = moves.get(version)
                if move_ids is not None:
                    matched(version)
                    try:
                        payload = loads(state)
                    except JSONDecodeError:
                        payload = None  # encrypted or compressed: the chain covers it
                    if (
                        type(payload) is not dict
                        or payload.get("move_id") != move_ids[0]
                        or len(move_ids) > 1
                    ):
                        index.check(move_ids, aggregate, version, nid, payload)
                # The chain formula of ledger.persistence.chain.chain_hash, inlined with
                # the id already in canonical form: parsing a UUID per row would cost
                # more than the hash. Verifying any untouched ledger checks they agree.
                header = f"{prev_hash}\n{topic}\n{aggregate}\n{version}\n".encode()
                linked = sha256(header + state).hexdigest() == stored
                if move_ids is None and linked and b'"move_id":' in state:
                    # A move of the chain with no index entry: the entry was deleted. (An
                    # event that does not link is named for that; its entry is no news.)
                    index.unindexed(aggregate, version, nid, topic, state)
                if not (linked and version == prev_version + 1 and nid > prev_nid):
                    check.prev_version, check.prev_nid = prev_version, prev_nid
                    if not check.explain(row, linked):
                        continue  # not a link of the chain: the next links to the one before
                if digest:
                    check.check_coverage(row)
                prev_hash, prev_version, prev_nid = stored, version, nid
            check.events += len(rows)
            tick(check.events)
        check.close_aggregate(prev_version)
        index.finish()
    check.move_problems += index.problems




def _name_aggregates(conn: Connection, problems: list[Problem]) -> list[Problem]:
    """Add each problem's negotiation (or alliance) slug, read from its aggregate's first event."""
    ids = sorted({p.aggregate_id for p in problems if p.aggregate_id is not None})
    names: dict[str, tuple[str, str]] = {}
    for aggregate, state in first_events(conn, ids).items():
        parsed = parse_state(as_bytes(state)) or {}
        for key in ("negotiation", "alliance"):
            if isinstance(parsed.get(key), str):
                names[aggregate] = (key, parsed[key])
                break
    named = []
    for problem in problems:
        found = names.get(problem.aggregate_id or "")
        named.append(
            problem if found is None else replace(problem, aggregate_type=found[0], slug=found[1])
        )
    return named

