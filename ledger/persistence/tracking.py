"""Tracking recorder: the position each downstream process has reached, on SQLAlchemy Core."""

from __future__ import annotations

from eventsourcing.persistence import IntegrityError, Tracking, TrackingRecorder
from sqlalchemy import Connection, func, insert, select, text

from ledger.persistence.base import SqlRecorderBase
from ledger.persistence.engine import read_transaction, write_transaction
from ledger.persistence.schema import advisory_lock_key


class SqlTrackingRecorder(SqlRecorderBase, TrackingRecorder):
    """Records tracking objects; each must be beyond the last one for its application."""

    def insert_tracking(self, tracking: Tracking) -> None:
        """Record a tracking object in its own transaction."""
        with write_transaction(self.engine) as conn:
            self.insert_tracking_in(conn, tracking)

    def insert_tracking_in(self, conn: Connection, tracking: Tracking) -> None:
        """Record a tracking object in the caller's write transaction."""
        table = self.tables.tracking
        if conn.dialect.name == "postgresql":
            # Serialize writers of one application's position, so that two
            # transactions cannot both pass the check below. (On SQLite the
            # write transaction already holds the database's write lock.)
            key = advisory_lock_key(f"{table.name}:{tracking.application_name}")
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
        current = self._max_tracking_id(conn, tracking.application_name)
        if current is not None and tracking.notification_id <= current:
            msg = (
                f"Tracking {tracking.notification_id} for {tracking.application_name!r} "
                f"is not beyond the recorded position {current}"
            )
            raise IntegrityError(msg)
        conn.execute(
            insert(table).values(
                application_name=tracking.application_name,
                notification_id=tracking.notification_id,
            )
        )

    def max_tracking_id(self, application_name: str) -> int | None:
        """Return the last notification id recorded for the application, if any."""
        with read_transaction(self.engine) as conn:
            return self._max_tracking_id(conn, application_name)

    def _max_tracking_id(self, conn: Connection, application_name: str) -> int | None:
        table = self.tables.tracking
        value = conn.execute(
            select(func.max(table.c.notification_id)).where(
                table.c.application_name == application_name
            )
        ).scalar()
        return None if value is None else int(value)
