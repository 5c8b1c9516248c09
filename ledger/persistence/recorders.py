"""Event recorders on SQLAlchemy Core: hash-chained events and the index of move ids."""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import (
    AggregateRecorder,
    ApplicationRecorder,
    IntegrityError,
    Notification,
    ProcessRecorder,
    StoredEvent,
    Subscription,
    Tracking,
)
from sqlalchemy import Connection, Select, String, Table, and_, bindparam, func, select, text
from sqlalchemy import exc as sa_exc

from ledger.persistence.base import (
    SqlRecorderBase,
    chunks,
    in_parameter,
    insert_many,
    select_stored_events,
    where_in,
)
from ledger.persistence.chain import (
    GENESIS_HASH,
    by_value,
    chain_hash,
    link_events,
    originator_uuids,
)
from ledger.persistence.engine import read_transaction, write_transaction
from ledger.persistence.snapshots import SqlSnapshotRecorder
from ledger.persistence.subscription import PollingSubscription
from ledger.persistence.tracking import SqlTrackingRecorder

__all__ = [
    "GENESIS_HASH",
    "DuplicateMoveIdError",
    "IndexedStoredEvent",
    "SqlAggregateRecorder",
    "SqlApplicationRecorder",
    "SqlProcessRecorder",
    "SqlSnapshotRecorder",
    "SqlTrackingRecorder",
    "chain_hash",
]


_EVENT_COLUMNS = (
    "notification_id",
    "originator_id",
    "originator_version",
    "topic",
    "state",
    "hash",
)
_MOVE_COLUMNS = ("move_id", "originator_id", "originator_version")


class DuplicateMoveIdError(IntegrityError):
    """A move id is already recorded in the ledger (or repeated in one batch)."""

    def __init__(self, move_ids: Sequence[str]) -> None:
        self.move_ids = list(move_ids)
        super().__init__(f"Move id(s) already recorded: {', '.join(self.move_ids)}")


@dataclass(frozen=True)
class IndexedStoredEvent(StoredEvent):
    """A stored event that also records the id of the move it made."""

    move_id: str | None = None


@lru_cache(maxsize=32)
def _heads_query(events: Table, dialect: str) -> tuple[Select[Any], int]:
    """Each listed aggregate's last (id, version, hash), and how many ids one call binds.

    Built once per table and dialect: building and keying this statement anew cost
    five times its execution, and a command saves one aggregate at a time.
    """
    ids, size = in_parameter(events.c.originator_id, "ids", dialect)
    latest = (
        select(events.c.originator_id, func.max(events.c.originator_version).label("version"))
        .where(ids)
        .group_by(events.c.originator_id)
        .subquery()
    )
    same = and_(
        events.c.originator_id == latest.c.originator_id,
        events.c.originator_version == latest.c.version,
    )
    query = select(events.c.originator_id, events.c.originator_version, events.c.hash)
    return query.join_from(events, latest, same), size


SQLITE_JSON_CHUNK = 10_000
_SQLITE_JSON = sqlite3.sqlite_version_info >= (3, 38, 0)
"""SQLite has json_each built in from 3.38 (older builds may lack it: bind lists then)."""


@lru_cache(maxsize=32)
def _moves_query(moves: Table, dialect: str, as_json: bool = False) -> tuple[Select[Any], int]:
    """The (id, aggregate, version) of each listed move id, built once (as _heads_query).

    `as_json` (SQLite only): the ids bound as one JSON array and unpacked by json_each,
    one statement per 10,000 ids instead of one per 900 bound variables, each with its
    own expanded IN list (each id is still found through the primary key).
    """
    query = select(moves.c.move_id, moves.c.originator_id, moves.c.originator_version)
    if as_json:
        listed = func.json_each(bindparam("ids", type_=String)).table_valued("value")
        return query.where(moves.c.move_id.in_(select(listed.c.value))), SQLITE_JSON_CHUNK
    ids, size = in_parameter(moves.c.move_id, "ids", dialect)
    return query.where(ids), size


@lru_cache(maxsize=32)
def _last_id_query(events: Table) -> Select[Any]:
    return select(func.max(events.c.notification_id))


class SqlAggregateRecorder(SqlRecorderBase, AggregateRecorder):
    """Records hash-chained events and their move ids in the ledger's events table."""

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """Record events atomically (an aggregate recorder returns no notification ids)."""
        self._insert_events(stored_events)
        return None

    def _insert_events(self, stored_events: Sequence[StoredEvent]) -> list[int]:
        if not stored_events:
            return []
        with write_transaction(self.engine) as conn:
            return self.insert_events_in(conn, stored_events)

    def insert_events_in(self, conn: Connection, stored_events: Sequence[StoredEvent]) -> list[int]:
        """Record events in the caller's write_transaction; return their notification ids."""
        if not stored_events:
            return []
        events = self.tables.events
        if conn.dialect.name == "postgresql":
            # Serialize inserts so notification ids commit in the order they are
            # issued: a reader tailing the log must never skip an id that a
            # slower transaction commits later. An advisory lock, not LOCK TABLE:
            # EXCLUSIVE mode needs UPDATE, DELETE or TRUNCATE privilege, which the
            # writer role must not have. Readers are not blocked either way.
            # The key includes the schema: ledgers in other schemas append in parallel.
            conn.execute(
                text(
                    "SELECT pg_advisory_xact_lock(hashtextextended(current_schema() || :name, 0))"
                ),
                {"name": f":{events.name}:append"},
            )
        uuids = originator_uuids(stored_events)
        moves = self._check_move_ids(conn, stored_events, uuids)
        hashes = link_events(stored_events, self._heads(conn, stored_events, uuids), uuids)
        # Number the rows first, then insert with a plain executemany. Both
        # backends hold a lock that keeps other writers out until commit, so
        # the numbers are ours and ascend in batch order. This is faster than
        # INSERT .. RETURNING (sort_by_parameter_order): SQLite falls back to
        # one statement per row, and psycopg re-parses each page's long SQL.
        notification_ids = self._allocate_notification_ids(conn, len(stored_events))
        rows = [
            (n, u, e.originator_version, e.topic, e.state, h)
            for n, u, e, h in zip(notification_ids, uuids, stored_events, hashes, strict=True)
        ]
        insert_many(conn, events, _EVENT_COLUMNS, rows)
        if moves:
            try:
                insert_many(conn, self.tables.moves, _MOVE_COLUMNS, moves)
            except sa_exc.IntegrityError:
                # Only reachable if a move was written outside insert_events_in,
                # which holds the write lock from the check above until commit.
                raise DuplicateMoveIdError([m[0] for m in moves]) from None
        return notification_ids

    def _allocate_notification_ids(self, conn: Connection, count: int) -> list[int]:
        events = self.tables.events
        if conn.dialect.name == "postgresql":
            # Draw from the column's own sequence, so that it stays in step.
            statement = text(
                "SELECT nextval(pg_get_serial_sequence(:table, 'notification_id')) "
                "FROM generate_series(1, :count)"
            )
            table = conn.dialect.identifier_preparer.quote(events.name)
            drawn = conn.execute(statement, {"table": table, "count": count}).scalars()
            return sorted(int(i) for i in drawn)
        last = conn.execute(_last_id_query(events)).scalar() or 0
        return list(range(last + 1, last + 1 + count))

    def _check_move_ids(
        self,
        conn: Connection,
        stored_events: Sequence[StoredEvent],
        uuids: Sequence[UUID] | None = None,
    ) -> list[tuple[str, UUID, int]]:
        if uuids is None:
            uuids = originator_uuids(stored_events)
        move_ids: list[str] = []
        moves: list[tuple[str, UUID, int]] = []
        for e, uuid in zip(stored_events, uuids, strict=True):
            if isinstance(e, IndexedStoredEvent) and e.move_id is not None:
                move_ids.append(e.move_id)
                moves.append((e.move_id, uuid, e.originator_version))
        repeated = sorted(m for m, count in Counter(move_ids).items() if count > 1)
        if repeated:
            raise DuplicateMoveIdError(repeated)
        recorded = self._find_moves(conn, move_ids)
        if recorded:
            raise DuplicateMoveIdError(sorted(recorded))
        return moves

    def _heads(
        self,
        conn: Connection,
        stored_events: Sequence[StoredEvent],
        uuids: Sequence[UUID] | None = None,
    ) -> dict[UUID, tuple[int, str]]:
        if uuids is None:
            uuids = originator_uuids(stored_events)
        originator_ids = list(by_value(uuids).values())
        heads: dict[UUID, tuple[int, str]] = {}
        query, size = _heads_query(self.tables.events, conn.dialect.name)
        for chunk in chunks(originator_ids, size):
            for originator_id, version, hash_ in conn.execute(query, {"ids": list(chunk)}):
                heads[originator_id] = (int(version), str(hash_))
        return heads

    def select_events(
        self,
        originator_id: UUID | str,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> list[StoredEvent]:
        """Return an aggregate's events in version order (plain StoredEvent objects)."""
        return select_stored_events(
            self.engine,
            self.tables.events,
            originator_id,
            gt=gt,
            lte=lte,
            desc=desc,
            limit=limit,
        )

    def select_openings(self, originator_ids: Sequence[UUID]) -> list[StoredEvent]:
        """The first event (version 1) of each of these aggregates that the ledger holds."""
        events = self.tables.events
        query = select(events.c.originator_id, events.c.topic, events.c.state)
        with read_transaction(self.engine) as conn:
            rows = [
                row
                for ids_in in where_in(conn, events.c.originator_id, originator_ids)
                for row in conn.execute(query.where(ids_in, events.c.originator_version == 1))
            ]
        return [StoredEvent(row[0], 1, row[1], bytes(row[2])) for row in rows]

    def find_moves(self, move_ids: Sequence[str]) -> dict[str, tuple[UUID, int]]:
        """Return the (aggregate id, version) of each recorded move among the ids."""
        with read_transaction(self.engine) as conn:
            return self._find_moves(conn, move_ids)

    def _find_moves(self, conn: Connection, move_ids: Sequence[str]) -> dict[str, tuple[UUID, int]]:
        found: dict[str, tuple[UUID, int]] = {}
        dialect = conn.dialect.name
        unique = list(dict.fromkeys(move_ids))
        batches: list[tuple[Select[Any], Any]] = []
        if dialect == "sqlite" and _SQLITE_JSON:
            query, size = _moves_query(self.tables.moves, dialect, as_json=True)
            try:
                batches = [
                    (query, orjson.dumps(list(chunk)).decode()) for chunk in chunks(unique, size)
                ]
            except orjson.JSONEncodeError:
                batches = []  # not valid UTF-8 (a lone surrogate): bind the ids as they are
        if not batches:
            query, size = _moves_query(self.tables.moves, dialect)
            batches = [(query, list(chunk)) for chunk in chunks(unique, size)]
        for query, ids in batches:
            for move_id, originator_id, version in conn.execute(query, {"ids": ids}):
                found[str(move_id)] = (originator_id, int(version))
        return found


class SqlApplicationRecorder(SqlAggregateRecorder, ApplicationRecorder):
    """Records events in aggregate sequences and in the application sequence."""

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> list[int]:
        """Record events atomically; return their notification ids in order."""
        return self._insert_events(stored_events)

    def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
    ) -> list[Notification]:
        """Return up to `limit` notifications from `start` (optionally to `stop`)."""
        events = self.tables.events
        notification_id = events.c.notification_id
        query = select(
            notification_id,
            events.c.originator_id,
            events.c.originator_version,
            events.c.topic,
            events.c.state,
        )
        if start is not None:
            query = query.where(
                notification_id >= start if inclusive_of_start else notification_id > start
            )
        if stop is not None:
            query = query.where(notification_id <= stop)
        if topics:
            query = query.where(events.c.topic.in_(list(topics)))
        query = query.order_by(notification_id).limit(limit)
        with read_transaction(self.engine) as conn:
            rows = conn.execute(query).all()
        return [
            Notification(
                id=int(row[0]),
                originator_id=row[1],
                originator_version=int(row[2]),
                topic=row[3],
                state=bytes(row[4]),
            )
            for row in rows
        ]

    def max_notification_id(self) -> int | None:
        """Return the last notification id, or None if nothing is recorded."""
        notification_id = self.tables.events.c.notification_id
        with read_transaction(self.engine) as conn:
            value = conn.execute(select(func.max(notification_id))).scalar()
        return None if value is None else int(value)

    def subscribe(
        self, gt: int | None = None, topics: Sequence[str] = ()
    ) -> Subscription[ApplicationRecorder]:
        """Return a polling subscription to notifications after `gt`."""
        return PollingSubscription(self, gt=gt, topics=topics)


class SqlProcessRecorder(SqlApplicationRecorder, SqlTrackingRecorder, ProcessRecorder):
    """Records events together with the tracking object of the notification processed."""

    def insert_events(
        self,
        stored_events: Sequence[StoredEvent],
        *,
        tracking: Tracking | None = None,
        **kwargs: Any,
    ) -> list[int]:
        """Record events and the optional tracking object in one transaction."""
        if not stored_events and tracking is None:
            return []
        with write_transaction(self.engine) as conn:
            notification_ids = self.insert_events_in(conn, stored_events)
            if tracking is not None:
                self.insert_tracking_in(conn, tracking)
        return notification_ids
