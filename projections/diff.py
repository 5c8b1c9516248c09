"""What changed between two dates: seats moved per party and per constituency, moves made,
corrections recorded.

Read over the query API only (`LedgerViews`), so the views' freshness and the reader role's
replay fallback apply here as everywhere. Both dates are read as known on the same K.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from ledger.domain.errors import InputError
from ledger.domain.values import Split, ValidTime, constituency_key, end_of, valid_instant
from projections.answers import JsonDict, MoveView, SeatHolder, SplitView, rollup_of
from projections.api import LedgerViews
from projections.views.timeaxis import LATEST, from_micros, iso


@dataclass(frozen=True)
class SeatChanged:
    """A listed constituency whose holder differs between the two dates."""

    constituency: str
    holder_from: str | None  # None: held by no party (or not listed) on the first date
    holder_to: str | None
    status_from: str | None  # None: not listed on that date
    status_to: str | None

    def to_json(self) -> JsonDict:
        """One item of a negotiation's `seats_changed` in `diff --format json`."""
        return {"constituency": self.constituency, "holder_from": self.holder_from,
                "holder_to": self.holder_to, "status_from": self.status_from,
                "status_to": self.status_to}  # fmt: skip


@dataclass(frozen=True)
class NegotiationChange:
    """One negotiation on both dates: its status and split, and the seats each party gained."""

    negotiation: str
    title: str
    seats: int
    status_from: str | None  # None: not open on the first date
    status_to: str | None
    split_from: Split
    split_to: Split
    seats_changed: tuple[SeatChanged, ...] = ()  # named seats whose holder changed

    @property
    def seats_moved(self) -> dict[str, int]:
        """Seats gained (+) or lost (-) per party from the first split to the second."""
        return split_difference(self.split_from, self.split_to)

    @property
    def changed(self) -> bool:
        """Whether anything a reader sees differs between the two dates."""
        return (
            self.status_from != self.status_to
            or self.split_from != self.split_to
            or bool(self.seats_changed)
        )

    def to_json(self) -> JsonDict:
        """The negotiation's entry in `diff --format json`."""
        return {
            "negotiation": self.negotiation,
            "title": self.title,
            "seats": self.seats,
            "status_from": self.status_from,
            "status_to": self.status_to,
            "split_from": dict(self.split_from),
            "split_to": dict(self.split_to),
            "seats_moved": self.seats_moved,
            "seats_changed": [seat.to_json() for seat in self.seats_changed],
        }


@dataclass(frozen=True)
class LedgerDiff:
    """The change from D1 to D2 as known on K, over one negotiation or all of them."""

    from_date: ValidTime
    to_date: ValidTime | None  # None: the latest (every move)
    known_on: ValidTime | None
    scope: str | None  # one negotiation, None for all
    negotiations: tuple[NegotiationChange, ...]  # only those that changed
    agreed_seats_moved: dict[str, int]  # the roll-up's change: seats per party in agreed talks
    moves: tuple[MoveView, ...]  # dated after D1, up to D2 (corrections as recorded)
    corrections: tuple[MoveView, ...]  # of those moves, or recorded after D1 up to D2

    def to_json(self) -> JsonDict:
        """The `diff --format json` object (the web view's JSON twin is the same)."""
        return {
            "from": iso(self.from_date),
            "to": iso(self.to_date),
            "known_on": iso(self.known_on),
            "negotiation": self.scope,
            "negotiations": [change.to_json() for change in self.negotiations],
            "agreed_seats_moved": self.agreed_seats_moved,
            "moves": [move.to_json() for move in self.moves],
            "corrections": [move.to_json() for move in self.corrections],
        }


def split_difference(before: Mapping[str, int], after: Mapping[str, int]) -> dict[str, int]:
    """Per party, seats after minus seats before; unchanged parties left out, biggest first."""
    parties = dict.fromkeys([*after, *before])
    moved = {p: after.get(p, 0) - before.get(p, 0) for p in parties}
    changed = {p: n for p, n in moved.items() if n}
    return dict(sorted(changed.items(), key=lambda item: (-abs(item[1]), item[0])))


def ledger_diff(
    views: LedgerViews,
    from_date: ValidTime,
    to_date: ValidTime | None,
    known_on: ValidTime | None = None,
    negotiation: str | None = None,
) -> LedgerDiff:
    """What changed from `from_date` to `to_date` (both whole days unless times are given).

    `to_date` None: up to the latest move, as the other reads take a missing "as of".
    """
    start = end_of(from_date)
    end = from_micros(LATEST) if to_date is None else end_of(to_date)
    if start > end:
        raise InputError(
            f"the from date {from_date.isoformat()} is after the to date {iso(to_date)}"
        )
    # Unknown negotiations are refused here (NotFoundError), before any split is read.
    every = views.history(negotiation, None, known_on)
    before = _open(views.splits(from_date, known_on), negotiation)
    after = _open(views.splits(to_date, known_on), negotiation)
    held = _seat_changes(views, before, after, (from_date, to_date), known_on)
    changes = tuple(change for change in _changes(before, after, held) if change.changed)
    agreed = split_difference(
        rollup_of(before.values(), from_date, known_on).parties,
        rollup_of(after.values(), to_date, known_on).parties,
    )
    moves = tuple(m for m in every if m.corrects is None and start < valid_instant(m.on) <= end)
    made = {m.id for m in moves}
    fixes = tuple(
        m
        for m in every
        if m.corrects is not None and (m.corrects in made or _within(m.recorded_at, start, end))
    )
    return LedgerDiff(from_date, to_date, known_on, negotiation, changes, agreed, moves, fixes)


def _within(when: datetime, start: datetime, end: datetime) -> bool:
    return start < when <= end


def _open(splits: Iterable[SplitView], negotiation: str | None) -> dict[str, SplitView]:
    return {s.negotiation: s for s in splits if negotiation in (None, s.negotiation)}


def _seat_changes(
    views: LedgerViews,
    before: Mapping[str, SplitView],
    after: Mapping[str, SplitView],
    dates: tuple[ValidTime, ValidTime | None],
    known_on: ValidTime | None,
) -> dict[str, tuple[SeatChanged, ...]]:
    """Per negotiation, the listed seats whose holder differs from the first date to the second.

    A seat is held only through named or settled seats, so talks naming none on either date
    are not read.
    """
    found: dict[str, tuple[SeatChanged, ...]] = {}
    for slug in sorted({*before, *after}):
        on_dates = (before.get(slug), after.get(slug))
        if not any(view is not None and (view.named or view.settled) for view in on_dates):
            continue
        then, now = (
            {} if view is None else {constituency_key(seat.constituency): seat
                                     for seat in views.seats(slug, when, known_on)}
            for view, when in zip(on_dates, dates, strict=True)
        )  # fmt: skip
        changed = []
        for key in dict.fromkeys([*then, *now]):
            old, new = then.get(key), now.get(key)
            holder_from = None if old is None else old.holder
            holder_to = None if new is None else new.holder
            if holder_from != holder_to:
                changed.append(SeatChanged(
                    (new or old or SeatHolder(key, None, "")).constituency,
                    holder_from, holder_to,
                    None if old is None else old.status, None if new is None else new.status,
                ))  # fmt: skip
        if changed:
            found[slug] = tuple(changed)
    return found


def _changes(
    before: Mapping[str, SplitView],
    after: Mapping[str, SplitView],
    held: Mapping[str, tuple[SeatChanged, ...]],
) -> Iterable[NegotiationChange]:
    latest = {**before, **after}  # title and pool as on the later date where open then
    for slug in sorted(latest):
        old, new, shown = before.get(slug), after.get(slug), latest[slug]
        yield NegotiationChange(
            negotiation=slug,
            title=shown.title or shown.region or slug,
            seats=shown.seats,
            status_from=None if old is None else old.status,
            status_to=None if new is None else new.status,
            split_from={} if old is None else dict(old.split),
            split_to={} if new is None else dict(new.split),
            seats_changed=held.get(slug, ()),
        )
