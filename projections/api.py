"""The query API the command line calls: typed answers on any (D, K), no SQL for callers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from eventsourcing.persistence import PersistenceError
from sqlalchemy import Connection, Row
from sqlalchemy.exc import DBAPIError

from ledger.domain.errors import InputError, NotFoundError
from ledger.domain.values import ValidTime, constituency_key, valid_instant
from ledger.persistence.engine import get_engine, read_transaction
from ledger.persistence.schema import TABLES, create_schema
from projections import reference, seats
from projections.answers import (
    EVERYTHING,
    Freshness,
    MoveView,
    ProjectionStatus,
    RollupView,
    Scope,
    SeatHolder,
    SeatView,
    SplitView,
    not_opened,
    rollup_of,
    unknown_negotiation,
)
from projections.views import queries
from projections.views.derive import history_views, with_given_back
from projections.views.log_pages import PAGE_SIZE, LogPages, Progress
from projections.views.tables import create_view_tables
from projections.views.timeaxis import check_when, from_micros, query_instant
from projections.views.writes import read_position

if TYPE_CHECKING:
    from projections.views.catchup import Projector

_T = TypeVar("_T")

__all__ = [
    "Freshness",
    "LedgerViews",
    "MoveView",
    "ProjectionStatus",
    "RollupView",
    "SplitView",
]


class LedgerViews:
    """Splits, positions, roll-up and history as of D, as known on K; each read catches up."""

    def __init__(self, url: str, *, page_size: int = PAGE_SIZE) -> None:
        self.url = url
        self.engine = get_engine(url)
        self.page_size = page_size
        self._log = LogPages(TABLES.events, page_size)  # reads the log's head
        create_schema(self.engine)  # the ledger's own tables, as its application creates them
        create_view_tables(self.engine)
        self._may_write: bool | None = None  # None until a catch-up was tried

    # A read of up-to-date views needs neither the write side nor the fold: they are
    # imported and built on the first catch-up (or replay, `reference.ledger_at`).
    # saves ~120 ms of `seatledger split` on SQLite (2026-12-07, 10 runs alternating).
    @cached_property
    def _projector(self) -> Projector:
        from ledger.application import NegotiationLedger
        from projections.views.catchup import Projector

        app = NegotiationLedger(self.url, env={"CREATE_TABLE": "no"})  # created above
        return Projector(app, self.engine, page_size=self.page_size)

    @classmethod
    def open(cls, url: str, progress: Progress | None = None) -> tuple[LedgerViews, Freshness]:
        """The views of a ledger made ready to read: the one entry every read command uses."""
        views = cls(url)
        return views, views.refresh(progress)

    def refresh(self, progress: Progress | None = None) -> Freshness:
        """Bring lagging views up to date, or, if this role may not, say answers are replayed.

        Every read decides the same way (`_catch_up`), so a read never sees stale views.
        """
        status = self.status()
        if status.lag == 0:
            return Freshness(status, replayed=False)
        return Freshness(status, replayed=not self._catch_up(progress))

    # -- upkeep (the projector's work) ------------------------------------------

    def catch_up(self, progress: Progress | None = None) -> int:
        """Apply the events recorded since the last catch-up; return how many.

        InputError if this role may not write the views (a reader or writer role).
        """
        with _as_projector():
            return self._projector.catch_up(progress)

    def rebuild(self, progress: Progress | None = None) -> int:
        """Drop the views and derive them again, one aggregate at a time; return the count.

        One write transaction (a killed rebuild leaves the views as they were); on SQLite it
        holds the write lock throughout, so writers wait for it (busy timeout 30 s).
        """
        with _as_projector():
            return self._projector.rebuild(progress)

    def status(self) -> ProjectionStatus:
        """Position reached, last notification recorded, and the lag between them."""
        with read_transaction(self.engine) as conn:
            return self._status(conn)

    # -- queries --------------------------------------------------------------

    def split(
        self, negotiation: str, as_of: ValidTime | None = None, known_on: ValidTime | None = None
    ) -> SplitView:
        """The split of one negotiation; NotFoundError if unknown or not yet open."""
        row = self._split_row(negotiation, as_of, known_on)
        if row is None:
            return reference.replay_split(self.url, negotiation, as_of, known_on)
        return queries.split_view(row, as_of, known_on)

    def standing(
        self, negotiation: str, as_of: ValidTime | None = None, known_on: ValidTime | None = None
    ) -> tuple[SplitView, dict[str, dict[str, int]], list[SeatHolder]]:
        """`split`, `positions` and `seats` of one negotiation together, from one row."""
        row = self._split_row(negotiation, as_of, known_on)
        if row is None:
            return (
                reference.replay_split(self.url, negotiation, as_of, known_on),
                reference.replay_positions(self.url, negotiation, as_of, known_on),
                seats.replay_seats(self.url, negotiation, as_of, known_on),
            )
        view = queries.split_view(row, as_of, known_on)
        return view, queries.positions_of(row), seats.holders_of(row.holders)

    def splits(
        self,
        as_of: ValidTime | None = None,
        known_on: ValidTime | None = None,
        scope: Scope = EVERYTHING,
    ) -> list[SplitView]:
        """Every negotiation open on D (of one election or alliance, if scoped), by slug."""
        d, k = _instants(as_of, known_on)
        rows = self.read_fresh(lambda conn: queries.split_rows(conn, None, d, k))
        if rows is None:
            found = reference.replay_splits(self.url, as_of, known_on, scope)
        else:
            found = scope.of(queries.split_view(row, as_of, known_on) for row in rows)
        if not found and scope != EVERYTHING:
            # Empty on this date, or a mistyped scope? Refuse only what the ledger never held.
            every = self.splits()
            if not scope.of(every):
                raise scope.unknown(every)
        return found

    def rollup(
        self,
        as_of: ValidTime | None = None,
        known_on: ValidTime | None = None,
        scope: Scope = EVERYTHING,
    ) -> RollupView:
        """Seats per party over the negotiations agreed on D (per election if several)."""
        return rollup_of(self.splits(as_of, known_on, scope), as_of, known_on)

    def history(
        self,
        negotiation: str | None,
        as_of: ValidTime | None = None,
        known_on: ValidTime | None = None,
    ) -> list[MoveView]:
        """Moves recorded by K and dated by D, as recorded; None: every move, alliance too."""
        if not self._fresh(as_of, known_on):
            return reference.replay_history(self.url, negotiation, as_of, known_on)
        d, k = _instants(as_of, known_on)
        with read_transaction(self.engine) as conn:
            if negotiation is not None and not queries.is_known(conn, negotiation, k):
                raise unknown_negotiation(negotiation, known_on)
            shown, corrections = queries.history(conn, negotiation, d, k)
            if negotiation is None:  # alliance moves show the seats their copies gave back
                shown = with_given_back(shown, queries.mirrored_moved(conn, k))
        return history_views(shown, corrections)

    def history_page(
        self,
        negotiation: str,
        as_of: ValidTime | None = None,
        known_on: ValidTime | None = None,
        *,
        limit: int,
        offset: int = 0,
    ) -> tuple[int, list[MoveView]]:
        """How many moves `history` lists, and `limit` of them, `offset` from the latest."""
        d, k = _instants(as_of, known_on)

        def read(conn: Connection) -> tuple[int, list[MoveView]]:
            if not queries.is_known(conn, negotiation, k):
                raise unknown_negotiation(negotiation, known_on)
            total, shown = queries.history_page(conn, negotiation, d, k, limit, offset)
            return total, history_views(shown, queries.corrections(conn, negotiation, k))

        found = self.read_fresh(read)
        if found is None:
            every = reference.replay_history(self.url, negotiation, as_of, known_on)
            end = max(len(every) - offset, 0)  # past the earliest move: an empty page
            return len(every), every[max(end - limit, 0) : end]
        return found

    def move_span(
        self, negotiation: str | None, known_on: ValidTime | None = None
    ) -> tuple[datetime, datetime] | None:
        """The earliest and latest valid instant of the moves known on K; None: no move."""
        k = _instants(None, known_on)[1]

        def read(conn: Connection) -> list[tuple[int, int]]:  # empty: no move
            if negotiation is not None and not queries.is_known(conn, negotiation, k):
                raise unknown_negotiation(negotiation, known_on)
            span = queries.move_span(conn, negotiation, k)
            return [] if span is None else [span]

        found = self.read_fresh(read)
        if found is None:  # this role replays
            every = reference.replay_history(self.url, negotiation, None, known_on)
            instants = [valid_instant(move.on) for move in every]
            return (min(instants), max(instants)) if instants else None
        return (from_micros(found[0][0]), from_micros(found[0][1])) if found else None

    def positions(
        self, negotiation: str, as_of: ValidTime | None = None, known_on: ValidTime | None = None
    ) -> dict[str, dict[str, int]]:
        """Each party's latest proposed or accepted split in one negotiation."""
        row = self._split_row(negotiation, as_of, known_on)
        if row is None:
            return reference.replay_positions(self.url, negotiation, as_of, known_on)
        return queries.positions_of(row)

    def seats(
        self, negotiation: str, as_of: ValidTime | None = None, known_on: ValidTime | None = None
    ) -> list[SeatHolder]:
        """Every listed constituency's holder and status on D, as known on K, in list order."""
        row = self._split_row(negotiation, as_of, known_on)
        if row is None:
            return seats.replay_seats(self.url, negotiation, as_of, known_on)
        return seats.holders_of(row.holders)

    def seat(
        self,
        negotiation: str,
        constituency: str,
        as_of: ValidTime | None = None,
        known_on: ValidTime | None = None,
    ) -> SeatView:
        """One constituency on D as known on K, with each change of its holder up to D."""
        d, k = _instants(as_of, known_on)
        key = constituency_key(constituency)

        def read(conn: Connection) -> list[tuple[int, str, str, str | None, str]]:
            changes = queries.seat_history(conn, negotiation, key, d, k)
            if changes:
                return changes
            rows = queries.split_rows(conn, negotiation, d, k)  # not listed, or not open
            if not rows:
                raise _missing(conn, negotiation, as_of, known_on, k)
            listed = [seat.constituency for seat in seats.holders_of(rows[0].holders)]
            raise seats.not_listed(negotiation, constituency, listed, as_of)

        found = self.read_fresh(read)
        if found is None:
            return seats.replay_seat(self.url, negotiation, constituency, as_of, known_on)
        return seats.seat_from_changes(negotiation, found, as_of, known_on)

    def negotiations(self) -> list[str]:
        """Every negotiation in the ledger, by slug."""
        if not self._catch_up_if_behind():
            return [view.negotiation for view in reference.replay_splits(self.url)]
        with read_transaction(self.engine) as conn:
            return queries.negotiations(conn)

    # -- internals ------------------------------------------------------------

    def _split_row(
        self, negotiation: str, as_of: ValidTime | None, known_on: ValidTime | None
    ) -> Row[Any] | None:
        """The split row of one negotiation on D as known on K; None: answer by replay."""
        d, k = _instants(as_of, known_on)

        def read(conn: Connection) -> Row[Any]:
            rows = queries.split_rows(conn, negotiation, d, k)
            if not rows:
                raise _missing(conn, negotiation, as_of, known_on, k)
            return rows[0]

        return self.read_fresh(read)

    def read_fresh(self, read: Callable[[Connection], _T]) -> _T | None:
        """`read` in one transaction that first checks the views are up to date.

        A reader of up-to-date views pays one transaction (position, head and answer
        together); a position read before the answer can only be older than the rows,
        never newer. Behind: catch up first. None: this role cannot (answer by replay).
        """
        with read_transaction(self.engine) as conn:
            if self._lag(conn) == 0:
                return read(conn)
        if not self._catch_up():
            return None
        with read_transaction(self.engine) as conn:
            return read(conn)

    def _lag(self, conn: Connection) -> int:
        return self._status(conn).lag

    def _status(self, conn: Connection) -> ProjectionStatus:
        """The views' position and the log's last notification id, read in `conn`."""
        return ProjectionStatus(position=read_position(conn), head=self._log.head(conn))

    def _fresh(self, as_of: ValidTime | None, known_on: ValidTime | None) -> bool:
        """Check the dates and bring the views up to date; False if this role cannot."""
        check_when(as_of, "as of")
        check_when(known_on, "known on")
        return self._catch_up_if_behind()

    def _catch_up_if_behind(self) -> bool:
        # Two plain reads first: a reader of an up-to-date view takes no write lock.
        if self.status().lag == 0:
            return True
        return self._catch_up()

    def _catch_up(self, progress: Progress | None = None) -> bool:
        """The one decision of the read path: catch up, or False if this role may not."""
        if self._may_write is False:
            return False  # refused once: do not open a doomed write transaction per read
        try:
            self._projector.catch_up(progress)
        except (DBAPIError, PersistenceError) as error:
            # A reader or writer role (init --roles) may not write the views: the answer
            # then comes from folding the log itself, so a reader never sees a stale state.
            if not _permission_denied(error):
                raise
            self._may_write = False
            return False
        self._may_write = True
        return True


_NOT_PROJECTOR = (
    "this role may not update the views (it may only read them): run catch-up, rebuild "
    "and `projections follow` as the projector role (`seatledger init --roles --projector NAME`)"
)


@contextmanager
def _as_projector() -> Iterator[None]:
    """Upkeep refused for want of rights becomes an error that names the role to use."""
    try:
        yield
    except (DBAPIError, PersistenceError) as error:
        if not _permission_denied(error):
            raise
        raise InputError(_NOT_PROJECTOR) from None


def _instants(as_of: ValidTime | None, known_on: ValidTime | None) -> tuple[int, int]:
    return query_instant(as_of, "as of"), query_instant(known_on, "known on")


def _permission_denied(error: Exception) -> bool:
    return "permission denied" in str(getattr(error, "orig", None) or error).lower()


def _missing(
    conn: Connection,
    negotiation: str,
    as_of: ValidTime | None,
    known_on: ValidTime | None,
    k: int,
) -> NotFoundError:
    if queries.is_known(conn, negotiation, k):
        return not_opened(negotiation, as_of, known_on)
    return unknown_negotiation(negotiation, known_on)
