"""Verify the snapshots: each must be the fold of its aggregate's events to its version.

Snapshots are a cache outside the hash chain, sealed to it; one that does not unseal, does
not decode, or differs from the fold is named (and loading ignores it).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic
from sqlalchemy import Connection, select

from ledger.application import NegotiationLedger
from ledger.domain.snapshot import StorySnapshot
from ledger.domain.snapshot_parts import decode_frame, part_name
from ledger.domain.story_aggregate import Storied
from ledger.integrity.findings import SNAPSHOT, Problem
from ledger.persistence.parts import PART_TOPIC, load_parts, part_key
from ledger.persistence.schema import TABLES
from ledger.persistence.snapshots import unseal

Stored = list[tuple[int, str, bytes]]
"""One aggregate's snapshots: (version, topic, stored bytes), by version."""


class SnapshotChecker:
    """Names every snapshot that is not the fold of its events (or has no events at all)."""

    def __init__(self, app: NegotiationLedger, conn: Connection, problems: list[Problem]) -> None:
        self.app = app
        self.conn = conn
        self.problems = problems
        self.parts: set[UUID] = set()  # the parts' rows not yet checked
        self.versions = self._snapshot_versions(conn)

    def of(self, aggregate: str) -> Stored:
        """The snapshots of `aggregate`, to be checked as its events are folded."""
        return self._snapshots(self.conn, aggregate) if self.versions.pop(aggregate, None) else []

    def left_over(self, aggregate: str, stored: Stored) -> None:
        """Name the snapshots of versions the aggregate's log does not hold."""
        for version, _, _ in stored:
            self._snapshot_problem(
                aggregate, version, f"a snapshot of v{version}, which the log does not hold"
            )

    def without_events(self) -> None:
        """Name the snapshots of aggregates that have no events (after every fold)."""
        for aggregate, versions in self.versions.items():
            for version in versions:
                detail = "a snapshot of an aggregate that has no events (forged)"
                self._snapshot_problem(aggregate, version, detail)

    def unnamed_parts(self) -> None:
        """Name each part no snapshot names whose bytes do not hash to its key (after
        every fold: the parts a snapshot names are checked with it)."""
        table = TABLES.snapshots
        keys = sorted(self.parts)
        for start in range(0, len(keys), 500):
            query = select(table.c.originator_id, table.c.state).where(
                table.c.originator_id.in_(keys[start : start + 500]),
                table.c.originator_version == 0,
                table.c.topic == PART_TOPIC,
            )
            for key, body in self.conn.execute(query):
                if part_key(part_name(bytes(body))) != key:
                    detail = "a snapshot part whose bytes do not hash to its key (edited)"
                    self._snapshot_problem(str(key), 0, detail)

    def _snapshot_versions(self, conn: Connection) -> dict[str, list[int]]:
        """The versions of every snapshot, by aggregate (their states are read one by one);
        the keys of the parts' rows go to `self.parts`."""
        table = TABLES.snapshots
        found: dict[str, list[int]] = {}
        query = select(
            table.c.originator_id, table.c.originator_version, table.c.topic == PART_TOPIC
        ).order_by(table.c.originator_id, table.c.originator_version)
        for raw, version, part in conn.execute(query):
            if part and version == 0:
                self.parts.add(raw)
            else:
                found.setdefault(str(raw), []).append(int(version))
        return found

    def _snapshots(self, conn: Connection, aggregate: str) -> Stored:
        """One aggregate's snapshots: (version, topic, stored bytes), by version."""
        table = TABLES.snapshots
        query = (
            select(table.c.originator_version, table.c.topic, table.c.state)
            .where(table.c.originator_id == UUID(aggregate))
            .order_by(table.c.originator_version)
        )
        return [(int(v), topic, bytes(state)) for v, topic, state in conn.execute(query)]

    def check(
        self, folded: Any, aggregate: str, stored: Stored
    ) -> Stored:
        """Compare the snapshots at the folded aggregate's version with it; return the rest."""
        version = getattr(folded, "version", None)
        left = []
        for snapshot in stored:
            if snapshot[0] != version:
                left.append(snapshot)
                continue
            detail = self._snapshot_differs(folded, aggregate, *snapshot)
            if detail is not None:
                self._snapshot_problem(aggregate, version, detail)
        return left

    def _snapshot_differs(
        self, folded: Any, aggregate: str, version: int, topic: str, state: bytes
    ) -> str | None:
        if not isinstance(folded, Storied):
            return "a snapshot of an aggregate that is never snapshotted (forged)"
        conn = self.conn
        unsealed = unseal(conn, UUID(aggregate), version, state)
        if isinstance(unsealed, str):
            return unsealed
        try:
            frame = decode_frame(unsealed)
        except ValueError:
            frame = None  # load_parts names it
        if frame is not None:  # its parts are checked here, not again as parts of none
            self.parts.difference_update(part_key(name) for name in frame.names)
        with_parts = load_parts(conn, TABLES.snapshots, unsealed)
        if isinstance(with_parts, str):
            return f"the snapshot cannot be loaded: {with_parts}"
        unsealed = with_parts
        mapper = self.app.snapshots.mapper if self.app.snapshots else self.app.mapper
        try:
            snapshot = mapper.to_domain_event(
                StoredEvent(UUID(aggregate), version, topic, unsealed)
            )
        except Exception as error:  # a forged snapshot need not even decode
            return f"the snapshot cannot be read ({error})"
        if not isinstance(snapshot, StorySnapshot) or snapshot.topic != get_topic(type(folded)):
            return "the snapshot is of another kind of aggregate than its events"
        try:
            loaded = snapshot.mutate(None)
        except Exception as error:  # forged moves may not even fold
            return f"the snapshot cannot be read ({error})"
        differing = _differing(loaded, folded)
        if differing:
            return (
                f"the snapshot's {', '.join(sorted(differing))} differ from the fold of its events "
                "to this version (edited or forged); it is ignored when loading"
            )
        return None

    def _snapshot_problem(self, aggregate: str, version: int | None, detail: str) -> None:
        self.problems.append(Problem(SNAPSHOT, detail, aggregate, version))


def _differing(loaded: Storied[Any], folded: Storied[Any]) -> list[str]:
    """What a loaded snapshot holds that the fold of its events does not.

    Every state the snapshot carries for its story to re-fold from (checkpoints, the
    states around the latest late move, the final state) must be the fold's own state
    at that place: a late fact is decided against them. The created_on time is when the
    writer's process first added an event to the aggregate in memory: not derived from
    the log, and read by nothing.
    """
    differing = [
        name
        for name, mine, theirs in (
            ("slug", loaded.slug, folded.slug),
            ("story", loaded.story.moves, folded.story.moves),
            ("recorded", loaded.recorded, folded.recorded),
            ("corrections", loaded.corrections, folded.corrections),
            ("retracted", loaded.retracted, folded.retracted),
            ("extra", loaded.snapshot_extra(), folded.snapshot_extra()),
        )
        if mine != theirs
    ]
    if "story" in differing:
        return differing
    story = folded.story
    kept = [(len(story.moves), loaded.story.final)]
    for states in loaded.story.kept_states():
        kept.extend(states.items())
    if any(
        not 0 <= at <= len(story.moves) or state != story.state_before(at) for at, state in kept
    ):
        differing.append("states")
    return differing
