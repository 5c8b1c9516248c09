"""A long talks' snapshot is stored in parts: written once, checked on every load, and a
part that is edited or lost only costs a fold from the events (and verify names it)."""

from __future__ import annotations

import warnings
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, delete, select, update

from ledger.application import SNAPSHOT_EVERY, NegotiationLedger
from ledger.domain.events import NoteRecorded
from ledger.domain.folding import as_known
from ledger.domain.negotiation import negotiation_id
from ledger.domain.snapshot_parts import PART_ROWS, PartRows, decode_frame
from ledger.integrity.findings import SNAPSHOT
from ledger.persistence.engine import get_engine
from ledger.persistence.parts import PART_TOPIC, part_key
from ledger.persistence.schema import TABLES
from ledger.persistence.snapshots import SnapshotIgnoredWarning, split_seal
from ledger.timeline.importer import import_timeline
from ledger.timeline.parsing import read_timeline
from projections.views.verify_snapshots import _differing
from tests.projections.views.test_verify_views_and_snapshots import check
from tests.support.example import EXAMPLE

SNAPSHOTS = TABLES.snapshots
DELHI = negotiation_id("delhi")


@pytest.fixture(autouse=True)
def snapshot_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEATLEDGER_SNAPSHOT_KEY", "a key the database never sees")


def _notes(
    app: NegotiationLedger, count: int, first: int = 0, start: date = date(2024, 1, 13)
) -> None:
    """`count` notes on Delhi, four a day from `start`."""
    talks = app.negotiation("delhi")
    for i in range(count):
        talks.record(
            NoteRecorded, move_id=f"note-{first + i}", occurred_on=start + timedelta(days=i // 4),
            note=f"{i}", recorded_by="analyst",
        )  # fmt: skip
    app.save(talks)


@pytest.fixture
def ledger(db_url: str) -> str:
    """The bundled example, and Delhi long enough for a snapshot of several parts."""
    app = NegotiationLedger(db_url, recorded_by="analyst")
    import_timeline(app, read_timeline(EXAMPLE))
    _notes(app, max(SNAPSHOT_EVERY, 2 * PART_ROWS) + 30)
    return db_url


def _parts(conn: Connection) -> list[Any]:
    query = select(SNAPSHOTS.c.originator_id).where(SNAPSHOTS.c.topic == PART_TOPIC)
    return list(conn.execute(query.order_by(SNAPSHOTS.c.originator_id)).scalars())


def _replayed(app: NegotiationLedger) -> Any:
    return as_known(app.events.get(DELHI), None)  # type: ignore[arg-type]


def test_a_long_talks_loads_from_its_parts_reading_none_until_a_fold_needs_one(
    ledger: str,
) -> None:
    with get_engine(ledger).connect() as conn:
        assert len(_parts(conn)) >= 2
    app = NegotiationLedger(ledger, recorded_by="analyst")
    with warnings.catch_warnings():
        warnings.simplefilter("error", SnapshotIgnoredWarning)
        talks: Any = app.repository.get(DELHI)
    store = talks.story.moves.rows.rows
    assert isinstance(store, PartRows) and store.parts_parsed() == 0
    assert _differing(talks, _replayed(app)) == []
    assert check(ledger) == []


def _named(conn: Connection) -> list[str]:
    """The parts the (one) snapshot names, in order."""
    query = select(SNAPSHOTS.c.state).where(SNAPSHOTS.c.topic != PART_TOPIC)
    sealed = split_seal(bytes(conn.execute(query).scalar_one()))
    assert sealed is not None
    frame = decode_frame(sealed[2])
    assert frame is not None and not frame.bodies  # stored without its parts' bodies
    return list(frame.names)


def test_a_snapshot_taken_again_writes_only_its_new_parts(ledger: str) -> None:
    app = NegotiationLedger(ledger, recorded_by="analyst")
    with get_engine(ledger).connect() as conn:
        before = _named(conn)
    # The next snapshot's worth, in order.
    _notes(app, SNAPSHOT_EVERY, first=10_000, start=date(2024, 4, 1))
    with get_engine(ledger).connect() as conn:
        after = _named(conn)  # one snapshot: the later superseded the earlier
        stored = _parts(conn)
    assert after[: len(before)] == before and len(after) > len(before)
    # Every part stored once, and only the parts named: none written again.
    assert sorted(stored) == sorted(part_key(name) for name in after)
    talks: Any = NegotiationLedger(ledger).repository.get(DELHI)
    assert _differing(talks, _replayed(app)) == []
    assert check(ledger) == []


def test_a_late_fact_after_a_load_reads_only_the_parts_it_reaches(ledger: str) -> None:
    app = NegotiationLedger(ledger, recorded_by="analyst")
    _notes(app, 8 * PART_ROWS, first=10_000, start=date(2024, 4, 1))
    app = NegotiationLedger(ledger, recorded_by="analyst")  # loads Delhi from its snapshot
    talks = app.negotiation("delhi")
    last = talks.story.moves[-1].on
    talks.record(
        NoteRecorded, move_id="late", occurred_on=last - timedelta(days=1), note="earlier",
        recorded_by="analyst",
    )  # fmt: skip
    app.save(talks)
    store = talks.story.moves.rows.rows
    # The search for its place and the re-fold from the checkpoint before it read the
    # last parts only.
    assert isinstance(store, PartRows) and 0 < store.parts_parsed() <= 4 < 10 <= len(store.names)
    assert _differing(app.repository.get(DELHI), _replayed(app)) == []  # type: ignore[arg-type]


def _edit_a_part(conn: Connection) -> None:
    first = _parts(conn)[0]
    body = conn.execute(select(SNAPSHOTS.c.state).where(SNAPSHOTS.c.originator_id == first))
    edited = bytes(body.scalar_one()).replace(b'"note-', b'"notX-', 1)
    conn.execute(update(SNAPSHOTS).where(SNAPSHOTS.c.originator_id == first).values(state=edited))


def _drop_a_part(conn: Connection) -> None:
    conn.execute(delete(SNAPSHOTS).where(SNAPSHOTS.c.originator_id == _parts(conn)[-1]))


@pytest.mark.parametrize(
    ("change", "why"),
    [(_edit_a_part, "does not hash to its name"), (_drop_a_part, "is missing")],
    ids=["edited", "dropped"],
)
def test_an_edited_or_lost_part_only_costs_a_fold_from_the_events(
    ledger: str, change: Any, why: str
) -> None:
    with get_engine(ledger).begin() as conn:
        change(conn)
    app = NegotiationLedger(ledger, recorded_by="analyst")
    with pytest.warns(SnapshotIgnoredWarning, match=why):
        talks: Any = app.repository.get(DELHI)
    assert talks.story.moves.rows is None  # folded from its events
    assert talks.story.moves == _replayed(app).story.moves
    problems = check(ledger)
    assert [p.kind for p in problems] == [SNAPSHOT]
    assert why in problems[0].detail


def test_verify_names_an_edited_part_that_no_snapshot_names(ledger: str) -> None:
    with get_engine(ledger).begin() as conn:
        conn.execute(delete(SNAPSHOTS).where(SNAPSHOTS.c.topic != PART_TOPIC))
        _edit_a_part(conn)
    problems = check(ledger)
    assert [p.kind for p in problems] == [SNAPSHOT]
    assert "do not hash to its key" in problems[0].detail
