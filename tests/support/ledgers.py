"""What the reliability tests share: their size, and looking straight at what is stored."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from uuid import UUID

import orjson
from sqlalchemy import func, select

from ledger.application import NegotiationLedger
from ledger.integrity.verifier import compute_digest, verify
from ledger.persistence.engine import get_engine, read_transaction
from ledger.persistence.mapper import indexed_move_id
from ledger.persistence.schema import TABLES
from projections.views.tables import metadata as view_metadata

SCALE_VAR = "SEATLEDGER_RELIABILITY_SCALE"
CI_SCALE = 0.2
"""CI runs every reliability test at a fifth of the size the issue asks for; 1 (or `full`)
runs the full size: 8 writers x 200 moves, a 10,000-move import, 250 examples a property."""


def scale() -> float:
    """The fraction of the full size to run, from $SEATLEDGER_RELIABILITY_SCALE."""
    raw = os.environ.get(SCALE_VAR, "").strip().lower()
    if not raw or raw == "ci":
        return CI_SCALE
    if raw == "full":
        return 1.0
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{SCALE_VAR}={raw!r}: give a number like 0.2 or 1, or 'full'") from None
    if value <= 0:
        raise ValueError(f"{SCALE_VAR}={raw!r}: the scale must be above 0")
    return value


def scaled(full: int, minimum: int = 1) -> int:
    """`full` at the full size, shrunk by the scale, never below `minimum`."""
    return max(minimum, round(full * scale()))


# -- looking straight at the tables ---------------------------------------------------


@dataclass(frozen=True)
class LogPosition:
    """How much the ledger holds: events, indexed moves, and the last notification id."""

    events: int
    moves: int
    last_notification: int | None


def log_position(url: str) -> LogPosition:
    """Count the events and indexed moves, and read the highest notification id."""
    events, moves = TABLES.events, TABLES.moves
    with get_engine(url).connect() as conn:
        count, last = conn.execute(select(func.count(), func.max(events.c.notification_id))).one()
        indexed = conn.execute(select(func.count()).select_from(moves)).scalar_one()
    return LogPosition(int(count), int(indexed), None if last is None else int(last))


def move_index(url: str) -> dict[str, tuple[UUID, int]]:
    """The move-id index as stored: move id -> (aggregate id, version)."""
    moves = TABLES.moves
    with get_engine(url).connect() as conn:
        rows = conn.execute(
            select(moves.c.move_id, moves.c.originator_id, moves.c.originator_version)
        ).all()
    return {str(m): (o, int(v)) for m, o, v in rows}


def moves_in_log(url: str) -> dict[str, list[tuple[UUID, int]]]:
    """Where each indexed move id occurs among the stored events themselves."""
    app = NegotiationLedger(url, recorded_by="checker")
    found: dict[str, list[tuple[UUID, int]]] = {}
    start = 1
    while True:
        page = app.recorder.select_notifications(start, 1000)
        if not page:
            return found
        for notification in page:
            move_id = indexed_move_id(app.mapper.to_domain_event(notification))
            if move_id is not None:
                where = (notification.originator_id, notification.originator_version)
                found.setdefault(move_id, []).append(where)
        start = page[-1].id + 1


def check_move_index(url: str) -> set[str]:
    """Assert that the index and the log name the same moves, each once; return them."""
    in_log = moves_in_log(url)
    repeated = sorted(m for m, places in in_log.items() if len(places) > 1)
    assert not repeated, f"moves stored more than once: {repeated[:10]}"
    index = move_index(url)
    assert set(index) == set(in_log), (
        f"index without event: {sorted(set(index) - set(in_log))[:10]}; "
        f"event without index: {sorted(set(in_log) - set(index))[:10]}"
    )
    wrong = sorted(m for m, where in index.items() if in_log[m] != [where])
    assert not wrong, f"index rows that point at another event: {wrong[:10]}"
    return set(index)


# -- a big, valid timeline ------------------------------------------------------------

CYCLE = ("proposal", "counter_offer", "rejection", "meeting", "note")


def big_timeline(moves: int, negotiations: int = 20, prefix: str = "region") -> dict[str, Any]:
    """A valid timeline of `moves` moves spread over some talks, one move a day in each."""
    parties = [{"code": f"P{i}", "name": f"Party {i}"} for i in range(2 * negotiations)]
    talks = [
        {
            "id": f"{prefix}-{n:02d}",
            "title": f"Region {n} seat sharing",
            "region": f"Region {n}",
            "seats": 40,
            "parties": [f"P{2 * n}", f"P{2 * n + 1}"],
            "opened_on": "2020-01-01",
        }
        for n in range(negotiations)
    ]
    out = []
    for index in range(moves):
        n, step = index % negotiations, index // negotiations
        a, b = f"P{2 * n}", f"P{2 * n + 1}"
        kind = CYCLE[step % len(CYCLE)]
        move: dict[str, Any] = {
            "id": f"{prefix}-{n:02d}.{step:05d}",
            "negotiation": f"{prefix}-{n:02d}",
            "type": kind,
            "on": (date(2020, 1, 2) + timedelta(days=step)).isoformat(),
            "source": f"https://example.org/region-{n}/{step}",
        }
        if kind == "proposal":
            move.update(by=a, split={a: 20 + step % 10, b: 20 - step % 10})
        elif kind == "counter_offer":
            move.update(by=b, split={a: 18, b: 22})
        elif kind == "rejection":
            move.update(by=a)
        elif kind == "meeting":
            move.update(parties=[a, b], venue="Delhi")
        else:
            move.update(note=f"talks continue in region {n}, round {step}")
        out.append(move)
    return {
        "format": "seatledger/timeline@1",
        "parties": parties,
        "negotiations": talks,
        "moves": out,
    }


def timeline_json(timeline: dict[str, Any]) -> str:
    """A timeline as JSON text (the format's JSON form; orjson reads it fast)."""
    return orjson.dumps(timeline).decode()


# -- the whole state, for "nothing changed" -------------------------------------------


@dataclass(frozen=True)
class Fingerprint:
    """What must not move when a request is refused: the log position and the digest."""

    position: LogPosition
    root: str


def fingerprint(url: str) -> Fingerprint:
    """The ledger's log position and the Merkle root of its hash chains."""
    return Fingerprint(log_position(url), compute_digest(url).root)


def check_verified(url: str) -> None:
    """`verify` recomputes every hash chain and the move index, and finds nothing wrong."""
    report = verify(url)
    assert report.ok, "\n".join(str(p) for p in report.problems[:10])


def view_tables(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every projection table, in primary-key order."""
    with read_transaction(get_engine(url)) as conn:
        return {
            table.name: [
                tuple(row)
                for row in conn.execute(select(table).order_by(*table.primary_key.columns))
            ]
            for table in view_metadata.sorted_tables
        }
