"""Reading the view tables on (D, K): one indexed query each, no replay."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import (
    Connection,
    Row,
    Select,
    TextClause,
    bindparam,
    func,
    null,
    select,
    text,
)

from ledger.domain.folding import Handover, Moved
from ledger.domain.values import ValidTime
from projections.answers import SplitView
from projections.views.derive import MoveRecord
from projections.views.tables import moved, moves, seat_changes, splits
from projections.views.timeaxis import parse_valid_time


def _as_of(d: int, k: int) -> Any:
    c = splits.c
    return (c.valid_from <= d) & (c.valid_to > d) & (c.recorded_from <= k) & (c.recorded_to > k)


def split_rows(conn: Connection, negotiation: str | None, d: int, k: int) -> list[Row[Any]]:
    """The row of each negotiation (or of one) valid on D as known on K."""
    c = splits.c
    query = select(*(c[name] for name in _COLUMNS)).where(_as_of(d, k))
    if negotiation is None:
        return list(conn.execute(_ALL_SPLITS, {"d": d, "k": k}))
    # The rows known on K cut the valid axis into disjoint intervals, so at most one
    # matches, and it is the one known on K with the latest valid_from <= D: walking the
    # primary key (negotiation, valid_from, recorded_from) backwards from D finds it after
    # a few superseded versions, however long the negotiation's history.
    query = query.where(c.negotiation == negotiation).order_by(c.valid_from.desc()).limit(1)
    return list(conn.execute(query))


def _all_splits() -> TextClause:
    # Per negotiation, the same backwards walk of the primary key as for one. The
    # negotiations come from the primary key too, one index seek each (a recursive CTE
    # as a skip scan), so the cost follows the number of negotiations, not of rows.
    t = splits.name
    columns = ", ".join(f"s.{name}" for name in _COLUMNS)
    return text(
        f"""WITH RECURSIVE negs(n) AS (
            SELECT MIN(negotiation) FROM {t}
            UNION ALL
            SELECT (SELECT MIN(negotiation) FROM {t} WHERE negotiation > negs.n)
            FROM negs WHERE negs.n IS NOT NULL
        )
        SELECT {columns} FROM negs JOIN {t} s ON s.negotiation = negs.n AND s.valid_from = (
            SELECT x.valid_from FROM {t} x
            WHERE x.negotiation = negs.n AND x.valid_from <= :d
              AND x.recorded_from <= :k AND x.recorded_to > :k
            ORDER BY x.valid_from DESC LIMIT 1
        )
        WHERE s.valid_to > :d AND s.recorded_from <= :k AND s.recorded_to > :k
        ORDER BY s.negotiation"""
    )


_COLUMNS = (
    "negotiation", "region", "seats", "status", "split", "maker", "title", "positions",
    "election", "alliance", "named", "settled", "holders",
)  # fmt: skip
_ALL_SPLITS = _all_splits()


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
        election=row.election,
        alliance=row.alliance,
        named=orjson.loads(row.named),
        settled=orjson.loads(row.settled),
    )


def seat_history(
    conn: Connection, negotiation: str, key: str, d: int, k: int
) -> list[tuple[int, str, str, str | None, str]]:
    """(valid_from, move id, name, holder, status) of each change of one seat (by its
    constituency key) known on K, up to D, in valid-time order: the seat's history, whose
    last change is its state on D. Empty if the seat is not listed on D (or not opened).

    One range of the primary key (negotiation, constituency, valid_from, ...): a seat has
    a few changes however many runs its talks have."""
    found = conn.execute(_SEAT_HISTORY, {"n": negotiation, "c": key, "d": d, "k": k})
    return [tuple(row) for row in found]


def _seat_history() -> Select[Any]:
    c = seat_changes.c
    return (
        select(c.valid_from, c.move_id, c.name, c.holder, c.status)
        .where(
            c.negotiation == bindparam("n"),
            c.constituency == bindparam("c"),
            c.valid_from <= bindparam("d"),
            c.recorded_from <= bindparam("k"),
            c.recorded_to > bindparam("k"),
        )
        .order_by(c.valid_from)
    )


_SEAT_HISTORY = _seat_history()


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
    # The opening is (among) the negotiation's earliest-dated rows: walking the history
    # index (negotiation, on_at) from the start finds it at once.
    return conn.execute(query.order_by(c.on_at).limit(1)).first() is not None


def history(
    conn: Connection, negotiation: str | None, d: int, k: int
) -> tuple[list[MoveRecord], list[MoveRecord]]:
    """Moves known by K and dated by D, in history order; and every correction known by K."""
    shown = _shown(negotiation, d, k).order_by(*_ORDER)
    return [_record(r) for r in conn.execute(shown)], corrections(conn, negotiation, k)


def history_page(
    conn: Connection, negotiation: str, d: int, k: int, limit: int, offset: int
) -> tuple[int, list[MoveRecord]]:
    """How many moves are known by K and dated by D, and `limit` of them, `offset` from the
    latest, in history order: a page of a long history without reading the rest of it."""
    c = moves.c
    count = (
        select(func.count())
        .select_from(moves)
        .where(c.negotiation == negotiation, c.known_from <= k, c.on_at <= d)
    )
    total = int(conn.execute(count).scalar() or 0)
    # Walk the history index (negotiation, on_at) backwards from D; the seats moved are read
    # for the page's rows only (joined before the limit, PostgreSQL may hash the whole table).
    latest = (
        select(moves, null().label("seats_moved"), null().label("seats_given"))
        .where(c.negotiation == negotiation, c.known_from <= k, c.on_at <= d)
        .order_by(*(column.desc() for column in _ORDER))
    )
    rows = list(conn.execute(latest.limit(limit).offset(offset)))
    m = moved.c
    found = select(m.move_id, m.seats_moved, m.seats_given).where(
        m.move_id.in_([row.move_id for row in rows]), m.recorded_from <= k, m.recorded_to > k
    )
    seats = {r[0]: (r[1], r[2]) for r in conn.execute(found)} if rows else {}
    page = [_record(row, *seats.get(row.move_id, (None, None))) for row in rows]
    return total, page[::-1]


def corrections(conn: Connection, negotiation: str | None, k: int) -> list[MoveRecord]:
    """Every correction known by K (of one negotiation's moves, or of any), in history order;
    for the links between moves, so without the seats they moved."""
    c = moves.c
    fixes = select(moves, null().label("seats_moved"), null().label("seats_given")).where(
        c.known_from <= k, c.corrects.is_not(None)
    )
    if negotiation is not None:
        fixes = fixes.where(c.negotiation == negotiation)
    return [_record(r) for r in conn.execute(fixes.order_by(*_ORDER))]


def move_span(conn: Connection, negotiation: str | None, k: int) -> tuple[int, int] | None:
    """The earliest and latest valid instant of the moves known by K (of one negotiation)."""
    c = moves.c
    query = select(func.min(c.on_at), func.max(c.on_at)).where(c.known_from <= k)
    if negotiation is not None:
        query = query.where(c.negotiation == negotiation)
    first, last = conn.execute(query).one()
    return None if first is None else (int(first), int(last))


_ORDER = (moves.c.on_at, moves.c.known_from, moves.c.seq, moves.c.move_id)


def _with_moved(k: int) -> Select[Any]:
    """Move rows with the seats each moved, as derived from the story known on K (or none)."""
    c, m = moves.c, moved.c
    joined = moves.outerjoin(
        moved, (m.move_id == c.move_id) & (m.recorded_from <= k) & (m.recorded_to > k)
    )
    return select(moves, m.seats_moved, m.seats_given).select_from(joined)


def _shown(negotiation: str | None, d: int, k: int) -> Select[Any]:
    c = moves.c
    shown = _with_moved(k).where(c.known_from <= k, c.on_at <= d)
    return shown if negotiation is None else shown.where(c.negotiation == negotiation)


def mirrored_moved(conn: Connection, k: int) -> list[tuple[str, Moved]]:
    """Seats moved known on K by alliance moves as copied into each negotiation (by copy id)."""
    m = moved.c
    query = select(m.move_id, m.seats_moved, m.seats_given).where(
        m.move_id.contains("@", autoescape=True), m.recorded_from <= k, m.recorded_to > k
    )
    return [
        (str(row[0]), Moved(orjson.loads(row[1]), _given(row[2]))) for row in conn.execute(query)
    ]


def _given(text: str | None) -> tuple[Handover, ...]:
    """The stored named seats given, as (constituency, from, to) triples."""
    return () if text is None else tuple((n, a, b) for n, a, b in orjson.loads(text))


def negotiations(conn: Connection) -> list[str]:
    """Every negotiation opened in the ledger, by slug."""
    c = moves.c
    query = select(c.negotiation).where(c.type == "opened").order_by(c.negotiation)
    return [str(slug) for slug in conn.execute(query).scalars()]


def _record(
    row: Row[Any], seats_moved: str | None = None, seats_given: str | None = None
) -> MoveRecord:
    moved_text = row.seats_moved if seats_moved is None else seats_moved
    given_text = row.seats_given if seats_given is None else seats_given
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
        seats_moved=None if moved_text is None else orjson.loads(moved_text),
        source=row.source,
        note=row.note,
        confidence=row.confidence,
        corrects=row.corrects,
        retract=bool(row.retract),
        named=None if row.named is None else orjson.loads(row.named),
        seats_given=_given(given_text),
    )


def move_marks(conn: Connection, negotiation: str, k: int) -> list[dict[str, Any]]:
    """What a chart needs of each move known by K (id, type, date, who), in history order."""
    c = moves.c
    query = (
        select(c.move_id, c.type, c.on_text, c.by)
        .where(c.negotiation == negotiation, c.known_from <= k)
        .order_by(*_ORDER)
    )
    return [
        {"id": row[0], "type": row[1], "on": parse_valid_time(row[2]).isoformat(), "by": row[3]}
        for row in conn.execute(query)
    ]


def split_story(conn: Connection, negotiation: str, k: int) -> list[tuple[int, int, str, Any]]:
    """(valid_from, valid_to, split JSON, maker) of each row known on K, in valid-time order:
    the negotiation's whole story as known on K, which `split_rows` reads one date of."""
    c = splits.c
    query = (
        select(c.valid_from, c.valid_to, c.split, c.maker)
        .where(c.negotiation == negotiation, c.recorded_from <= k, c.recorded_to > k)
        .order_by(c.valid_from)
    )
    return [(int(r[0]), int(r[1]), str(r[2]), r[3]) for r in conn.execute(query)]
