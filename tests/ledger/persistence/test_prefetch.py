"""An import reads every talks it extends at once (latest snapshot, events after it) and
folds each from that: the same talks as a load one by one, no snapshot trusted that a
load would not trust, and nothing lost when another writer moves first."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select, update

from ledger.application import SNAPSHOT_EVERY, NegotiationLedger
from ledger.domain.events import NoteRecorded
from ledger.domain.folding import as_known
from ledger.domain.negotiation import negotiation_id
from ledger.domain.snapshot_parts import PART_ROWS, PartsUnavailable
from ledger.persistence import prefetch as prefetch_module
from ledger.persistence.engine import get_engine
from ledger.persistence.parts import PART_TOPIC, read_bodies
from ledger.persistence.prefetch import Prefetched, prefetch
from ledger.persistence.schema import TABLES
from ledger.persistence.snapshots import SnapshotIgnoredWarning
from ledger.timeline import importer
from ledger.timeline.importer import import_timeline
from ledger.timeline.parsing import parse_timeline, read_timeline
from projections.views.verify_snapshots import _differing
from tests.projections.views.test_verify_views_and_snapshots import check
from tests.support.example import EXAMPLE

TALKS = ["uttar-pradesh", "west-bengal", "bihar", "maharashtra", "delhi", "gujarat", "haryana"]
SNAPSHOTS = TABLES.snapshots


@pytest.fixture(autouse=True)
def snapshot_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEATLEDGER_SNAPSHOT_KEY", "a key the database never sees")


def _notes(app: NegotiationLedger, slug: str, count: int, first: int = 0) -> None:
    talks = app.negotiation(slug)
    for i in range(count):
        talks.record(
            NoteRecorded, move_id=f"{slug}-note-{first + i}",
            occurred_on=date(2024, 1, 13) + timedelta(days=i // 4), note=f"{i}",
            recorded_by="analyst",
        )  # fmt: skip
    app.save(talks)


@pytest.fixture
def ledger(db_url: str) -> str:
    """The example; Delhi with a snapshot in parts and events after it, Bihar with a
    snapshot and none after, the other talks with no snapshot."""
    app = NegotiationLedger(db_url, recorded_by="analyst")
    import_timeline(app, read_timeline(EXAMPLE))
    _notes(app, "delhi", max(SNAPSHOT_EVERY, 2 * PART_ROWS) + 30)
    _notes(app, "delhi", 3, first=1_000)  # after its snapshot
    _notes(app, "bihar", SNAPSHOT_EVERY)
    return db_url


@contextmanager
def _statements(url: str) -> Iterator[list[str]]:
    """The SQL statements run through the ledger's engine meanwhile."""
    run: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        run.append(statement)

    engine = get_engine(url)
    event.listen(engine, "before_cursor_execute", seen)
    try:
        yield run
    finally:
        event.remove(engine, "before_cursor_execute", seen)


def _prefetch(app: NegotiationLedger, ids: list[Any]) -> Prefetched:
    return prefetch(app.store.engine, app.store.tables, ids)


def _replayed(app: NegotiationLedger, slug: str) -> Any:
    return as_known(app.events.get(negotiation_id(slug)), None)  # type: ignore[arg-type]


def test_prefetched_talks_are_the_talks_a_load_gives_read_in_two_queries(ledger: str) -> None:
    app = NegotiationLedger(ledger, recorded_by="analyst")
    with _statements(ledger) as run:
        prefetched = _prefetch(app, [negotiation_id(slug) for slug in TALKS])
    assert len([s for s in run if s.lstrip().upper().startswith("SELECT")]) == 2
    delhi, bihar = (
        prefetched.rows[negotiation_id("delhi")],
        prefetched.rows[negotiation_id("bihar")],
    )
    assert delhi[0] is not None and delhi[1]  # a snapshot and events after it
    assert bihar[0] is not None and not bihar[1]
    assert prefetched.rows[negotiation_id("gujarat")][0] is None  # no snapshot: all its events
    with warnings.catch_warnings():
        warnings.simplefilter("error", SnapshotIgnoredWarning)
        for slug in TALKS:
            with _statements(ledger) as run:
                talks = app.negotiation(slug, prefetched)
            # Folded from what was read; only Delhi's and Bihar's parts are read now
            # (PostgreSQL reads them on the driver's own cursor, which these hooks miss).
            selects = [s for s in run if s.lstrip().upper().startswith("SELECT")]
            assert len(selects) <= (1 if slug in ("delhi", "bihar") else 0)
            usual = app.negotiation(slug)
            assert talks.version == usual.version
            assert _differing(talks, usual) == [] and _differing(talks, _replayed(app, slug)) == []
    assert prefetched.rows == {}  # each taken once


def test_a_snapshot_that_does_not_verify_is_not_prefetched_and_its_load_says_why(
    ledger: str,
) -> None:
    with get_engine(ledger).begin() as conn:
        where = (SNAPSHOTS.c.originator_id == negotiation_id("bihar")) & (
            SNAPSHOTS.c.topic != PART_TOPIC
        )
        state = bytes(conn.execute(select(SNAPSHOTS.c.state).where(where)).scalar_one())
        edited = state.replace(b'"bihar-note-1"', b'"bihar-note-X"', 1)
        assert edited != state
        conn.execute(update(SNAPSHOTS).where(where).values(state=edited))
    app = NegotiationLedger(ledger, recorded_by="analyst")
    with warnings.catch_warnings():
        warnings.simplefilter("error", SnapshotIgnoredWarning)
        prefetched = _prefetch(app, [negotiation_id(slug) for slug in TALKS])
    assert negotiation_id("bihar") not in prefetched.rows
    with pytest.warns(SnapshotIgnoredWarning, match="seal does not verify") as caught:
        talks = app.negotiation("bihar", prefetched)
    assert len(caught) == 1
    assert _differing(talks, _replayed(app, "bihar")) == []


def _edit_a_part(url: str) -> None:
    with get_engine(url).begin() as conn:
        where = SNAPSHOTS.c.topic == PART_TOPIC
        first = conn.execute(select(SNAPSHOTS.c.originator_id).where(where).limit(1)).scalar()
        body = conn.execute(select(SNAPSHOTS.c.state).where(SNAPSHOTS.c.originator_id == first))
        edited = bytes(body.scalar_one()).replace(b"delhi-note-", b"delhi-notX-", 1)
        conn.execute(
            update(SNAPSHOTS).where(SNAPSHOTS.c.originator_id == first).values(state=edited)
        )


def test_a_prefetched_snapshot_whose_part_was_edited_says_so_when_a_part_is_read(
    ledger: str,
) -> None:
    app = NegotiationLedger(ledger, recorded_by="analyst")
    prefetched = _prefetch(app, [negotiation_id("delhi")])
    assert prefetched.rows[negotiation_id("delhi")][0] is not None
    _edit_a_part(ledger)  # after the prefetch, before the parts are read

    def read_every_move() -> None:  # the parts are read when a row of one is first needed
        list(app.negotiation("delhi", prefetched).story.moves)

    with pytest.raises(PartsUnavailable, match="does not hash to its name"):
        read_every_move()


def test_an_import_reads_no_part_of_talks_it_extends_after_their_last_move(
    ledger: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[int] = []

    def counted(conn: Any, table: Any, wanted: list[str]) -> Any:
        reads.append(len(wanted))
        return read_bodies(conn, table, wanted)

    monkeypatch.setattr(prefetch_module, "read_bodies", counted)
    app = NegotiationLedger(ledger, recorded_by="analyst")
    later = "format: seatledger/timeline@1\nmoves:\n" + "".join(
        f"  - {{id: later-{i}, type: note, negotiation: bihar, 'on': 2024-06-0{i}, note: n}}\n"
        for i in range(1, 4)
    )
    assert import_timeline(app, parse_timeline(later)).recorded == 3
    assert reads == []  # Bihar's snapshot is in parts; none was needed
    late = later.replace("later-", "late-").replace("2024-06-0", "2024-01-1")
    assert import_timeline(app, parse_timeline(late)).recorded == 3
    assert reads and reads[0] >= 3  # a late move reads the parts, all at once
    bihar = NegotiationLedger(ledger).negotiation("bihar")
    assert _differing(bihar, _replayed(app, "bihar")) == []


def test_an_import_folds_talks_whose_part_is_found_edited_late_from_their_events(
    ledger: str,
) -> None:
    _edit_a_part(ledger)
    app = NegotiationLedger(ledger, recorded_by="analyst")
    late = (
        "format: seatledger/timeline@1\nmoves:\n"
        "  - {id: delhi-late, type: note, negotiation: delhi, 'on': 2024-01-14, note: late}\n"
    )
    with pytest.warns(SnapshotIgnoredWarning, match="does not hash to its name"):
        report = import_timeline(app, parse_timeline(late))
    assert report.recorded == 1
    delhi = NegotiationLedger(ledger).negotiation("delhi")
    assert "delhi-late" in {move.move_id for move in delhi.story.moves}
    assert _differing(delhi, _replayed(app, "delhi")) == []


def test_an_import_whose_talks_another_writer_moved_after_the_prefetch_loses_nothing(
    ledger: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = NegotiationLedger(ledger, recorded_by="analyst")
    other = NegotiationLedger(ledger, recorded_by="staff")
    calls: list[int] = []

    def then_another_writer(*args: Any) -> Prefetched:
        found = prefetch(*args)
        calls.append(len(found.rows))
        if len(calls) == 1:  # between the import's read and its write
            _notes(other, "delhi", 1, first=50_000)
        return found

    monkeypatch.setattr(importer, "prefetch", then_another_writer)
    timeline = parse_timeline(
        "format: seatledger/timeline@1\n"
        "moves:\n"
        + "".join(
            f"  - {{id: late-{slug}, type: note, negotiation: {slug}, 'on': 2024-03-01, "
            f"note: later}}\n"
            for slug in TALKS
        )
    )
    report = import_timeline(app, timeline)
    assert report.recorded == len(TALKS)
    assert calls == [len(TALKS), len(TALKS)]  # refused once on its versions, read again
    delhi = NegotiationLedger(ledger).negotiation("delhi")
    ids = {move.move_id for move in delhi.story.moves}
    assert {"delhi-note-50000", "late-delhi"} <= ids
    assert check(ledger) == []
