"""A long talks' snapshot in parts: each part stored once, as a row of the snapshots table
named by its SHA-256, and read back only if it still hashes to its name.

No table of its own: a part's row has the topic PART_TOPIC, version 0 and the first 128
bits of its hash as its key, so the writer role's grants, `copy`, `backup` and `projections
rebuild` need nothing new (see `ledger/domain/snapshot_parts.py` for what a part holds).
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from sqlalchemy import Connection, Table, select
from sqlalchemy.dialects import postgresql, sqlite

from ledger.domain.snapshot_parts import Frame, decode_frame, part_name
from ledger.persistence.base import SQLITE_CHUNK, binary_rows
from ledger.persistence.engine import translate_db_errors

PART_TOPIC = "seatledger:snapshot-part"
"""The topic of a snapshot part's row (never read as an event: no module of that name)."""


def part_key(name: str) -> UUID:
    """The row key of the part with this name: the first 128 bits of its SHA-256."""
    return UUID(hex=name[:32])


def split_parts(stored: Sequence[StoredEvent]) -> tuple[list[StoredEvent], dict[str, bytes]]:
    """Snapshots as stored (framed ones without their bodies), and the parts' bodies."""
    bodies: dict[str, bytes] = {}
    out = []
    for e in stored:
        frame = decode_frame(e.state)
        if frame is not None:
            bodies.update(frame.bodies)
            e = StoredEvent(
                e.originator_id, e.originator_version, e.topic, frame.without_bodies().encode()
            )
        out.append(e)
    return out, bodies


def insert_parts(conn: Connection, table: Table, bodies: dict[str, bytes]) -> None:
    """Store snapshot parts, each once: one already there (same name, same bytes) is kept."""
    if not bodies:
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    rows = [
        {"originator_id": part_key(name), "originator_version": 0, "topic": PART_TOPIC,
         "state": body}
        for name, body in bodies.items()
    ]  # fmt: skip
    conn.execute(dialect.insert(table).on_conflict_do_nothing(), rows)


def load_parts(conn: Connection, table: Table, data: bytes) -> bytes | str:
    """A snapshot's bytes with the bodies of the parts it names; else why they cannot be.

    Each body must hash to the name the (sealed) snapshot gives it.
    """
    try:
        frame = decode_frame(data)
    except ValueError as error:
        return f"its frame cannot be read ({error})"
    if frame is None:
        return data
    found = read_bodies(conn, table, frame.missing())
    if isinstance(found, str):
        return found
    return Frame(frame.names, {**frame.bodies, **found}, frame.data).encode()


def read_bodies(conn: Connection, table: Table, wanted: list[str]) -> dict[str, bytes] | str:
    """The bodies of the named parts, each checked against its name; else why they cannot be."""
    keys = {part_key(name): name for name in wanted}
    found = {keys[key]: body for key, body in _part_rows(conn, table, list(keys)) if key in keys}
    for name in wanted:
        body = found.get(name)
        if body is None:
            return f"its part {name[:16]}... is missing"
        if part_name(body) != name:
            return f"its part {name[:16]}... does not hash to its name (edited)"
    return found


def _part_rows(conn: Connection, table: Table, keys: list[UUID]) -> list[tuple[UUID, bytes]]:
    """(key, bytes) of the parts' rows with these keys."""
    rows: list[tuple[UUID, bytes]] = []
    if conn.dialect.name == "postgresql":
        # In binary: bytea as text is hex, twice the bytes to send and to decode. Loading
        # the 501 talks of the 1M ledger from their snapshots (~240 MB of parts), 5.5-7.1 s
        # -> 4.0-4.7 s of wall time, 4.0-4.9 s -> 3.0-3.5 s of the client's CPU.
        name = conn.dialect.identifier_preparer.quote(table.name)
        sql = (
            f"SELECT originator_id, state FROM {name} "
            "WHERE originator_id = ANY(%s) AND originator_version = 0 AND topic = %s"
        )
        with translate_db_errors():
            found = binary_rows(conn, sql, (keys, PART_TOPIC)) if keys else []
        return [(key, bytes(body)) for key, body in found]
    for start in range(0, len(keys), SQLITE_CHUNK):
        query = select(table.c.originator_id, table.c.state).where(
            table.c.originator_id.in_(keys[start : start + SQLITE_CHUNK]),
            table.c.originator_version == 0,
            table.c.topic == PART_TOPIC,
        )
        rows.extend((key, bytes(body)) for key, body in conn.execute(query))
    return rows
