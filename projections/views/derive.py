"""What one event contributes to the read side, shared by the projection and the replay.

Both fold the aggregates with their own code (`event.mutate`); this module only reads
the aggregate just before an event, so neither knows any rule of its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, NamedTuple

import orjson

from ledger.domain.errors import CorrectionError
from ledger.domain.events import (
    AllianceMembershipMirrored,
    LedgerEvent,
    MoveCorrected,
    MoveEvent,
    NegotiationOpened,
)
from ledger.domain.folding import Handover, Moved, seats_moved
from ledger.domain.moves import Move
from ledger.domain.negotiation import Negotiation
from ledger.domain.state import NO_SEATING, NegotiationState
from ledger.domain.story_aggregate import Storied
from ledger.domain.values import Split, ValidTime, valid_instant
from projections.answers import MoveView
from projections.views.timeaxis import micros

CORRECTION = "correction"


class MoveRecord(NamedTuple):
    """One row of the audit history, as the move was recorded."""

    move_id: str
    seq: int  # the aggregate version that recorded it
    negotiation: str | None
    type: str
    on: ValidTime
    on_at: int  # the valid instant, in microseconds
    recorded_at: datetime
    known_from: int  # first K at which it is known (running maximum of its aggregate's clock)
    recorded_by: str
    by: str | None
    split: Split | None
    seats_moved: dict[str, int] | None
    source: str | None
    note: str | None
    confidence: str
    corrects: str | None = None
    retract: bool = False
    named: dict[str, list[str]] | None = None  # the named seats of its split, as recorded
    seats_given: tuple[Handover, ...] = ()  # named seats that changed hands, as seats_moved

    @property
    def order(self) -> tuple[int, int, int, str]:
        """History order: valid time, then when it became known, then recording order."""
        return (self.on_at, self.known_from, self.seq, self.move_id)

    def view(self, corrected_by: tuple[str, ...] = ()) -> MoveView:
        """The row as the query API shows it."""
        return MoveView(
            id=self.move_id,
            type=self.type,
            on=self.on,
            recorded_at=self.recorded_at,
            recorded_by=self.recorded_by,
            by=self.by,
            split=self.split,
            source=self.source,
            note=self.note,
            confidence=self.confidence,
            negotiation=self.negotiation,
            seats_moved=self.seats_moved,
            corrects=self.corrects,
            retract=self.retract,
            corrected_by=corrected_by,
            named=self.named,
            seats_given=self.seats_given,
        )


def history_views(shown: Iterable[MoveRecord], corrections: Iterable[MoveRecord]) -> list[MoveView]:
    """Rows as views, each linked to the corrections of it known by K (even if dated after D)."""
    fixes: dict[str, list[str]] = {}
    for fix in corrections:
        if fix.corrects is not None:
            fixes.setdefault(fix.corrects, []).append(fix.move_id)
    return [record.view(tuple(fixes.get(record.move_id, ()))) for record in shown]


class SplitRow(NamedTuple):
    """What a split-history row says about a negotiation during one valid interval."""

    status: str
    maker: str | None
    split: str  # JSON, in the move's own party order
    positions: str  # JSON {party: split}, parties sorted
    seats: int
    region: str
    title: str
    last_move_id: str
    election: str | None
    alliance: str | None
    named: str  # JSON {party: [constituency, ...]}, list order; parties with named seats
    settled: str  # JSON {party: seats}, the settled shares ({} once agreed)
    holders: str  # JSON [[constituency, holder, status], ...] in list order ([] when none)


def dumps(value: Any) -> str:
    """JSON text as stored in the view tables."""
    return orjson.dumps(value).decode()


_MEMO_SIZE = 4096
_split_json: dict[int, tuple[object, str]] = {}
_positions_json: dict[int, tuple[object, str]] = {}


def _split_text(split: Split) -> str:
    # Splits are never mutated: states share them, so each one is encoded once. The memo
    # holds the object itself, so its id cannot be reused while the entry exists.
    if not split:
        return "{}"
    hit = _split_json.get(id(split))
    if hit is not None and hit[0] is split:
        return hit[1]
    if len(_split_json) >= _MEMO_SIZE:
        _split_json.clear()
    text = dumps(split if type(split) is dict else dict(split))
    _split_json[id(split)] = (split, text)
    return text


def _positions_text(positions: Mapping[str, Split]) -> str:
    if not positions:
        return "{}"
    hit = _positions_json.get(id(positions))
    if hit is not None and hit[0] is positions:
        return hit[1]
    if len(_positions_json) >= _MEMO_SIZE:
        _positions_json.clear()
    # Each position is a plain dict (a Split); orjson would refuse anything else.
    text = dumps({party: positions[party] for party in sorted(positions)})
    _positions_json[id(positions)] = (positions, text)
    return text


def split_row(state: NegotiationState, last: Move) -> SplitRow:
    """The row content for a run of the valid-time story."""
    return SplitRow(
        state.status,
        state.maker,
        _split_text(state.split),
        _positions_text(state.positions),
        state.seats,
        state.region,
        state.title,
        last.move_id,
        state.election,
        state.alliance,
        *seat_texts(state),
    )


def seat_texts(state: NegotiationState) -> tuple[str, str, str]:
    """The named seats, the settled shares and every listed seat's holder, as stored."""
    seating = state.seating
    if seating is NO_SEATING:
        return "{}", "{}", "[]"
    named = state.named
    return (
        dumps({party: list(named[party]) for party in state.split if party in named}),
        _split_text(state.settled),
        dumps(state.holders()),
    )


def with_moved(
    records: Iterable[MoveRecord], moved: Mapping[str, Moved | None]
) -> list[MoveRecord]:
    """History records with the seats each move moved in the story as known on K.

    A correction keeps its own (what it changed); a move no longer in the story (retracted)
    moved nothing there and shows None.
    """
    found: list[MoveRecord] = []
    for record in records:
        if record.corrects is None:
            value = moved.get(record.move_id)
            record = record._replace(
                seats_moved=None if value is None else value.seats,
                seats_given=() if value is None else value.given,
            )
        found.append(record)
    return found


def with_given_back(
    records: Iterable[MoveRecord], mirrored: Iterable[tuple[str, Moved]]
) -> list[MoveRecord]:
    """Alliance moves with the seats their copies moved in every negotiation, summed.

    A party that leaves the alliance after an agreement gives its seats back in each of
    its talks: the alliance's move shows them all (and every named seat, talks in id order).
    `mirrored` holds (copy id, seats moved).
    """
    totals: dict[str, dict[str, int]] = {}
    given: dict[str, list[Handover]] = {}
    for copy, moved in sorted(mirrored, key=lambda item: item[0]):
        move_id = copy.rpartition("@")[0]
        total = totals.setdefault(move_id, {})
        for party, seats in moved.seats.items():
            total[party] = total.get(party, 0) + seats
        given.setdefault(move_id, []).extend(moved.given)
    return [
        record._replace(
            seats_moved={p: n for p, n in totals[record.move_id].items() if n},
            seats_given=tuple(given[record.move_id]),
        )
        if record.negotiation is None and record.corrects is None and record.move_id in totals
        else record
        for record in records
    ]


def negotiation_of(aggregate: Any, event: LedgerEvent) -> str | None:
    """The negotiation an event belongs to; None for alliance-level events."""
    if isinstance(aggregate, Negotiation):
        return aggregate.slug
    if isinstance(event, NegotiationOpened):
        return event.negotiation
    return None


def move_record(aggregate: Any, event: LedgerEvent, known_from: int) -> MoveRecord | None:
    """The history row an event adds, given its aggregate just before it; None for non-moves.

    Alliance moves copied into each negotiation (and their corrections) are not rows of
    their own: the alliance's move is.
    """
    if isinstance(event, AllianceMembershipMirrored):
        return None
    if isinstance(event, MoveCorrected):
        return None if event.mirror else _correction(aggregate, event, known_from)
    if not isinstance(event, MoveEvent):
        return None
    # The fields of `event.to_move()` a history row shows, read off the event itself (every
    # event class maps its `by`, `party` and `split` fields onto the move's, by name).
    fields = event.__dict__  # a pydantic model's field values (getattr of a missing one is slow)
    split: Split | None = fields.get("split")
    on = event.occurred_on
    return MoveRecord(
        event.move_id,
        event.originator_version,
        negotiation_of(aggregate, event),
        event.kind,
        on,
        micros(valid_instant(on)),
        event.timestamp,
        known_from,
        event.recorded_by,
        fields.get("by") or fields.get("party"),
        None if split is None else dict(split),
        None,  # derived from the story as known on K (`with_moved`), not at record time
        event.source,
        event.note,
        event.confidence,
        None,
        False,
        _named(fields.get("named")),
    )


def _named(named: Any) -> dict[str, list[str]] | None:
    """A move's named seats as the history shows them (None: it named none)."""
    return {party: list(names) for party, names in named.items()} if named else None


def _corrected_move(aggregate: Any, event: MoveCorrected) -> Move:
    target = aggregate.story.find(event.of) if isinstance(aggregate, Storied) else None
    if target is None:
        raise CorrectionError(f"stored correction {event.move_id} names unknown move {event.of}")
    return target


def correction_moved(aggregate: Any, event: MoveCorrected) -> Moved | None:
    """What a correction changes in the split it corrects; None if it leaves the split alone.

    Fixed when recorded: it compares the correction with the move as it read just before.
    Its named seats are not compared: the moves it re-derives show who gained which seat.
    """
    target = _corrected_move(aggregate, event)
    split = event.changes.split
    if split is None or target.split is None:
        return None
    return Moved(seats_moved(split, target.split))


def _correction(aggregate: Any, event: MoveCorrected, known_from: int) -> MoveRecord:
    """A correction is dated by the move it corrects (its new date, if it changes it)."""
    target = _corrected_move(aggregate, event)
    changes = event.changes
    on = changes.on if changes.on is not None else target.on
    fixed = correction_moved(aggregate, event)
    return MoveRecord(
        move_id=event.move_id,
        seq=event.originator_version,
        negotiation=negotiation_of(aggregate, event),
        type=CORRECTION,
        on=on,
        on_at=micros(valid_instant(on)),
        recorded_at=event.timestamp,
        known_from=known_from,
        recorded_by=event.recorded_by,
        by=changes.by,
        split=None if changes.split is None else dict(changes.split),
        seats_moved=None if fixed is None else fixed.seats,
        source=changes.source,
        note=changes.note if changes.note is not None else event.reason,
        confidence="confirmed",
        corrects=event.of,
        retract=event.retract,
        named=_named(changes.named),
    )


def history_row(aggregate: Any, event: LedgerEvent, known_from: int) -> tuple[Any, ...] | None:
    """`move_record` as a row of the history table, in its column order (None: no row).

    The catch-up's hot path: the same values as `move_record`, without the named tuple.
    """
    if isinstance(event, AllianceMembershipMirrored | MoveCorrected):
        record = move_record(aggregate, event, known_from)
        return None if record is None else record_row(record)
    if not isinstance(event, MoveEvent):
        return None
    fields = event.__dict__  # as in move_record
    split: Split | None = fields.get("split")
    on = event.occurred_on
    instant = valid_instant(on)
    return (
        event.move_id,
        event.originator_version,
        aggregate.slug if isinstance(aggregate, Negotiation) else negotiation_of(aggregate, event),
        event.kind,
        on.isoformat(),
        micros(instant),
        event.timestamp.isoformat(),
        known_from,
        event.recorded_by,
        fields.get("by") or fields.get("party"),
        None if split is None else dumps(split if type(split) is dict else dict(split)),
        event.source,
        event.note,
        event.confidence,
        None,
        False,
        None if not (named := fields.get("named")) else dumps(named),
    )


def record_row(record: MoveRecord) -> tuple[Any, ...]:
    """A history record in the column order of the history table."""
    return (
        record.move_id,
        record.seq,
        record.negotiation,
        record.type,
        record.on.isoformat(),
        record.on_at,
        record.recorded_at.isoformat(),
        record.known_from,
        record.recorded_by,
        record.by,
        None if record.split is None else dumps(record.split),
        record.source,
        record.note,
        record.confidence,
        record.corrects,
        record.retract,
        None if record.named is None else dumps(record.named),
    )
