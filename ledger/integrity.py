"""Verify the ledger: recompute every hash chain, check the move index and an earlier digest."""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import replace
from operator import itemgetter
from typing import Any

import orjson
from sqlalchemy import Connection

from ledger.integrity_db import (
    Batches,
    EventRow,
    MoveRow,
    canonical_id,
    count_rows,
    event_batches,
    first_events,
    ledger_snapshot,
    move_batches,
)
from ledger.integrity_digest import (
    Digest,
    Head,
    compute_digest,
    leaf_hash,
    merkle_root,
    read_digest,
    write_digest,
)
from ledger.integrity_report import (
    BAD_VERSION,
    DIGEST,
    HASH_MISMATCH,
    MISSING_VERSIONS,
    MOVE_INDEX,
    NOTIFICATION_ORDER,
    Problem,
    VerifyReport,
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


def verify(
    url: str, *, digest: Digest | None = None, progress: Progress | None = None
) -> VerifyReport:
    """Recompute every hash chain of the ledger at `url` and report every problem."""
    with ledger_snapshot(url) as conn:
        total = 0 if progress is None else count_rows(conn, TABLES.events.name)
        check = _Checker(conn, digest)
        with closing(move_batches(conn)) as moves:
            check.moves = _MoveIndex(conn, moves)
            _walk(check, progress, total)
        problems = check.problems + sorted(check.moves.problems, key=_by_move_id)
        problems = _name_aggregates(conn, problems + check.digest_problems())
    return VerifyReport(not problems, check.events, check.aggregates, problems, digest)


def _walk(check: _Checker, progress: Progress | None, total: int) -> None:
    """Check every event's link, and the move index along the way, in one ordered scan.

    The loop is the hot path of verify: a healthy event costs one SHA-256, a few
    comparisons and a dictionary lookup; anything else goes through the checker.
    """
    sha256 = hashlib.sha256
    digest = check.digest is not None
    index = check.moves
    current: Any = _NOTHING
    loads, JSONDecodeError = orjson.loads, orjson.JSONDecodeError
    aggregate, moves = "", index.entries
    matched = index.matched.add
    prev_hash, prev_version, prev_nid = GENESIS_HASH, 0, -1
    done = 0
    with closing(event_batches(check.conn)) as batches:
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
                if not (linked and version == prev_version + 1 and nid > prev_nid):
                    check.prev_version, check.prev_nid = prev_version, prev_nid
                    if not check.explain(row, linked):
                        continue  # not a link of the chain: the next links to the one before
                if digest:
                    check.check_coverage(row)
                prev_hash, prev_version, prev_nid = stored, version, nid
            done += len(rows)
            check.events = done
            if progress is not None:
                progress(done, total)
    check.close_aggregate(prev_version)
    index.finish()


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

    def __init__(self, conn: Connection, batches: Batches[MoveRow]) -> None:
        self.conn = conn
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

    def nowhere(self, raw: Any, version: int, move_id: str) -> None:
        detail = f"the move index points move {move_id!r} at an event that does not exist"
        aggregate = canonical_id(self.conn, raw)
        self.problems.append(Problem(MOVE_INDEX, detail, aggregate, version, None, move_id))


class _Checker:
    """Keeps what the walk needs beyond the current link: problems, the digest's heads."""

    def __init__(self, conn: Connection, digest: Digest | None) -> None:
        self.conn = conn
        self.digest = digest
        self.position = -1 if digest is None else digest.position
        self.unseen: dict[str, Head] = (
            {} if digest is None else {h.aggregate: h for h in digest.heads}
        )
        self.ledger_heads: dict[str, str] = {}
        self.problems: list[Problem] = []
        self.events = 0
        self.aggregates = 0
        self.aggregate = ""
        self.head: Head | None = None
        self.prev_version = 0
        self.prev_nid = -1
        self.moves: _MoveIndex

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
        self.aggregate = canonical_id(self.conn, raw)
        self.aggregates += 1
        self.head = self.unseen.pop(self.aggregate, None)
        return self.aggregate

    def close_aggregate(self, last_version: int) -> None:
        head = self.head
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
        self.head = None

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
