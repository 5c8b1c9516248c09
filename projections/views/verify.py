"""Verify what people read: every view row and snapshot is what the verified event log implies.

The views and snapshots live in tables anyone with the file (or the tables' owner) can
rewrite, digest and all, so nothing stored beside them can vouch for them: they are
re-derived here from the events, one aggregate at a time, in verify's read snapshot,
with the projection's and the aggregates' own code, and compared row by row.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Final, cast
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from sqlalchemy import Connection, inspect, select

from ledger.application import NegotiationLedger
from ledger.domain.alliance import PartiesRegistered
from ledger.domain.errors import SeatledgerError, UnreadableEventError
from ledger.domain.events import LedgerEvent
from ledger.domain.negotiation import Negotiation
from ledger.domain.snapshot import StorySnapshot
from ledger.domain.story_aggregate import Storied
from ledger.integrity.findings import (
    SNAPSHOT,
    UNREADABLE,
    VIEW_MOVES,
    VIEW_POSITION,
    VIEW_SPLITS,
    Problem,
)
from ledger.integrity.log_reader import log_reader
from ledger.persistence.schema import TABLES
from ledger.persistence.snapshots import unseal
from projections.views.fold import NEVER, Folded, fold_event
from projections.views.intervals import CurrentRow
from projections.views.tables import moved, moves, position, splits
from projections.views.timeaxis import END_OF_TIME, from_micros
from projections.views.writes import MovedWrites, read_position

_SPLIT_VALUES: Final = [c for c in splits.c if c.name != "negotiation"]
_MOVE_VALUES: Final = list(moves.c)
_MOVED_VALUES: Final = list(moved.c)
_UNDERIVED: Final = frozenset({"created_on"})


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


def _every_row_kept(slug: str) -> list[CurrentRow]:
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
        views = {splits.name, moves.name, moved.name, position.name} <= tables
        at = read_position(conn) if views else -1
        snapshots = self._snapshot_versions(conn)
        for raw, events in self._aggregates(conn):
            fold = _Fold()
            aggregate = str(UUID(str(raw)))
            stored = self._snapshots(conn, aggregate) if snapshots.pop(aggregate, None) else []
            try:
                for event, nid in events:
                    fold.apply(event, nid <= at)
                    stored = self._check_snapshots(fold.aggregate, aggregate, stored)
            except SeatledgerError as error:  # a tampered log that breaks its own story
                detail = f"its events cannot be folded: {str(error)[:200]}"
                self.problems.append(
                    Problem(UNREADABLE, detail, aggregate, event.originator_version, nid)
                )
                continue
            for version, _, _ in stored:
                self._snapshot_problem(
                    aggregate, version, f"a snapshot of v{version}, which the log does not hold"
                )
            if views:
                self._compare(fold)
        for aggregate, versions in snapshots.items():
            for version in versions:
                detail = "a snapshot of an aggregate that has no events (forged)"
                self._snapshot_problem(aggregate, version, detail)
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

    def _snapshot_versions(self, conn: Connection) -> dict[str, list[int]]:
        """The versions of every snapshot, by aggregate (their states are read one by one)."""
        table = TABLES.snapshots
        found: dict[str, list[int]] = {}
        query = select(table.c.originator_id, table.c.originator_version).order_by(
            table.c.originator_id, table.c.originator_version
        )
        for raw, version in conn.execute(query):
            found.setdefault(str(raw), []).append(int(version))
        return found

    def _snapshots(self, conn: Connection, aggregate: str) -> list[tuple[int, str, bytes]]:
        """One aggregate's snapshots: (version, topic, stored bytes), by version."""
        table = TABLES.snapshots
        query = (
            select(table.c.originator_version, table.c.topic, table.c.state)
            .where(table.c.originator_id == UUID(aggregate))
            .order_by(table.c.originator_version)
        )
        return [(int(v), topic, bytes(state)) for v, topic, state in conn.execute(query)]

    # -- checking -------------------------------------------------------------

    def _check_snapshots(
        self, folded: Any, aggregate: str, stored: list[tuple[int, str, bytes]]
    ) -> list[tuple[int, str, bytes]]:
        """Compare the snapshots at the folded aggregate's version with it; return the rest."""
        version = getattr(folded, "version", None)
        left = []
        for snapshot in stored:
            if snapshot[0] != version:
                left.append(snapshot)
                continue
            detail = self._snapshot_differs(folded, aggregate, *snapshot)
            if detail is not None:
                self._snapshot_problem(aggregate, version, detail)
        return left

    def _snapshot_differs(
        self, folded: Any, aggregate: str, version: int, topic: str, state: bytes
    ) -> str | None:
        if not isinstance(folded, Storied):
            return "a snapshot of an aggregate that is never snapshotted (forged)"
        conn = cast(Connection, self.conn)
        unsealed = unseal(conn, UUID(aggregate), version, state)
        if isinstance(unsealed, str):
            return unsealed
        mapper = self.app.snapshots.mapper if self.app.snapshots else self.app.mapper
        try:
            snapshot = mapper.to_domain_event(
                StoredEvent(UUID(aggregate), version, topic, unsealed)
            )
        except Exception as error:  # a forged snapshot need not even decode
            return f"the snapshot cannot be read ({error})"
        if (
            not isinstance(snapshot, StorySnapshot)
            or snapshot.topic != StorySnapshot.take(folded).topic
        ):
            return "the snapshot is of another kind of aggregate than its events"
        expected = StorySnapshot.take(folded).state
        # created_on is when the writer's process first added an event to the aggregate
        # in memory: not derived from the log, and read by nothing.
        differing = sorted(
            k for k in expected.keys() | snapshot.state.keys()
            if k not in _UNDERIVED and expected.get(k) != snapshot.state.get(k)
        )  # fmt: skip
        if differing:
            return (
                f"the snapshot's {', '.join(differing)} differ from the fold of its events "
                "to this version (edited or forged); it is ignored when loading"
            )
        return None

    def _snapshot_problem(self, aggregate: str, version: int | None, detail: str) -> None:
        self.problems.append(Problem(SNAPSHOT, detail, aggregate, version))

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

    def _diff_moved(self, slug: str | None, expected: dict[tuple[str, int], list[Any]]) -> None:
        """Compare the seats-moved rows of one negotiation with the ones its events imply."""
        conn = cast(Connection, self.conn)
        query = select(*_MOVED_VALUES).where(moved.c.negotiation == slug)
        table = {(r[0], r[1]): list(r) for r in conn.execute(query)}
        for key in sorted(expected.keys() | table.keys()):
            want, have = expected.get(key), table.get(key)
            if want == have:
                continue
            where = f"the seats moved recorded from {_when(key[1])}"
            if have is None:
                detail = f"{where} are missing from the view (deleted)"
            elif want is None:
                detail = f"{where} are in the view but no event implies them (forged)"
            else:
                detail = _columns_differ(where, _MOVED_VALUES, want, have) or ""
            self.problems.append(
                Problem(VIEW_MOVES, detail, move_id=key[0], slug=slug,
                        aggregate_type="negotiation")
            )  # fmt: skip

    def _diff_splits(
        self, slug: str, expected: dict[tuple[int, int], list[Any]],
        table: dict[tuple[int, int], list[Any]],
    ) -> None:  # fmt: skip
        if expected == table:
            return
        for key in sorted(expected.keys() | table.keys()):
            want, have = expected.get(key), table.get(key)
            if want == have:
                continue
            where = f"split row valid from {_when(key[0])}, recorded from {_when(key[1])}"
            if have is None:
                detail = f"{where} is missing from the view (deleted)"
            elif want is None:
                detail = f"{where} is in the view but no event implies it (forged)"
            else:
                detail = _columns_differ(where, _SPLIT_VALUES, want, have) or ""
                if not detail:
                    continue
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


def _columns_differ(where: str, columns: Sequence[Any], want: Sequence[Any],
                    have: Sequence[Any]) -> str | None:  # fmt: skip
    """Name each column whose value the table holds differs from the events' (or None)."""
    differ = [
        f"{column.name} is {got!r} in the view, {wanted!r} by the events"
        for column, wanted, got in zip(columns, want, have, strict=True)
        if wanted != got
    ]
    return f"{where}: {'; '.join(differ)}" if differ else None
