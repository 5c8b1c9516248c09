"""The checks behind verify's walk: each aggregate's chain, the move index, the digest's heads.

`verifier` streams the log in (aggregate, version) order and hands these classes every row
that is not a healthy link; they name what is wrong, in the user's words.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

import orjson

from ledger.integrity.digest import Digest, Head, leaf_hash, merkle_root
from ledger.integrity.findings import (
    BAD_VERSION,
    DIGEST,
    HASH_MISMATCH,
    MISSING_VERSIONS,
    MOVE_INDEX,
    NOTIFICATION_ORDER,
    Problem,
)
from ledger.integrity.log_reader import Batches, EventRow, MoveRow


@dataclass
class Part:
    """What a worker found in its half of the log, for verify's process to add up."""

    problems: list[Problem]
    move_problems: list[Problem]
    events: int
    aggregates: int
    ledger_heads: dict[str, str]
    seen: list[str]


NOTHING = object()
"""Stands for "no aggregate yet": equal to no originator id a driver returns."""


_first = itemgetter(0)


def by_move_id(problem: Problem) -> str:
    return problem.move_id or ""


class Several:
    """The move ids of several index entries at one version (a forged entry beside the real).

    Never equal to a payload's move id, so that verify's walk sends it to MoveIndex.check.
    """

    __slots__ = ("ids",)

    def __init__(self, ids: list[str]) -> None:
        self.ids = ids


Entry = str | Several
"""The move id of one version's index entry, or the ids of its several entries."""


def entries_by_version(rows: Sequence[MoveRow]) -> dict[int, Entry]:
    """One aggregate's index entries by version: a move id each, Several where entries share one.

    A string per entry, not a list: saves verify ~1 s of its ~6 s of CPU at 1M events on
    SQLite (17%; 3% at 100k), the allocation of a million lists and the collector's passes.
    """
    entries: dict[int, Entry] = {version: move_id for _, version, move_id in rows}
    if len(entries) == len(rows):
        return entries
    several: dict[int, list[str]] = {}
    for _, version, move_id in rows:
        several.setdefault(version, []).append(move_id)
    return {v: ids[0] if len(ids) == 1 else Several(ids) for v, ids in several.items()}


def entry_ids(entry: Entry) -> list[str]:
    return entry.ids if isinstance(entry, Several) else [entry]


class MoveIndex:
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
        self.raw: Any = NOTHING
        self.entries: dict[int, Entry] = {}
        self.matched: set[int] = set()

    def at(self, raw: Any) -> dict[int, Entry]:
        """Return the entries of aggregate `raw` by version; report those left before it.

        `raw` None takes every entry left: they point at no event.
        """
        self.close()
        self.raw = raw
        mine: list[MoveRow] = []
        rows, start = self.rows, self.next
        while True:
            if start >= len(rows):
                rows, start = next(self.batches, ()), 0
                if not rows:
                    break
            # The entries up to this aggregate's last are a run of the sorted batch; those
            # sorting before it belong to aggregates without a single event.
            end = len(rows) if raw is None else bisect_right(rows, raw, start, key=_first)
            first = end if raw is None else bisect_left(rows, raw, start, end, key=_first)
            for entry_raw, version, move_id in rows[start:first]:
                self.nowhere(entry_raw, version, move_id)
            mine += rows[first:end]
            start = end
            if end < len(rows):
                break
        self.rows, self.next = rows, start
        self.entries = entries_by_version(mine)
        self.matched = set()
        return self.entries

    def check(self, entry: Entry, aggregate: str, version: int, nid: int, payload: Any) -> None:
        """Report the entries pointing at an event whose payload carries another move id."""
        if not isinstance(payload, dict):
            return  # encrypted or compressed: unreadable here, and the chain covers it
        found = payload.get("move_id")
        for move_id in entry_ids(entry):
            if found != move_id:
                detail = f"the move index says move {move_id!r} is here, the event says {found!r}"
                self.problems.append(Problem(MOVE_INDEX, detail, aggregate, version, nid, move_id))

    def close(self) -> None:
        """Report the current aggregate's entries that pointed at no event."""
        for version, entry in self.entries.items():
            if version not in self.matched:
                for move_id in entry_ids(entry):
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
        parsed = parse_state(state) or {}
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


class ChainChecker:
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

    def part(self) -> Part:
        """What this checker found, for another process's checker to absorb."""
        return Part(
            self.problems,
            self.move_problems,
            self.events,
            self.aggregates,
            self.ledger_heads,
            self.seen,
        )

    def absorb(self, part: Part) -> None:
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


def as_bytes(state: Any) -> bytes:
    # SQLite hands back TEXT if someone rewrote a state with a string function.
    if isinstance(state, bytes):
        return state
    return state.encode() if isinstance(state, str) else bytes(state)


def parse_state(state: bytes) -> dict[str, Any] | None:
    try:
        parsed = orjson.loads(state)
    except orjson.JSONDecodeError:
        return None
    return parsed if isinstance(parsed, dict) else None


def _move_id(state: bytes) -> str | None:
    found = (parse_state(state) or {}).get("move_id")
    return None if found is None else str(found)


def _span(first: int, last: int) -> str:
    return f"v{first}" if first == last else f"versions {first}-{last}"
