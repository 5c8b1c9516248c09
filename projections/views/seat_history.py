"""Each seat's changes of (holder, status): the seat-changes rows an event closes and opens.

A split row holds every listed seat's (holder, status) during one valid-time run. A seat's
history is the runs where its (holder, status) differs from the run before (or where it is
first listed), each with the run's last move: what `projections.seats.seat_view` makes of
the runs. The seat-changes table keeps one row per such change, so `seat` reads one seat's
few rows instead of every run of its talks.

The changes follow from the split rows an event closes and opens: where a run changed (its
holders or its last move; a run only cut shorter changes nothing), its own changes and those
of the next run (whose run before it changed) are derived again and compared with the
current ones, which the fold keeps by valid instant. Runs are contiguous and a constituency,
once listed, stays listed, so "the run before" is the previous split row.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from functools import lru_cache
from operator import attrgetter
from typing import Final, Protocol

import orjson

from ledger.domain.values import constituency_key
from projections.views.derive import SplitRow
from projections.views.intervals import RowChanges

Seats = tuple[dict[str, tuple[str | None, str]], dict[str, str]]
"""A run's listed seats by constituency key: their (holder, status), and their names."""
Change = tuple[str, str | None, str, str, int]
"""A current seat-changes row: name, holder, status, the move id and recorded_from."""
SeatChanges = dict[int, dict[str, Change]]
"""The current rows of one negotiation: valid_from -> constituency key -> row."""

_VALID_FROM: Final = attrgetter("valid_from")
_MEMO_SIZE = 256  # runs parsed lately: each talks's last one is the next one's "before"
_NONE: Final[Seats] = ({}, {})


def seats_of(holders: str) -> Seats:
    """A split row's holders column by constituency key (memoised: runs share their texts)."""
    if holders == "[]":
        return _NONE
    return _parsed(holders)


@lru_cache(maxsize=_MEMO_SIZE)
def _parsed(holders: str) -> Seats:
    values, names = {}, {}
    for name, holder, status in orjson.loads(holders):
        key = _key(name)
        values[key], names[key] = (holder, status), name
    return values, names


_key = lru_cache(maxsize=_MEMO_SIZE)(constituency_key)


class SeatSink(Protocol):
    """Where `fold_seats` puts the rows it opens and closes (see writes.SeatWrites)."""

    def open_seat(self, negotiation: str, key: str, valid_from: int, row: Change) -> None: ...

    def close_seat(
        self, negotiation: str, key: str, valid_from: int, recorded_from: int, at: int
    ) -> None: ...


def _differs(before: SplitRow | None, after: SplitRow | None) -> bool:
    if before is None or after is None:
        return True
    return before.holders != after.holders or before.last_move_id != after.last_move_id


def fold_seats(
    current: SeatChanges, changes: RowChanges, negotiation: str, at: int, sink: SeatSink
) -> None:
    """Bring `current` in step with the split rows after `changes`, recorded at K = `at`.

    `changes.current` must hold the split row before the earliest changed run (if any).
    """
    if all(row.content.holders == "[]" for row in (*changes.closed, *changes.opened)):
        return  # no seat is listed in these runs, so none before them either
    before = {row.valid_from: row.content for row in changes.closed}
    after = {row.valid_from: row.content for row in changes.opened}
    touched = [t for t, content in after.items() if _differs(before.get(t), content)]
    touched += [t for t in before if t not in after]
    if not touched:
        return
    rows = changes.current
    first = bisect_left(rows, min(touched), key=_VALID_FROM)
    last = bisect_right(rows, max(touched), key=_VALID_FROM)
    previous = seats_of(rows[first - 1].content.holders)[0] if first else {}
    derived: dict[int, dict[str, tuple[str, str | None, str, str]]] = {}
    for row in rows[first : last + 1]:  # and the run after: the run before it may have changed
        values, names = seats_of(row.content.holders)
        if values is not previous:
            move_id = row.content.last_move_id
            found = {
                key: (names[key], *value, move_id)
                for key, value in values.items()
                if previous.get(key) != value
            }
            if found:
                derived[row.valid_from] = found
        previous = values
    instants = set(touched).union(row.valid_from for row in rows[first : last + 1])
    for instant in sorted(instants):
        old = current.pop(instant, {})
        new = derived.get(instant, {})
        if not old and not new:
            continue
        kept: dict[str, Change] = {}
        for key in sorted(old.keys() | new.keys()):
            stored, wanted = old.get(key), new.get(key)
            if stored is not None and wanted is not None and stored[:4] == wanted:
                kept[key] = stored
                continue
            if stored is not None:
                sink.close_seat(negotiation, key, instant, stored[4], at)
            if wanted is not None:
                change = (*wanted, at)
                sink.open_seat(negotiation, key, instant, change)
                kept[key] = change
        if kept:
            current[instant] = kept
