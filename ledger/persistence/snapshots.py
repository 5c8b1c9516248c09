"""Snapshot recorder: a cache of aggregate state outside the hash chain, sealed to it.

A snapshot is stored as `seatledger-seal@1 <event hash> <seal>` and a newline before the
mapper's bytes: the hash of the event at the snapshot's version (the chain it claims to
summarise) and an HMAC-SHA256 over that hash, the aggregate, the version, the topic and
the bytes, keyed with a secret kept outside the database (`snapshot_key`). On load a
snapshot whose event hash is not the log's, or whose seal does not verify, is ignored
with a warning and the aggregate is folded from its events: someone who can write the
database but not read the key cannot make a snapshot decide anything. The application
uses SealedSnapshotRecorder; SqlSnapshotRecorder stores and returns snapshots as given
(the library's recorder contract).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.persistence import AggregateRecorder, StoredEvent
from sqlalchemy import Connection, bindparam, delete, insert, select

from ledger.persistence.base import (
    SqlRecorderBase,
    select_stored_events,
)
from ledger.persistence.chain import as_uuid
from ledger.persistence.engine import read_transaction, write_transaction
from ledger.persistence.parts import insert_parts, load_parts, split_parts
from ledger.persistence.roles import may_delete
from ledger.persistence.schema import TABLES

SEAL_MAGIC = b"seatledger-seal@1 "
KEY_ENV = "SEATLEDGER_SNAPSHOT_KEY"


class SnapshotIgnoredWarning(UserWarning):
    """A snapshot did not match the chain it claims to summarise: folded from events instead."""


def key_path() -> Path:
    """Where the snapshot key is kept when $SEATLEDGER_SNAPSHOT_KEY is not set."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "seatledger" / "snapshot-key"


def snapshot_key() -> bytes:
    """The secret snapshots are sealed with: $SEATLEDGER_SNAPSHOT_KEY, else a per-user key file.

    The file is made on first use (mode 0600). Writers sharing a PostgreSQL ledger from
    several machines should share the key through the variable; a snapshot sealed with
    another key is only ignored (its aggregate folded from events), never trusted.
    """
    given = os.environ.get(KEY_ENV)
    if given:
        return given.encode()
    path = key_path()
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return path.read_bytes().strip()
    with os.fdopen(fd, "w") as file:
        file.write(secrets.token_hex(32))
    return path.read_bytes().strip()


def _mac(
    key: bytes, event_hash: str, aggregate: UUID, version: int, topic: str, data: bytes
) -> str:
    header = f"{event_hash}\n{aggregate}\n{version}\n{topic}\n".encode()
    return hmac.new(key, header + data, hashlib.sha256).hexdigest()


def _event_hash(conn: Connection, aggregate: UUID, version: int) -> str | None:
    events = TABLES.events
    query = select(events.c.hash).where(
        events.c.originator_id == aggregate, events.c.originator_version == version
    )
    found = conn.execute(query).scalar()
    return None if found is None else str(found)


def seal(conn: Connection, stored: StoredEvent, key: bytes) -> bytes:
    """The bytes to store for a snapshot: its seal line, then the mapper's bytes."""
    aggregate = as_uuid(stored.originator_id)
    bound = _event_hash(conn, aggregate, stored.originator_version) or "-"
    mac = _mac(key, bound, aggregate, stored.originator_version, stored.topic, stored.state)
    return SEAL_MAGIC + f"{bound} {mac}\n".encode() + stored.state


def split_seal(state: bytes) -> tuple[str, str, bytes] | None:
    """(event hash, seal, the mapper's bytes) of a sealed snapshot; None if it has no seal."""
    if not state.startswith(SEAL_MAGIC):
        return None
    line, newline, data = state[len(SEAL_MAGIC) :].partition(b"\n")
    parts = line.decode("ascii", "replace").split(" ")
    if not newline or len(parts) != 2:
        return None
    return parts[0], parts[1], data


def unseal(conn: Connection, aggregate: UUID, version: int, state: bytes) -> bytes | str:
    """The mapper's bytes of a snapshot bound to the log's event; else why it is not."""
    parts = split_seal(state)
    if parts is None:
        return state  # written before snapshots were sealed: its content is what counts
    return _bound(parts, _event_hash(conn, aggregate, version), version)


def _bound(parts: tuple[str, str, bytes], actual: str | None, version: int) -> bytes | str:
    """A sealed snapshot's mapper bytes if the event hash it names is `actual`, the hash the
    log holds at its version (None: no event there); else why not."""
    bound, _, data = parts
    if actual is None:
        return f"the snapshot summarises v{version}, which the log does not hold"
    if bound != actual:
        return (
            f"the snapshot claims to summarise the chain to an event hashed {bound[:16]}..., "
            f"the log's v{version} is hashed {actual[:16]}..."
        )
    return data


class SqlSnapshotRecorder(SqlRecorderBase, AggregateRecorder):
    """Records snapshots; a second snapshot at the same version is an IntegrityError."""

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> None:
        """Record snapshots atomically."""
        if not stored_events:
            return
        stored, bodies = split_parts(stored_events)
        with write_transaction(self.engine) as conn:
            insert_parts(conn, self.tables.snapshots, bodies)
            conn.execute(insert(self.tables.snapshots), self._rows(conn, stored))

    def insert_latest(self, stored_events: Sequence[StoredEvent]) -> None:
        """Record snapshots and drop those they supersede, in one transaction.

        Each snapshot holds an aggregate's whole story, so keeping every one (a talks
        of 2,000 moves snapshotted every 200) stored ten times the log itself: 2.3 GB of
        snapshots for 250 MB of events at 900k events. Only the latest is ever loaded;
        an older version is rebuilt from the events, which stay the record.
        """
        if not stored_events:
            return
        table = self.tables.snapshots
        stored, bodies = split_parts(stored_events)
        latest: dict[UUID, int] = {}
        for e in stored:
            key = as_uuid(e.originator_id)
            latest[key] = max(latest.get(key, 0), e.originator_version)
        older = delete(table).where(
            table.c.originator_id == bindparam("aggregate"),
            table.c.originator_version < bindparam("version"),
        )
        with write_transaction(self.engine) as conn:
            insert_parts(conn, table, bodies)
            conn.execute(insert(table), self._rows(conn, stored))
            # The writer role may not DELETE: there a trigger run as the owner supersedes.
            if may_delete(conn, table):
                conn.execute(older, [{"aggregate": k, "version": v} for k, v in latest.items()])

    def select_events(
        self,
        originator_id: UUID | str,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> list[StoredEvent]:
        """Return an aggregate's snapshots in version order (a snapshot in parts as stored:
        without its parts' bodies)."""
        return select_stored_events(
            self.engine,
            self.tables.snapshots,
            originator_id,
            gt=gt,
            lte=lte,
            desc=desc,
            limit=limit,
        )

    def _rows(self, conn: Connection, stored: Sequence[StoredEvent]) -> list[dict[str, Any]]:
        return [
            {
                "originator_id": as_uuid(e.originator_id),
                "originator_version": e.originator_version,
                "topic": e.topic,
                "state": e.state,
            }
            for e in stored
        ]


class SealedSnapshotRecorder(SqlSnapshotRecorder):
    """The application's snapshots: sealed to their chain on write, checked on every load.

    Not the library's recorder contract, on purpose: a snapshot of an event the log does
    not hold is never returned (the contract suite runs on SqlSnapshotRecorder).
    """

    def _rows(self, conn: Connection, stored: Sequence[StoredEvent]) -> list[dict[str, Any]]:
        key = snapshot_key()
        return [
            {**row, "state": seal(conn, e, key)}
            for row, e in zip(super()._rows(conn, stored), stored, strict=True)
        ]

    def select_events(
        self,
        originator_id: UUID | str,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> list[StoredEvent]:
        """Return an aggregate's snapshots in version order, leaving out any not sealed to it.

        A snapshot whose event hash is not the log's, or whose seal does not verify with
        this installation's key, is left out with a SnapshotIgnoredWarning: the library
        then folds the aggregate from its events. Unsealed snapshots (written before
        seals) are left out silently.
        """
        trusted: list[StoredEvent] = []
        # One read transaction for the snapshot, its chain's event and its parts: the
        # import loads 500 talks a file (SQLite, the tenth file of 1M events, ~0.2 s).
        with read_transaction(self.engine) as conn:
            found = select_stored_events(
                self.engine, self.tables.snapshots, originator_id, gt=gt, lte=lte, desc=desc,
                limit=limit, conn=conn,
            )  # fmt: skip
            key = snapshot_key() if found else b""
            for stored in found:
                data = self._trusted(conn, stored, key)
                if data is not None:
                    data = self._with_parts(conn, stored, data)
                if data is not None:
                    trusted.append(StoredEvent(
                        stored.originator_id, stored.originator_version, stored.topic, data
                    ))  # fmt: skip
        return trusted

    def _with_parts(self, conn: Connection, stored: StoredEvent, data: bytes) -> bytes | None:
        loaded = load_parts(conn, self.tables.snapshots, data)
        if isinstance(loaded, bytes):
            return loaded
        _ignored(as_uuid(stored.originator_id), stored.originator_version, loaded)
        return None

    @staticmethod
    def _trusted(conn: Connection, stored: StoredEvent, key: bytes) -> bytes | None:
        if not stored.state.startswith(SEAL_MAGIC):
            return None  # unsealed: left out silently, without asking the log
        aggregate = as_uuid(stored.originator_id)
        actual = _event_hash(conn, aggregate, stored.originator_version)
        checked = checked_state(stored, key, actual)
        if isinstance(checked, str):
            _ignored(aggregate, stored.originator_version, checked)
            return None
        return checked


def checked_state(stored: StoredEvent, key: bytes, actual: str | None) -> bytes | str | None:
    """A sealed snapshot's mapper bytes if it is bound to the log's event hashed `actual`
    and its seal verifies with `key`; else why not (None: not sealed, left out silently)."""
    parts = split_seal(stored.state)
    if parts is None:
        return None
    aggregate, version = as_uuid(stored.originator_id), stored.originator_version
    unsealed = _bound(parts, actual, version)
    if isinstance(unsealed, str):
        return unsealed
    if not hmac.compare_digest(
        parts[1], _mac(key, parts[0], aggregate, version, stored.topic, parts[2])
    ):
        return (
            "its seal does not verify: edited, or sealed with another key. If several "
            "machines or users record to this ledger, give them all the same "
            f"{KEY_ENV} (the README's team setup says how)"
        )
    return parts[2]


def _ignored(aggregate: UUID, version: int, why: str) -> None:
    warnings.warn(
        f"snapshot of aggregate {aggregate} v{version} ignored, folded from its events "
        f"instead: {why}",
        SnapshotIgnoredWarning,
        stacklevel=3,
    )


SNAPSHOT_BATCH_BYTES = 16 * 1024 * 1024  # snapshots written per transaction


def write_snapshots(recorder: Any, snapshots: Iterable[StoredEvent]) -> None:
    """Write snapshots in transactions of about SNAPSHOT_BATCH_BYTES, taking them one by one.

    Each batch drops the snapshots it supersedes where the recorder can.
    """
    write = (
        recorder.insert_latest
        if isinstance(recorder, SqlSnapshotRecorder)
        else recorder.insert_events
    )
    batch: list[StoredEvent] = []
    size = 0
    for stored in snapshots:
        batch.append(stored)
        size += len(stored.state)
        if size >= SNAPSHOT_BATCH_BYTES:
            write(batch)
            batch, size = [], 0
    if batch:
        write(batch)
