"""Verify the ledger: recompute every hash chain, check the move index and an earlier digest."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import orjson
from sqlalchemy import Connection

from ledger.integrity_db import (
    EventRow,
    canonical_id,
    count_rows,
    event_pages,
    first_events,
    ledger_snapshot,
    move_index_pages,
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
        total = count_rows(conn, TABLES.events.name) + count_rows(conn, TABLES.moves.name)
        check = _Checker(conn, digest)
        done = 0
        for page in event_pages(conn):
            for row in page:
                check.event(*row)
            done += len(page)
            if progress is not None:
                progress(done, total)
        check.close_aggregate()
        for moves in move_index_pages(conn):
            for move in moves:
                check.move(*move)
            done += len(moves)
            if progress is not None:
                progress(done, total)
        problems = _name_aggregates(conn, check.problems + check.digest_problems())
    return VerifyReport(not problems, check.events, check.aggregates, problems, digest)


class _Checker:
    """Walks the log one aggregate at a time, keeping only that aggregate's last link."""

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
        self.raw: Any = None
        self.aggregate = ""
        self.head: Head | None = None
        self.prev_hash = GENESIS_HASH
        self.prev_version = 0
        self.prev_nid = -1

    def event(self, raw: Any, version: int, nid: int, topic: str, state: Any, stored: str) -> None:
        if raw != self.raw:
            self.close_aggregate()
            self.open_aggregate(raw)
        self.events += 1
        if type(state) is not bytes:
            state = _as_bytes(state)
        # The chain formula of ledger.persistence.chain.chain_hash, inlined with the
        # id already in canonical form: parsing a UUID per row would cost more than
        # the hash. Verifying any untouched ledger (tests/integration) checks they agree.
        header = f"{self.prev_hash}\n{topic}\n{self.aggregate}\n{version}\n".encode()
        linked = hashlib.sha256(header + state).hexdigest() == stored
        row: EventRow = (raw, version, nid, topic, state, stored)
        healthy = linked and version == self.prev_version + 1 and nid > self.prev_nid
        if not healthy and not self.explain(row, linked):
            return  # not a link of the chain: the next event links to the one before
        if self.digest is not None:
            self.check_coverage(row)
        self.prev_hash, self.prev_version, self.prev_nid = stored, version, nid

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

    def open_aggregate(self, raw: Any) -> None:
        self.raw = raw
        self.aggregate = canonical_id(self.conn, raw)
        self.aggregates += 1
        self.head = self.unseen.pop(self.aggregate, None)
        self.prev_hash, self.prev_version, self.prev_nid = GENESIS_HASH, 0, -1

    def close_aggregate(self) -> None:
        head = self.head
        if head is None or head.aggregate in self.ledger_heads:
            return
        if self.prev_version < head.version:
            detail = (
                f"the digest covered this aggregate to v{head.version}, the ledger now "
                f"ends at v{self.prev_version}: {_span(self.prev_version + 1, head.version)}"
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

    def move(self, move_id: str, raw: Any, version: int, nid: int | None, state: Any) -> None:
        if nid is None:
            detail = f"the move index points move {move_id!r} at an event that does not exist"
        else:
            parsed = _parse(_as_bytes(state))
            if parsed is None:
                return  # encrypted or compressed: unreadable here, and the chain covers it
            found = parsed.get("move_id")
            if found == move_id:
                return
            detail = f"the move index says move {move_id!r} is here, the event says {found!r}"
        aggregate = canonical_id(self.conn, raw)
        self.problems.append(Problem(MOVE_INDEX, detail, aggregate, version, nid, move_id))

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
