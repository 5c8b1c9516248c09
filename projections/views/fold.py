"""What one event does to the view rows: the one fold shared by catch-up and verify.

Catch-up writes the rows this fold gives; verify derives them again from the verified log
and compares. Both call `fold_event`, so what is written and what is checked cannot drift.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

from ledger.domain.events import LedgerEvent, MoveCorrected
from ledger.domain.negotiation import Negotiation
from projections.views.derive import correction_moved, history_row
from projections.views.intervals import INCOMPLETE, CurrentRow, StoryMark, advance
from projections.views.moved import moved_changes
from projections.views.seat_history import SeatChanges, SeatSink, fold_seats
from projections.views.timeaxis import END_OF_TIME, micros
from projections.views.writes import MovedWrites, Shown

NEVER: Final = -END_OF_TIME
"""known_from before an aggregate's first event."""


@dataclass
class Folded:
    """An aggregate as the view tables know it: folded up to `version`."""

    aggregate: Any
    version: int
    known_from: int  # running maximum of its events' timestamps: "as known on" is a prefix
    rows: list[CurrentRow] = field(default_factory=list)  # current split rows (negotiations)
    partial: bool = False  # rows holds only the latest current rows; the rest are in the table
    moved: Shown = field(default_factory=dict)  # move id -> current seats-moved row
    seats: SeatChanges = field(default_factory=dict)  # current seat changes (of rows' span)


class RowSink(Protocol):
    """Where the fold puts the rows an event opens and closes."""

    history: list[tuple[Any, ...]]
    moved: MovedWrites

    @property
    def seats(self) -> SeatSink: ...

    def open(self, negotiation: str, row: CurrentRow) -> None: ...

    def close(self, negotiation: str, row: CurrentRow, at: int) -> None: ...


def fold_event(
    folded: Folded,
    event: LedgerEvent,
    sink: RowSink,
    reread: Callable[[str], tuple[list[CurrentRow], SeatChanges]],
) -> None:
    """Fold `event` into `folded` and give `sink` the view rows it opens and closes.

    `reread(slug)` gives a negotiation's current split rows and seat changes from the
    table, when `folded` keeps only the latest ones (`partial`) and the event reaches
    further back.
    """
    folded.known_from = max(folded.known_from, micros(event.timestamp))
    known_from = folded.known_from
    row = history_row(folded.aggregate, event, known_from)
    if row is not None:
        sink.history.append(row)
        if isinstance(event, MoveCorrected):
            fixed = correction_moved(folded.aggregate, event)
            sink.moved.set(folded.moved, row[2], event.move_id, fixed, known_from)
    before = folded.aggregate
    mark = StoryMark(before.story if isinstance(before, Negotiation) else None)
    folded.aggregate = negotiation = event.mutate(before)
    folded.version = event.originator_version
    if not isinstance(negotiation, Negotiation):
        return
    story, slug = negotiation.story, negotiation.slug
    for move_id, value in moved_changes(mark, story):
        sink.moved.set(folded.moved, slug, move_id, value, known_from)
    changes = advance(folded.rows, mark, story, known_from, complete=not folded.partial)
    if changes is INCOMPLETE:
        (folded.rows, folded.seats), folded.partial = reread(slug), False
        changes = advance(folded.rows, mark, story, known_from)
    if changes is None:
        return
    for closed in changes.closed:
        sink.close(slug, closed, known_from)
    for opened in changes.opened:
        sink.open(slug, opened)
    fold_seats(folded.seats, changes, slug, known_from, sink.seats)
    folded.rows = changes.current
