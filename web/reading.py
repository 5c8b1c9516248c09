"""What each page shows, read over the query API: plain values, one JSON twin each.

One `Reader` per server: `LedgerViews` (splits, seats, history, roll-up) and the application
(for the offer lineage), behind one lock, since a catch-up by one request must not race another.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from ledger.application import NegotiationLedger
from ledger.domain.values import ValidTime
from projections.answers import (
    JsonDict,
    MoveView,
    RollupView,
    SeatHolder,
    SeatView,
    SplitView,
    rollup_of,
)
from projections.api import LedgerViews
from projections.chart_story import chart_story
from projections.diff import LedgerDiff, ledger_diff
from projections.lineage import LineageStep, lineage, replies
from projections.reports.model import Series, chart_series
from projections.views.timeaxis import iso

SPAN_CACHE_SIZE = 32


@dataclass(frozen=True)
class Span:
    """The dates a slider covers: the first and last move dates, as known on K."""

    first: date
    last: date

    @property
    def days(self) -> int:
        """The slider's last step."""
        return (self.last - self.first).days

    def day_of(self, when: ValidTime | None) -> int:
        """The slider step of a date (None: the last), kept within the span."""
        chosen = self.last if when is None else day_of(when)
        return min(max((chosen - self.first).days, 0), self.days)

    def date_at(self, step: int) -> date:
        """The date of a slider step."""
        return self.first + timedelta(days=min(max(step, 0), self.days))


def span_between(found: tuple[datetime, datetime] | None) -> Span:
    """The span between the first and last move instants (today's date alone for none)."""
    if found is None:
        return Span(date.today(), date.today())
    return Span(day_of(found[0]), day_of(found[1]))


def day_of(when: ValidTime) -> date:
    """The UTC day of a date or instant."""
    return when.astimezone(UTC).date() if isinstance(when, datetime) else when


@dataclass(frozen=True)
class Overview:
    """Every negotiation open on D as known on K, and the national roll-up."""

    as_of: ValidTime | None
    known_on: ValidTime | None
    splits: list[SplitView]
    rollup: RollupView

    def to_json(self) -> JsonDict:
        """`splits --format json` and `rollup --format json` side by side."""
        return {
            "as_of": iso(self.as_of),
            "known_on": iso(self.known_on),
            "splits": [view.to_json() for view in self.splits],
            "rollup": self.rollup.to_json(),
        }


@dataclass(frozen=True)
class MovesPage:
    """One page of a negotiation's moves dated by D: page 1 holds the latest."""

    number: int
    size: int
    total: int  # every move dated by D, on all pages
    moves: list[MoveView]  # in history order

    @property
    def pages(self) -> int:
        """How many pages the moves dated by D fill (at least one)."""
        return max(1, -(-self.total // self.size))

    def to_json(self) -> JsonDict:
        """Where this page sits among the others."""
        return {"number": self.number, "pages": self.pages, "size": self.size,
                "moves": self.total}  # fmt: skip


@dataclass(frozen=True)
class NegotiationPage:
    """One negotiation on D as known on K: split, seats, positions, a page of moves, lineage."""

    split: SplitView
    positions: dict[str, dict[str, int]]
    seats: list[SeatHolder]
    moves: MovesPage  # dated by D
    lineage: list[LineageStep]  # of the moves on this page

    def to_json(self) -> JsonDict:
        """`split --format json`, the positions, `seats`, a page of `history`, the lineage."""
        return {
            "split": self.split.to_json(),
            "positions": self.positions,
            "seats": [seat.to_json() for seat in self.seats],
            "history": [move.to_json() for move in self.moves.moves],
            "page": self.moves.to_json(),
            "lineage": [step.to_json() for step in self.lineage],
        }


class Reader:
    """The read side of one ledger, for the pages; every call is serialised."""

    def __init__(self, url: str) -> None:
        self.views = LedgerViews(url)
        self._app = NegotiationLedger(url)
        self._lock = threading.Lock()
        self._spans: dict[str | None, tuple[int, Span]] = {}  # by known_on: (log head, span)
        self._colours: tuple[int, dict[str, str]] = (-1, {})  # (log head, chosen colours)

    def overview(self, as_of: ValidTime | None, known_on: ValidTime | None) -> Overview:
        """The overview page's facts."""
        with self._lock:
            splits = self.views.splits(as_of, known_on)
        return Overview(as_of, known_on, splits, rollup_of(splits, as_of, known_on))

    def span(self, known_on: ValidTime | None) -> Span:
        """The dates of every move known on K; kept until the log grows."""
        head = self._head()
        cached = self._spans.get(iso(known_on))
        if cached is not None and cached[0] == head:
            return cached[1]
        with self._lock:
            found = span_between(self.views.move_span(None, known_on))
        if len(self._spans) > SPAN_CACHE_SIZE:
            self._spans.clear()
        self._spans[iso(known_on)] = (head, found)
        return found

    def colours(self) -> dict[str, str]:
        """The chart colours chosen for parties (`colour:` in a file, `parties add --colour`),
        as the reports use them; kept until the log grows."""
        head = self._head()
        if self._colours[0] != head:
            with self._lock:
                self._colours = (head, dict(self._app.roster().colours))
        return self._colours[1]

    def _head(self) -> int:
        """The last notification recorded: what the kept answers are checked against (one
        indexed MAX; the views' position, which `status()` reads too, is not needed)."""
        return self._app.recorder.max_notification_id() or 0

    def negotiation_span(self, slug: str, known_on: ValidTime | None) -> Span:
        """The dates of one negotiation's moves known on K; NotFoundError if unknown."""
        with self._lock:
            return span_between(self.views.move_span(slug, known_on))

    def negotiation(
        self,
        slug: str,
        as_of: ValidTime | None,
        known_on: ValidTime | None,
        page: int,
        size: int,
    ) -> NegotiationPage:
        """One negotiation's page facts, with page `page` of its moves; NotFoundError if not
        open on D."""
        with self._lock:
            split, positions, seats = self.views.standing(slug, as_of, known_on)
            total, shown = self.views.history_page(
                slug, as_of, known_on, limit=size, offset=(page - 1) * size
            )
            answered = replies(self._app, slug, [move.id for move in shown])
        return NegotiationPage(
            split=split,
            positions=positions,
            seats=seats,
            moves=MovesPage(page, size, total, shown),
            lineage=lineage(shown, answered),
        )

    def chart(self, slug: str, known_on: ValidTime | None) -> tuple[SplitView, Series]:
        """The negotiation as last known on K, and its seats over time: the whole story known
        on K, so the chart is the same on every D. NotFoundError if unknown."""
        with self._lock:
            latest = self.views.split(slug, None, known_on)
            return latest, chart_series(*chart_story(self.views, slug, known_on))

    def seat(
        self, slug: str, name: str, as_of: ValidTime | None, known_on: ValidTime | None
    ) -> SeatView:
        """One constituency's holder on D and its history: `seatledger seat`'s answer."""
        with self._lock:
            return self.views.seat(slug, name, as_of, known_on)

    def diff(
        self,
        from_date: ValidTime,
        to_date: ValidTime,
        known_on: ValidTime | None,
        negotiation: str | None,
    ) -> LedgerDiff:
        """The diff page's facts: `seatledger diff`'s."""
        with self._lock:
            return ledger_diff(self.views, from_date, to_date, known_on, negotiation)

    def negotiations(self) -> list[str]:
        """Every negotiation's slug, for the diff page's choice."""
        with self._lock:
            return self.views.negotiations()
