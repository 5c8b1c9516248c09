"""What the recorders share: the engine and tables they use, and reading stored events."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from sqlalchemy import Engine, Table, select

from ledger.persistence.chain import as_uuid
from ledger.persistence.engine import read_transaction
from ledger.persistence.schema import TABLES, LedgerTables

CHUNK_SIZE = 1000
"""Most values bound in one IN (...) list."""

_T = TypeVar("_T")


class SqlRecorderBase:
    """Holds the engine and the tables that a recorder reads and writes."""

    def __init__(self, engine: Engine, tables: LedgerTables = TABLES) -> None:
        self.engine = engine
        self.tables = tables


def chunks(items: Sequence[_T], size: int = CHUNK_SIZE) -> Iterator[Sequence[_T]]:
    """Yield consecutive slices of at most `size` items."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def select_stored_events(
    engine: Engine,
    table: Table,
    originator_id: UUID | str,
    *,
    gt: int | None,
    lte: int | None,
    desc: bool,
    limit: int | None,
) -> list[StoredEvent]:
    """Return one aggregate's rows of an events-shaped table as plain StoredEvent objects."""
    version = table.c.originator_version
    query = select(table.c.originator_id, version, table.c.topic, table.c.state).where(
        table.c.originator_id == as_uuid(originator_id)
    )
    if gt is not None:
        query = query.where(version > gt)
    if lte is not None:
        query = query.where(version <= lte)
    query = query.order_by(version.desc() if desc else version.asc())
    if limit is not None:
        query = query.limit(limit)
    with read_transaction(engine) as conn:
        rows = conn.execute(query).all()
    return [StoredEvent(row[0], int(row[1]), row[2], bytes(row[3])) for row in rows]
