"""Reading the view tables on (D, K): one indexed query each, no replay."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, Row, select

from ledger.domain.values import ValidTime
from projections.derive import MoveRecord
from projections.tables import moves, splits
from projections.timeaxis import parse_valid_time
from projections.views import SplitView


def _as_of(d: int, k: int) -> Any:
    c = splits.c
    return (c.valid_from <= d) & (c.valid_to > d) & (c.recorded_from <= k) & (c.recorded_to > k)


def split_rows(conn: Connection, negotiation: str | None, d: int, k: int) -> list[Row[Any]]:
    """The row of each negotiation (or of one) valid on D as known on K."""
    c = splits.c
    query = select(
        c.negotiation, c.region, c.seats, c.status, c.split, c.maker, c.title, c.positions
    ).where(_as_of(d, k))
    if negotiation is not None:
        query = query.where(c.negotiation == negotiation)
    return list(conn.execute(query.order_by(c.negotiation)))


def split_view(row: Row[Any], as_of: ValidTime | None, known_on: ValidTime | None) -> SplitView:
    """A split row as a SplitView."""
    return SplitView(
        negotiation=row.negotiation,
        region=row.region,
        seats=int(row.seats),
        as_of=as_of,
        known_on=known_on,
        status=row.status,
        split=orjson.loads(row.split),
        by=row.maker,
        title=row.title,
    )


def positions_of(row: Row[Any]) -> dict[str, dict[str, int]]:
    """The positions column of a split row."""
    positions: dict[str, dict[str, int]] = orjson.loads(row.positions)
    return positions


def is_known(conn: Connection, negotiation: str, k: int) -> bool:
    """True if the negotiation's opening was recorded by K."""
    c = moves.c
    query = select(c.move_id).where(
        c.negotiation == negotiation, c.type == "opened", c.known_from <= k
    )
    return conn.execute(query.limit(1)).first() is not None


def history(
    conn: Connection, negotiation: str | None, d: int, k: int
) -> tuple[list[MoveRecord], list[MoveRecord]]:
    """Moves known by K and dated by D, in history order; and every correction known by K."""
    c = moves.c
    order = (c.on_at, c.known_from, c.seq, c.move_id)
    shown = select(moves).where(c.known_from <= k, c.on_at <= d)
    fixes = select(moves).where(c.known_from <= k, c.corrects.is_not(None))
    if negotiation is not None:
        shown = shown.where(c.negotiation == negotiation)
        fixes = fixes.where(c.negotiation == negotiation)
    return (
        [_record(r) for r in conn.execute(shown.order_by(*order))],
        [_record(r) for r in conn.execute(fixes.order_by(*order))],
    )


def negotiations(conn: Connection) -> list[str]:
    """Every negotiation opened in the ledger, by slug."""
    c = moves.c
    query = select(c.negotiation).where(c.type == "opened").order_by(c.negotiation)
    return [str(slug) for slug in conn.execute(query).scalars()]


def _record(row: Row[Any]) -> MoveRecord:
    return MoveRecord(
        move_id=row.move_id,
        seq=int(row.seq),
        negotiation=row.negotiation,
        type=row.type,
        on=parse_valid_time(row.on_text),
        on_at=int(row.on_at),
        recorded_at=datetime.fromisoformat(row.recorded_at),
        known_from=int(row.known_from),
        recorded_by=row.recorded_by,
        by=row.by,
        split=None if row.split is None else orjson.loads(row.split),
        seats_moved=None if row.seats_moved is None else orjson.loads(row.seats_moved),
        source=row.source,
        note=row.note,
        confidence=row.confidence,
        corrects=row.corrects,
        retract=bool(row.retract),
    )
