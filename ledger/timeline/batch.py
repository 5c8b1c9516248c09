"""What an import keeps while it folds a file: the rows to write, alliances, the roster, and
the snapshots it has taken (spilled to a temporary file, so that memory stays flat)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

from ledger.application import NegotiationLedger
from ledger.domain.alliance import Alliance, AllianceFormed, PartyRoster, alliance_id
from ledger.domain.errors import NotFoundError
from ledger.domain.negotiation import negotiation_id
from ledger.domain.snapshot import StorySnapshot
from ledger.domain.snapshot_parts import PartsUnavailable
from ledger.domain.story_aggregate import Storied
from ledger.persistence.chain import as_uuid
from ledger.persistence.prefetch import Prefetched
from ledger.persistence.snapshots import write_snapshots
from ledger.timeline.document import (
    NegotiationSpec,
)


class Batch:
    """What an import keeps while it folds the file one aggregate at a time.

    Alliances (small) and the roster stay in memory; each negotiation is loaded (or
    opened), given its moves, turned into stored rows and a snapshot, and dropped. At a
    million events, 500 talks of 2,000 moves each held at once were most of the import's
    memory; only the rows to write (and, spilled to a temporary file, the snapshots to
    write after them) are kept now.
    """

    def __init__(self, app: NegotiationLedger, dry_run: bool = False) -> None:
        self.app = app
        self.dry_run = dry_run  # count the new events; encode nothing
        self.in_file_order = False  # the file says `order: recorded` (see timeline.items)
        self.roster: PartyRoster = app.roster()
        self.alliances: dict[str, Alliance] = {}
        self.openings: dict[str, NegotiationSpec] = {}  # talks the file opens
        self.founding: dict[str, list[Any]] = {}  # alliance -> its membership moves before
        self.alliance_slugs: dict[str, str | None] = {}  # negotiation -> its alliance
        self.alliance_keys: dict[UUID, str] = {}  # aggregate id -> slug of alliances
        self.negotiation_keys: set[UUID] = set()
        self.rows: list[StoredEvent] = []  # the talks' new events, as stored rows
        self.snapshots = SnapshotSpill()
        self.events = 0
        self.prefetched = Prefetched({})  # the talks it extends, read at once

    def alliance(self, slug: str) -> Alliance:
        if slug not in self.alliances:
            self.alliances[slug] = self.app.alliance(slug)
            self.alliance_keys[alliance_id(slug)] = slug
        return self.alliances[slug]

    def alliance_of(self, slug: str) -> str | None:
        """The alliance a negotiation belongs to, from its opening alone."""
        if slug not in self.alliance_slugs:
            self.alliance_slugs[slug] = opening_of(self.app, slug).alliance
        return self.alliance_slugs[slug]

    def alliance_key(self, key: UUID) -> bool:
        """True if this aggregate is an alliance (then it is loaded and kept)."""
        if key in self.alliance_keys:
            return True
        if key in self.negotiation_keys:
            return False
        first = self.app.recorder.select_events(key, limit=1)
        if first and first[0].topic == get_topic(AllianceFormed):
            self.alliance(self.app.mapper.to_domain_event(first[0]).alliance)  # type: ignore[attr-defined]
            return True
        self.negotiation_keys.add(key)
        return False

    def done(self, aggregate: Storied[Any] | PartyRoster, snapshot: bool = True) -> None:
        """Keep an aggregate's new events as rows (and its snapshot); it may be dropped.

        The snapshot is taken first: if that fails (PartsUnavailable), nothing is kept and
        the aggregate can be folded again."""
        events = aggregate.collect_events()
        if not events:
            return
        taken = None
        if snapshot and not self.dry_run and isinstance(aggregate, Storied):
            taken = self._snapshot(aggregate)
        self.events += len(events)
        if self.dry_run:
            return
        self.rows.extend(map(self.app.mapper.to_stored_event, events))
        if taken is not None:
            self.snapshots.add_stored(taken)

    def _snapshot(self, aggregate: Storied[Any]) -> StoredEvent | None:
        store = self.app.snapshots
        if store is None or not worth_a_snapshot(aggregate):
            return None
        return store.mapper.to_stored_event(StorySnapshot.take(aggregate))


IMPORT_SNAPSHOT_FROM = 50
"""An import snapshots an aggregate it extends once this many events follow its snapshot."""


def worth_a_snapshot(aggregate: Storied[Any]) -> bool:
    """Whether an import snapshots an aggregate it extended: when its next load would
    otherwise replay IMPORT_SNAPSHOT_FROM events or more after the snapshot it has."""
    # Saves replaying each talks' events since its last snapshot (taken only every
    # SNAPSHOT_EVERY events before) when the next file extends it: 100k events as ten
    # files cut by time on SQLite, 19.1-19.6 s of CPU instead of 20.6-22.6 s. Counted from
    # its snapshot, not from its first event: a small file that adds a few moves to each of
    # hundreds of long talks re-wrote every one's snapshot (1,000 moves into 346 talks of a
    # 900k-event ledger, PostgreSQL: see BENCHMARKS.md, "Small files into a grown ledger").
    return aggregate.version - aggregate.snapshot_version >= IMPORT_SNAPSHOT_FROM


class SnapshotSpill:
    """Snapshots taken during an import, kept in a temporary file until its events commit.

    A snapshot must not be written before the events it covers, and 500 snapshots of
    2,000 moves are ~500 MB of JSON: on disk (the page cache), not in the process.
    """

    def __init__(self) -> None:
        self.file: Any = None
        self.index: list[tuple[Any, int, str, int, int]] = []

    def add_stored(self, stored: StoredEvent) -> None:
        """Keep a snapshot already encoded (by this process or an import's worker)."""
        if self.file is None:
            self.file = tempfile.TemporaryFile()  # noqa: SIM115 (closed in write)
        offset = self.file.tell()
        self.file.write(stored.state)
        self.index.append(
            (stored.originator_id, stored.originator_version, stored.topic, offset,
             len(stored.state))
        )  # fmt: skip

    def write(self, app: NegotiationLedger) -> None:
        if self.file is None or app.snapshots is None:
            return
        try:
            write_snapshots(
                app.snapshots.recorder,
                (
                    StoredEvent(originator_id, version, topic, self._read(offset, length))
                    for originator_id, version, topic, offset, length in self.index
                ),
            )
        finally:
            self.close()

    def _read(self, offset: int, length: int) -> bytes:
        """A snapshot's bytes (the index may have been put in another order than the file's)."""
        self.file.seek(offset)
        data: bytes = self.file.read(length)
        return data

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None


class SnapshotList(SnapshotSpill):
    """Snapshots kept in memory until they are sent (by an import's forked worker)."""

    def __init__(self) -> None:
        super().__init__()
        self.taken: list[StoredEvent] = []

    def add_stored(self, stored: StoredEvent) -> None:
        self.taken.append(stored)

    def take(self) -> list[StoredEvent]:
        """The snapshots kept since the last call."""
        taken, self.taken = self.taken, []
        return taken


def opening_of(app: NegotiationLedger, slug: str) -> Any:
    """A negotiation's opening event (its seats and alliance never change)."""
    opening = recorded_openings(app, [slug]).get(slug)
    if opening is None:
        raise NotFoundError(f"no negotiation {slug!r} in this ledger (open it first)")
    return opening


def recorded_openings(app: NegotiationLedger, slugs: list[str]) -> dict[str, Any]:
    """The opening events of those of `slugs` the ledger holds, by slug, read at once."""
    # saves a round trip a talks: on PostgreSQL 0.25 s of a 1.9 s import of 10k events
    # (250 talks; cProfile, 2026-12-08)
    slug_of = {negotiation_id(slug): slug for slug in slugs}
    return {
        slug_of[as_uuid(stored.originator_id)]: app.mapper.to_domain_event(stored)
        for stored in app.store.select_openings(list(slug_of))
    }


def retried_without_parts(
    fold: Callable[[Callable[[], None]], None], step: Callable[[], None]
) -> None:
    """Run `fold(step)`, and once more if a talks' snapshot parts, read late, turn out
    missing or edited: its load then goes the usual way, which says so and folds the talks
    from its events. Items the first run counted are not counted again."""
    counted = 0

    def first() -> None:
        nonlocal counted
        counted += 1
        step()

    try:
        fold(first)
    except PartsUnavailable:

        def again() -> None:
            nonlocal counted
            if counted:
                counted -= 1
            else:
                step()

        fold(again)
