"""Verify the ledger: recompute every hash chain, check the move index and an earlier digest."""

from __future__ import annotations

import gc
import hashlib
import multiprocessing
import os
import sys
from bisect import bisect_right
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass, replace
from operator import itemgetter
from typing import Any

import orjson
from sqlalchemy import Connection

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
    Batches,
    EventRow,
    LogReader,
    MoveRow,
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
        check = _Checker(digest)
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
        problems = check.problems + sorted(check.move_problems, key=_by_move_id)
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


@dataclass
class _Part:
    """What a worker found in its half of the log, for verify's process to add up."""

    problems: list[Problem]
    move_problems: list[Problem]
    events: int
    aggregates: int
    ledger_heads: dict[str, str]
    seen: list[str]


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
        self.part: _Part | None = None

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

    def result(self) -> _Part | None:
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
            check = _Checker(digest)
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


def _walk(check: _Checker, reader: LogReader, tick: Tick) -> None:
    """Check every event's link, and the move index along the way, in one ordered scan.

    The loop is the hot path of verify: a healthy event costs one SHA-256, a few
    comparisons and a dictionary lookup; anything else goes through the checker.
    """
    sha256 = hashlib.sha256
    digest = check.digest is not None
    check.canonical = reader.canonical
    current: Any = _NOTHING
    loads, JSONDecodeError = orjson.loads, orjson.JSONDecodeError
    prev_hash, prev_version, prev_nid = GENESIS_HASH, 0, -1
    with closing(reader.moves()) as index_batches, closing(reader.events()) as batches:
        index = _MoveIndex(reader.canonical, index_batches)
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
                    state = _as_bytes(state)
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


_NOTHING = object()
"""Stands for "no aggregate yet": equal to no originator id a driver returns."""


_first = itemgetter(0)


def _by_move_id(problem: Problem) -> str:
    return problem.move_id or ""


class _MoveIndex:
    """The move index, read in the log's order: each aggregate's entries by version.

    Verify walks the log ordered by (aggregate, version) and reads the index ordered the
    same way, so it holds only the current aggregate's entries. An entry must point at
    an event, and that event's payload must carry the entry's move id.
    """

    def __init__(self, canonical: Callable[[Any], str], batches: Batches[MoveRow]) -> None:
        self.canonical = canonical
        self.batches = batches
        self.rows: Sequence[MoveRow] = ()
        self.next = 0
        self.problems: list[Problem] = []
        self.raw: Any = _NOTHING
        self.entries: dict[int, list[str]] = {}
        self.matched: set[int] = set()

    def at(self, raw: Any) -> dict[int, list[str]]:
        """Return the entries of aggregate `raw` by version; report those left before it.

        `raw` None takes every entry left: they point at no event.
        """
        self.close()
        self.raw = raw
        entries: dict[int, list[str]] = {}
        rows, start = self.rows, self.next
        while True:
            if start >= len(rows):
                rows, start = next(self.batches, ()), 0
                if not rows:
                    break
            # The entries up to this aggregate's last are a run of the sorted batch.
            end = len(rows) if raw is None else bisect_right(rows, raw, start, key=_first)
            run = rows[start:end]
            if run and run[0][0] == raw:
                for _, version, move_id in run:  # all of this aggregate
                    if version in entries:
                        entries[version].append(move_id)
                    else:
                        entries[version] = [move_id]
            else:
                for entry_raw, version, move_id in run:
                    if entry_raw == raw:
                        entries.setdefault(version, []).append(move_id)
                    else:  # an aggregate without a single event
                        self.nowhere(entry_raw, version, move_id)
            start = end
            if end < len(rows):
                break
        self.rows, self.next = rows, start
        self.entries = entries
        self.matched = set()
        return entries

    def check(
        self, move_ids: list[str], aggregate: str, version: int, nid: int, payload: Any
    ) -> None:
        """Report the entries pointing at an event whose payload carries another move id."""
        if not isinstance(payload, dict):
            return  # encrypted or compressed: unreadable here, and the chain covers it
        found = payload.get("move_id")
        for move_id in move_ids:
            if found != move_id:
                detail = f"the move index says move {move_id!r} is here, the event says {found!r}"
                self.problems.append(Problem(MOVE_INDEX, detail, aggregate, version, nid, move_id))

    def close(self) -> None:
        """Report the current aggregate's entries that pointed at no event."""
        for version, move_ids in self.entries.items():
            if version not in self.matched:
                for move_id in move_ids:
                    self.nowhere(self.raw, version, move_id)
        self.entries = {}

    def finish(self) -> None:
        """Report every entry after the last aggregate of the log (they point at nothing)."""
        self.at(None)

    def unindexed(self, aggregate: str, version: int, nid: int, topic: str, state: bytes) -> None:
        """Report an event whose move id has no entry in the index (the entry was deleted).

        As ledger.persistence.mapper.indexed_move_id decides: alliance moves mirrored into a
        negotiation, and corrections of them, are not indexed.
        """
        parsed = _parse(state) or {}
        move_id = parsed.get("move_id")
        if not isinstance(move_id, str) or topic.endswith(":AllianceMembershipMirrored"):
            return
        if topic.endswith(":MoveCorrected") and parsed.get("mirror"):
            return
        detail = f"the move index has no entry for move {move_id!r} of this event (deleted)"
        self.problems.append(Problem(MOVE_INDEX, detail, aggregate, version, nid, move_id))

    def nowhere(self, raw: Any, version: int, move_id: str) -> None:
        detail = f"the move index points move {move_id!r} at an event that does not exist"
        aggregate = self.canonical(raw)
        self.problems.append(Problem(MOVE_INDEX, detail, aggregate, version, None, move_id))


class _Checker:
    """Keeps what the walk needs beyond the current link: problems, the digest's heads."""

    def __init__(self, digest: Digest | None) -> None:
        self.digest = digest
        self.position = -1 if digest is None else digest.position
        self.unseen: dict[str, Head] = (
            {} if digest is None else {h.aggregate: h for h in digest.heads}
        )
        self.seen: list[str] = []
        self.ledger_heads: dict[str, str] = {}
        self.problems: list[Problem] = []
        self.move_problems: list[Problem] = []
        self.events = 0
        self.aggregates = 0
        self.aggregate = ""
        self.head: Head | None = None
        self.prev_version = 0
        self.prev_nid = -1
        self.canonical: Callable[[Any], str] = str

    def part(self) -> _Part:
        """What this checker found, for another process's checker to absorb."""
        return _Part(
            self.problems,
            self.move_problems,
            self.events,
            self.aggregates,
            self.ledger_heads,
            self.seen,
        )

    def absorb(self, part: _Part) -> None:
        """Add what a worker found in the aggregates after this checker's."""
        self.problems += part.problems
        self.move_problems += part.move_problems
        self.events += part.events
        self.aggregates += part.aggregates
        self.ledger_heads.update(part.ledger_heads)
        for aggregate in part.seen:
            self.unseen.pop(aggregate, None)

    def explain(self, row: EventRow, linked: bool) -> bool:
        """Report why an event does not link; return False if it is no link at all."""
        _, version, nid, _, _, _ = row
        prev = self.prev_version
        if version <= prev:
            detail = f"version {version} does not extend the chain after v{prev}"
            self.report(row, BAD_VERSION, detail + " (a forged or duplicated event)")
            return False
        if version > prev + 1:
            missing = _span(prev + 1, version - 1)
            self.report(row, MISSING_VERSIONS, f"{missing} missing before this event (deleted)")
        elif not linked:
            after = f"v{prev}'s hash" if prev else "the genesis hash"
            detail = f"stored hash does not match the event's content chained to {after}"
            self.report(
                row, HASH_MISMATCH, detail + " (content changed, events swapped, or forged)"
            )
        if nid <= self.prev_nid:
            detail = f"notification {nid} is not after v{prev}'s notification {self.prev_nid}"
            self.report(row, NOTIFICATION_ORDER, detail + " (events re-ordered)")
        return True

    def open_aggregate(self, raw: Any) -> str:
        self.aggregate = self.canonical(raw)
        self.aggregates += 1
        self.head = self.unseen.pop(self.aggregate, None)
        if self.head is not None:
            self.seen.append(self.aggregate)
        return self.aggregate

    def close_aggregate(self, last_version: int) -> None:
        head, self.head = self.head, None
        if head is None or head.aggregate in self.ledger_heads:
            return
        if last_version < head.version:
            detail = (
                f"the digest covered this aggregate to v{head.version}, the ledger now "
                f"ends at v{last_version}: {_span(last_version + 1, head.version)}"
                " deleted"
            )
        else:
            detail = f"v{head.version}, the digest's head of this aggregate, is missing (deleted)"
        self.problems.append(Problem(DIGEST, detail, head.aggregate, head.version))

    def check_coverage(self, row: EventRow) -> None:
        _, version, nid, _, _, stored = row
        head = self.head
        covered = head is not None and version <= head.version
        if covered and nid > self.position:
            self.report(
                row,
                DIGEST,
                f"the digest covered this version, but its notification "
                f"{nid} is after the digest's position {self.position} (written again)",
            )
        elif not covered and nid <= self.position:
            self.report(
                row,
                DIGEST,
                f"the digest did not cover this event, but its notification "
                f"{nid} is within the digest's position {self.position} (inserted)",
            )
        if head is not None and version == head.version:
            self.ledger_heads.setdefault(head.aggregate, stored)
            if stored != head.hash:
                self.report(
                    row,
                    DIGEST,
                    f"the digest recorded hash {head.hash[:16]}... for this "
                    f"event; the ledger now holds {stored[:16]}... (rewritten)",
                )

    def report(self, row: EventRow, kind: str, detail: str) -> None:
        _, version, nid, _, state, _ = row
        move_id = _move_id(state)
        self.problems.append(Problem(kind, detail, self.aggregate, version, nid, move_id))

    def digest_problems(self) -> list[Problem]:
        if self.digest is None:
            return []
        problems = []
        consistent = self.digest.computed_root() == self.digest.root
        if not consistent:
            problems.append(
                Problem(
                    DIGEST,
                    "the digest's root does not match its own heads (the digest was altered)",
                )
            )
        for head in self.unseen.values():
            detail = (
                f"the digest covered this aggregate to v{head.version}; the ledger holds "
                "none of its events (deleted)"
            )
            problems.append(Problem(DIGEST, detail, head.aggregate, head.version))
        if len(self.ledger_heads) == len(self.digest.heads):
            # Not Head objects: a rewritten hash need not even look like one.
            leaves = [
                leaf_hash(h.aggregate, h.version, self.ledger_heads[h.aggregate])
                for h in self.digest.heads
            ]
            root = merkle_root(leaves)
            if consistent and root != self.digest.root:
                problems.append(
                    Problem(
                        DIGEST,
                        f"the Merkle root over the ledger's events at the "
                        f"digest's heads is {root[:16]}..., the digest's is "
                        f"{self.digest.root[:16]}...",
                    )
                )
        else:
            missing = len(self.digest.heads) - len(self.ledger_heads)
            problems.append(
                Problem(
                    DIGEST,
                    f"the digest's Merkle root cannot be recomputed: "
                    f"{missing} of its {len(self.digest.heads)} heads no longer exist",
                )
            )
        return problems


def _name_aggregates(conn: Connection, problems: list[Problem]) -> list[Problem]:
    """Add each problem's negotiation (or alliance) slug, read from its aggregate's first event."""
    ids = sorted({p.aggregate_id for p in problems if p.aggregate_id is not None})
    names: dict[str, tuple[str, str]] = {}
    for aggregate, state in first_events(conn, ids).items():
        parsed = _parse(_as_bytes(state)) or {}
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


def _as_bytes(state: Any) -> bytes:
    # SQLite hands back TEXT if someone rewrote a state with a string function.
    if isinstance(state, bytes):
        return state
    return state.encode() if isinstance(state, str) else bytes(state)


def _parse(state: bytes) -> dict[str, Any] | None:
    try:
        parsed = orjson.loads(state)
    except orjson.JSONDecodeError:
        return None
    return parsed if isinstance(parsed, dict) else None


def _move_id(state: bytes) -> str | None:
    found = (_parse(state) or {}).get("move_id")
    return None if found is None else str(found)


def _span(first: int, last: int) -> str:
    return f"v{first}" if first == last else f"versions {first}-{last}"
