"""Reading the log for the projector: pages in notification order, or one aggregate's.

Statements are built once per projector and run on the catch-up's own connection through
the driver (`fetch`): SQLAlchemy's per-row handling costs more than the reads.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final
from uuid import UUID

from eventsourcing.persistence import Notification
from sqlalchemy import Connection, Table, func, select

PAGE_SIZE = 1000
"""Notifications read (and applied) per page."""

Progress = Callable[[int, int], None]
"""Told (done, total) as a catch-up or rebuild goes."""

_IDS_MEMO = 65_536
_NOTIFICATION_COLUMNS: Final = (
    "notification_id",
    "originator_id",
    "originator_version",
    "topic",
    "state",
)


class LogPages:
    """The statements that read the events table, built on first use."""

    def __init__(self, events: Table, page_size: int) -> None:
        self.events = events
        self.page_size = page_size
        self._page_sql: str | None = None
        self._aggregate_sql: str | None = None
        self._ids: dict[str, UUID] = {}  # aggregate ids as text -> UUID

    def _sql(self, conn: Connection) -> tuple[str, str, list[str]]:
        """The events table and its notification columns, quoted, and the driver's mark."""
        events = self.events
        preparer = conn.dialect.identifier_preparer
        mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        columns = [preparer.quote(events.c[name].name) for name in _NOTIFICATION_COLUMNS]
        return preparer.format_table(events), mark, columns

    def head(self, conn: Connection) -> int:
        """The last notification id recorded, as this transaction sees it."""
        notification_id = self.events.c.notification_id
        return int(conn.execute(select(func.max(notification_id))).scalar() or 0)

    def aggregate_ids(self, conn: Connection, at: int, head: int) -> list[Any]:
        """Every aggregate with events in (at, head], as the driver returns it (to be passed
        back)."""
        table, mark, (nid, oid, *_) = self._sql(conn)
        sql = (
            f"SELECT DISTINCT {oid} FROM {table} WHERE {nid} > {mark} AND {nid} <= {mark} "
            f"ORDER BY {oid}"
        )
        return [row[0] for row in fetch(conn, sql, (at, head))]

    def aggregate_page(
        self, conn: Connection, raw_id: Any, after: int, at: int, head: int
    ) -> list[Notification]:
        """One aggregate's notifications after version `after`, with ids in (at, head], by
        version."""
        if self._aggregate_sql is None:
            table, mark, (nid, oid, version, topic, state) = self._sql(conn)
            self._aggregate_sql = (
                f"SELECT {nid}, {version}, {topic}, {state} FROM {table} WHERE {oid} = {mark} "
                f"AND {version} > {mark} AND {nid} > {mark} AND {nid} <= {mark} "
                f"ORDER BY {version} LIMIT {mark}"
            )
        parameters = (raw_id, after, at, head, self.page_size)
        rows = fetch(conn, self._aggregate_sql, parameters)
        if not rows:
            return []
        originator_id = raw_id if isinstance(raw_id, UUID) else UUID(str(raw_id))
        return [
            _notification(notification_id, originator_id, version, topic, state)
            for notification_id, version, topic, state in rows
        ]

    def page(self, conn: Connection, after: int) -> list[Notification]:
        """The notifications after `after` (a page), read on the catch-up's own connection.

        What the recorder's select_notifications returns, without a connection and a
        transaction per page or a UUID parsed per row (a ledger has few aggregates).
        """
        if self._page_sql is None:
            table, mark, (nid, oid, version, topic, state) = self._sql(conn)
            # The id as text: a dict of ~500 strings beats a UUID object made per row
            # (psycopg's loader) and hashed in Python for every lookup.
            self._page_sql = (
                f"SELECT {nid}, CAST({oid} AS TEXT), {version}, {topic}, {state} FROM {table} "
                f"WHERE {nid} > {mark} ORDER BY {nid} LIMIT {mark}"
            )
        rows = fetch(conn, self._page_sql, (after, self.page_size))
        ids = self._ids
        page = []
        for notification_id, raw_id, version, topic, state in rows:
            originator_id = ids.get(raw_id)
            if originator_id is None:
                originator_id = UUID(raw_id)
                if len(ids) >= _IDS_MEMO:
                    ids.clear()
                ids[raw_id] = originator_id
            page.append(_notification(notification_id, originator_id, version, topic, state))
        return page


def _notification(
    notification_id: Any, originator_id: UUID, version: Any, topic: str, state: Any
) -> Notification:
    """A row as the recorder's select_notifications gives it (the driver's types made plain)."""
    return Notification(
        id=int(notification_id),
        originator_id=originator_id,
        originator_version=int(version),
        topic=topic,
        state=state if type(state) is bytes else bytes(state),
    )


def fetch(conn: Connection, sql: str, parameters: tuple[Any, ...] = ()) -> list[Any]:
    """All rows of a statement as the driver's tuples, not SQLAlchemy rows."""
    result = conn.exec_driver_sql(sql, parameters)
    rows = list(result.cursor.fetchall())
    result.close()
    return rows
