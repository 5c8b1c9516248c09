"""Verify what people read: every view row and snapshot is what the verified event log implies.

The views and snapshots live in tables anyone with the file (or the tables' owner) can
rewrite, digest and all, so nothing stored beside them can vouch for them: they are
re-derived here from the events, one aggregate at a time, in verify's read snapshot,
with the projection's and the aggregates' own code, and compared row by row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Final, cast
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from sqlalchemy import Connection, inspect, select

from ledger.application import NegotiationLedger
from ledger.domain.alliance import PartiesRegistered
from ledger.domain.errors import SeatledgerError, UnreadableEventError
from ledger.domain.events import LedgerEvent
from ledger.domain.negotiation import Negotiation
from ledger.integrity.findings import (
    UNREADABLE,
    VIEW_MOVES,
    VIEW_POSITION,
    VIEW_SPLITS,
    Problem,
)
from ledger.integrity.log_reader import log_reader
from ledger.persistence.schema import TABLES
from projections.views.fold import NEVER, Folded, fold_event
from projections.views.intervals import CurrentRow
from projections.views.seat_history import SeatChanges
from projections.views.tables import moved, moves, position, seat_changes, splits
from projections.views.timeaxis import END_OF_TIME, from_micros
from projections.views.verify_snapshots import SnapshotChecker
from projections.views.writes import MovedWrites, SeatWrites, read_position

_SPLIT_VALUES: Final = [c for c in splits.c if c.name != "negotiation"]
_MOVE_VALUES: Final = list(moves.c)
_MOVED_VALUES: Final = list(moved.c)
_SEAT_VALUES: Final = list(seat_changes.c)


class _SplitRows:
    """A negotiation's split-history rows as catch-up writes them, kept in memory."""

    def __init__(self) -> None:
        self.rows: dict[tuple[int, int], list[Any]] = {}

    def open(self, row: CurrentRow) -> None:
        key = (row.valid_from, row.recorded_from)
        self.rows[key] = [row.valid_from, row.valid_to, row.recorded_from, END_OF_TIME]
        self.rows[key] += row.content

    def close(self, row: CurrentRow, at: int) -> None:
        key = (row.valid_from, row.recorded_from)
        if row.recorded_from == at:
            self.rows.pop(key, None)  # opened and closed at one instant: never visible
        elif key in self.rows:
            self.rows[key][3] = at


class _Fold:
    """One aggregate folded event by event, with every view row its events imply kept."""

    def __init__(self) -> None:
        self.folded = Folded(None, 0, NEVER)
        self.history: list[tuple[Any, ...]] = []
        self.moved = MovedWrites()  # never flushed: its inserts are the expected rows
        self.seats = SeatWrites()  # never flushed, as well
        self.splits = _SplitRows()

    @property
    def aggregate(self) -> Any:
        return self.folded.aggregate

    def open(self, negotiation: str, row: CurrentRow) -> None:
        self.splits.open(row)

    def close(self, negotiation: str, row: CurrentRow, at: int) -> None:
        self.splits.close(row, at)

    def apply(self, event: LedgerEvent, viewed: bool) -> None:
        """Fold one event; `viewed`: the views' position covers it, so its rows count."""
        if not viewed or isinstance(event, PartiesRegistered):
            self.folded.aggregate = event.mutate(self.folded.aggregate)
            return
        fold_event(self.folded, event, self, _every_row_kept)


def _every_row_kept(slug: str) -> tuple[list[CurrentRow], SeatChanges]:
    raise AssertionError(f"verify keeps every current row of {slug}; none is re-read")


class DerivedChecker:
    """Checks the views, their position and the snapshots against the log, in one snapshot."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._app: NegotiationLedger | None = None
        self.problems: list[Problem] = []
        self.seen: set[str] = set()  # negotiations whose rows were compared
        self.alliance_moves: dict[str, tuple[Any, ...]] = {}  # rows with no negotiation
        self.conn: Connection | None = None

    @property
    def app(self) -> NegotiationLedger:
        """The ledger's mappers; made when verify has found a ledger (never creates one)."""
        if self._app is None:
            self._app = NegotiationLedger(self.url)
        return self._app

    def __call__(self, conn: Connection) -> list[Problem]:
        """Return every problem of the derived data, as `verify` sees the ledger."""
        self.conn = conn
        tables = set(inspect(conn).get_table_names())
        views = {splits.name, moves.name, moved.name, seat_changes.name, position.name} <= tables
        at = read_position(conn) if views else -1
        snapshots = SnapshotChecker(self.app, conn, self.problems)
        for raw, events in self._aggregates(conn):
            fold = _Fold()
            aggregate = str(UUID(str(raw)))
            stored = snapshots.of(aggregate)
            try:
                for event, nid in events:
                    fold.apply(event, nid <= at)
                    stored = snapshots.check(fold.aggregate, aggregate, stored)
            except SeatledgerError as error:  # a tampered log that breaks its own story
                detail = f"its events cannot be folded: {str(error)[:200]}"
                self.problems.append(
                    Problem(UNREADABLE, detail, aggregate, event.originator_version, nid)
                )
                continue
            snapshots.left_over(aggregate, stored)
            if views:
                self._compare(fold)
        snapshots.without_events()
        snapshots.unnamed_parts()
        if views:
            self._leftovers(conn)
            head = conn.execute(
                select(TABLES.events.c.notification_id)
                .order_by(TABLES.events.c.notification_id.desc())
                .limit(1)
            ).scalar()
            if at > (head or 0):
                detail = f"the views claim position {at}, after the log's last notification {head}"
                self.problems.append(Problem(VIEW_POSITION, detail))
        return self.problems

    # -- reading --------------------------------------------------------------

    def _aggregates(self, conn: Connection) -> Iterator[tuple[Any, Iterator[tuple[Any, int]]]]:
        """Yield each aggregate's id and its events (decoded) with notification ids, in order."""
        to_event = self.app.mapper.to_domain_event
        rows = _rows(log_reader(conn).events())
        row = next(rows, None)
        while row is not None:
            raw = row[0]
            batch: list[tuple[Any, int]] = []
            unreadable = False
            while row is not None and row[0] == raw:
                _, version, nid, topic, state, _ = row
                stored = StoredEvent(
                    originator_id=UUID(str(raw)),
                    originator_version=version,
                    topic=topic,
                    state=state if type(state) is bytes else bytes(state),
                )
                row = next(rows, None)
                if unreadable:
                    continue
                try:
                    batch.append((to_event(stored), nid))
                except UnreadableEventError as error:
                    # Named, and its aggregate's derived data left unchecked: it cannot be folded.
                    detail = str(error).split(" cannot be read: ", 1)[-1].split(";")[0]
                    where = str(UUID(str(raw)))
                    self.problems.append(Problem(UNREADABLE, f"cannot be read: {detail}", where,
                                                 version, nid))  # fmt: skip
                    unreadable = True
            if not unreadable:
                yield raw, iter(batch)

    # -- checking -------------------------------------------------------------

    def _compare(self, fold: _Fold) -> None:
        """Compare an aggregate's expected rows with the tables' rows."""
        aggregate = fold.aggregate
        slug = aggregate.slug if isinstance(aggregate, Negotiation) else None
        expected_moves = {}
        for row in fold.history:
            if row[2] is None:
                self.alliance_moves[row[0]] = row
            else:
                expected_moves[row[0]] = row
        if slug is None:
            return
        self.seen.add(slug)
        conn = cast(Connection, self.conn)
        c = splits.c
        table = {
            (r[0], r[2]): list(r)
            for r in conn.execute(select(*_SPLIT_VALUES).where(c.negotiation == slug))
        }
        self._diff_splits(slug, fold.splits.rows, table)
        found = {
            r[0]: tuple(r)
            for r in conn.execute(select(*_MOVE_VALUES).where(moves.c.negotiation == slug))
        }
        self._diff_moves(slug, expected_moves, found)
        self._diff_moved(slug, fold.moved.inserts)
        self._diff_seats(slug, fold.seats.inserts)

    def _diff_seats(self, slug: str, expected: dict[tuple[Any, ...], list[Any]]) -> None:
        """Compare the seat-changes rows of one negotiation with the ones its events imply."""
        conn = cast(Connection, self.conn)
        query = select(*_SEAT_VALUES).where(seat_changes.c.negotiation == slug)
        table = {tuple(r[:4]): list(r) for r in conn.execute(query)}

        def where(key: tuple[Any, ...]) -> str:
            return (
                f"the change of seat {key[1]!r} valid from {_when(key[2])}, recorded from "
                f"{_when(key[3])}"
            )

        for _, detail in _row_differences(expected, table, _SEAT_VALUES, where):
            self.problems.append(Problem(VIEW_SPLITS, detail, slug=slug,
                                         aggregate_type="negotiation"))  # fmt: skip

    def _diff_moved(self, slug: str | None, expected: dict[tuple[str, int], list[Any]]) -> None:
        """Compare the seats-moved rows of one negotiation with the ones its events imply."""
        conn = cast(Connection, self.conn)
        query = select(*_MOVED_VALUES).where(moved.c.negotiation == slug)
        table = {(r[0], r[1]): list(r) for r in conn.execute(query)}

        def where(key: tuple[Any, ...]) -> str:
            return f"the seats moved recorded from {_when(key[1])}"

        for key, detail in _row_differences(expected, table, _MOVED_VALUES, where, plural=True):
            self.problems.append(
                Problem(VIEW_MOVES, detail, move_id=key[0], slug=slug,
                        aggregate_type="negotiation")
            )  # fmt: skip

    def _diff_splits(
        self, slug: str, expected: dict[tuple[int, int], list[Any]],
        table: dict[tuple[int, int], list[Any]],
    ) -> None:  # fmt: skip
        def where(key: tuple[Any, ...]) -> str:
            return f"split row valid from {_when(key[0])}, recorded from {_when(key[1])}"

        for _, detail in _row_differences(expected, table, _SPLIT_VALUES, where):
            if detail:
                self.problems.append(Problem(VIEW_SPLITS, detail, slug=slug,
                                             aggregate_type="negotiation"))  # fmt: skip

    def _diff_moves(
        self, slug: str | None, expected: dict[str, tuple[Any, ...]],
        table: dict[str, tuple[Any, ...]],
    ) -> None:  # fmt: skip
        if expected == table:
            return
        for move_id in sorted(expected.keys() | table.keys()):
            want, have = expected.get(move_id), table.get(move_id)
            if want == have:
                continue
            if have is None:
                detail = "the move's history row is missing from the view (deleted)"
            elif want is None:
                detail = "a history row no event of these talks implies (forged or moved)"
            else:
                detail = _columns_differ("the history row", _MOVE_VALUES, want, have) or ""
                if not detail:
                    continue
            self.problems.append(
                Problem(VIEW_MOVES, detail, move_id=move_id, slug=slug,
                        aggregate_type=None if slug is None else "negotiation")
            )  # fmt: skip

    def _leftovers(self, conn: Connection) -> None:
        """Report rows of negotiations the log does not hold, and the alliance-level rows."""
        c = splits.c
        for slug in sorted(set(conn.execute(select(c.negotiation).distinct()).scalars())):
            if slug not in self.seen:
                for row in conn.execute(select(*_SPLIT_VALUES).where(c.negotiation == slug)):
                    self._diff_splits(slug, {}, {(row[0], row[2]): list(row)})
        seated = select(seat_changes.c.negotiation).distinct()
        for slug in sorted(set(conn.execute(seated).scalars()) - self.seen):
            self._diff_seats(slug, {})
        for slug in sorted(set(conn.execute(select(moved.c.negotiation).distinct()).scalars())):
            if slug is None or slug not in self.seen:
                self._diff_moved(slug, {})  # a row no negotiation's events imply
        m = moves.c
        others = (
            select(*_MOVE_VALUES).where(
                m.negotiation.is_(None) | m.negotiation.not_in(sorted(self.seen))
            )
            if self.seen
            else select(*_MOVE_VALUES)
        )
        table = {r[0]: tuple(r) for r in conn.execute(others)}
        orphans = {k: v for k, v in table.items() if v[2] is not None}
        self._diff_moves(None, self.alliance_moves,
                         {k: v for k, v in table.items() if v[2] is None})  # fmt: skip
        for move_id, orphan in orphans.items():
            self._diff_moves(orphan[2], {}, {move_id: orphan})


def _rows(batches: Iterator[Sequence[Any]]) -> Iterator[Any]:
    for batch in batches:
        yield from batch


def _when(value: int) -> str:
    if value >= END_OF_TIME:
        return "the end of time"
    if value <= NEVER:
        return "the beginning"
    return from_micros(value).isoformat()


def _row_differences(
    expected: Mapping[Any, Sequence[Any]], table: Mapping[Any, Sequence[Any]],
    columns: Sequence[Any], where: Callable[[Any], str], *, plural: bool = False,
) -> Iterator[tuple[Any, str]]:  # fmt: skip
    """Each key whose row the table holds differs from the events', with what differs:
    deleted, forged, or the columns that differ ("" if `_columns_differ` names none)."""
    if expected == table:
        return
    verb, pronoun = ("are", "them") if plural else ("is", "it")
    for key in sorted(expected.keys() | table.keys()):
        want, have = expected.get(key), table.get(key)
        if want == have:
            continue
        place = where(key)
        if have is None:
            yield key, f"{place} {verb} missing from the view (deleted)"
        elif want is None:
            yield key, f"{place} {verb} in the view but no event implies {pronoun} (forged)"
        else:
            yield key, _columns_differ(place, columns, want, have) or ""


def _columns_differ(where: str, columns: Sequence[Any], want: Sequence[Any],
                    have: Sequence[Any]) -> str | None:  # fmt: skip
    """Name each column whose value the table holds differs from the events' (or None)."""
    differ = [
        f"{column.name} is {got!r} in the view, {wanted!r} by the events"
        for column, wanted, got in zip(columns, want, have, strict=True)
        if wanted != got
    ]
    return f"{where}: {'; '.join(differ)}" if differ else None
