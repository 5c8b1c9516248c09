"""Snapshot recorder: a cache of aggregate state, outside the hash chain."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import AggregateRecorder, StoredEvent
from sqlalchemy import insert

from ledger.persistence.base import SqlRecorderBase, select_stored_events
from ledger.persistence.chain import as_uuid
from ledger.persistence.engine import write_transaction


class SqlSnapshotRecorder(SqlRecorderBase, AggregateRecorder):
    """Records snapshots; a second snapshot at the same version is an IntegrityError."""

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> None:
        """Record snapshots atomically."""
        if not stored_events:
            return
        rows = [
            {
                "originator_id": as_uuid(e.originator_id),
                "originator_version": e.originator_version,
                "topic": e.topic,
                "state": e.state,
            }
            for e in stored_events
        ]
        with write_transaction(self.engine) as conn:
            conn.execute(insert(self.tables.snapshots), rows)

    def select_events(
        self,
        originator_id: UUID | str,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> list[StoredEvent]:
        """Return an aggregate's snapshots in version order."""
        return select_stored_events(
            self.engine,
            self.tables.snapshots,
            originator_id,
            gt=gt,
            lte=lte,
            desc=desc,
            limit=limit,
        )
