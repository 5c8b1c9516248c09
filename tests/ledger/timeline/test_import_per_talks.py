"""An import folds the file one aggregate at a time: alliance moves still reach every talks,
snapshots are written after the events they cover, and a refused file writes nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any, cast
from uuid import uuid4

import pytest
from sqlalchemy import func, select

from ledger.application import SNAPSHOT_EVERY, NegotiationLedger
from ledger.domain.errors import InputError, MoveRefusedError
from ledger.domain.folding import as_known
from ledger.domain.negotiation import negotiation_id
from ledger.domain.snapshot_parts import PART_ROWS, PartsUnavailable
from ledger.persistence.engine import get_engine
from ledger.persistence.parts import PART_TOPIC
from ledger.persistence.schema import TABLES
from ledger.timeline.batch import IMPORT_SNAPSHOT_FROM, retried_without_parts
from ledger.timeline.importer import import_timeline
from ledger.timeline.parsing import parse_timeline

FIRST = """
format: seatledger/timeline@1
alliance: {id: bloc, name: The Bloc, members: [SP, INC], formed_on: 2024-01-01}
parties: [{code: SP}, {code: INC}, {code: RLD}]
negotiations:
  - {id: up, seats: 80, parties: [SP, INC], opened_on: 2024-01-09}
moves:
  - {id: rld-in, type: party_joined_alliance, "on": 2024-01-10, party: RLD}
  - {id: rld-at-up, negotiation: up, type: party_joined, "on": 2024-01-11, party: RLD}
"""

# Opens a second talks, moves in both, a membership change and its retraction, and a
# correction of a move recorded by the first file.
SECOND = """
format: seatledger/timeline@1
alliance: {id: bloc, name: The Bloc, members: [SP, INC], formed_on: 2024-01-01}
parties: [{code: SP}, {code: INC}, {code: RLD}]
negotiations:
  - {id: up, seats: 80, parties: [SP, INC], opened_on: 2024-01-09}
  - {id: bihar, seats: 40, parties: [INC, RLD], opened_on: 2024-01-12}
  - {id: delhi, seats: 7, parties: [INC], opened_on: 2024-01-13}
moves:
  - {id: rld-out, type: party_left_alliance, "on": 2024-01-20, party: RLD}
  - {id: sp-offer, negotiation: up, type: proposal, "on": 2024-01-25, by: SP,
     split: {SP: 70, INC: 10}}
  - {id: bihar-offer, negotiation: bihar, type: proposal, "on": 2024-01-26, by: INC,
     split: {INC: 30, RLD: 10}}
  - {id: bloc-meets, type: meeting, "on": 2024-01-27, parties: [SP, INC]}
  - {id: rld-back, type: correction, of: rld-out, retract: true}
  - {id: up-joined-fix, type: correction, of: rld-at-up, note: joined after a call}
"""


def test_alliance_moves_and_corrections_reach_every_talks(db_url: str) -> None:
    app = NegotiationLedger(db_url, recorded_by="analyst")
    import_timeline(app, parse_timeline(FIRST))
    report = import_timeline(app, parse_timeline(SECOND))
    assert report.recorded == 6 and report.opened == ["bihar", "delhi"]
    up, bihar, delhi = (app.negotiation(slug) for slug in ("up", "bihar", "delhi"))
    # Talks opened by the second file got the earlier membership move at opening.
    assert "rld-in@bihar" in bihar.recorded and "rld-in@delhi" in delhi.recorded
    for talks in (up, bihar, delhi):
        assert f"rld-out@{talks.slug}" in talks.retracted
        assert talks.corrections[f"rld-back@{talks.slug}"] == f"rld-out@{talks.slug}"
    assert up.corrections["up-joined-fix"] == "rld-at-up"
    assert bihar.state.split == {"INC": 30, "RLD": 10}
    assert "RLD" in app.alliance("bloc").state.members
    assert "bloc-meets" in app.alliance("bloc").recorded
    again = import_timeline(app, parse_timeline(SECOND))
    assert (again.events, again.unchanged) == (0, 6)


def _long(moves: int, *, broken: bool = False) -> str:
    lines = [
        "format: seatledger/timeline@1",
        "parties: [{code: SP}, {code: INC}]",
        "negotiations:",
        "  - {id: up, seats: 80, parties: [SP, INC], opened_on: 2024-01-01}",
        "  - {id: mp, seats: 29, parties: [SP, INC], opened_on: 2024-01-01}",
        "moves:",
    ]
    start = date(2024, 1, 2)
    for i in range(moves):
        on = start + timedelta(days=i % 300)
        for slug in ("up", "mp"):
            lines.append(
                f'  - {{id: {slug}-{i}, negotiation: {slug}, type: note, "on": {on}, note: n{i}}}'
            )
    if broken:
        lines.append('  - {id: bad, negotiation: mp, type: proposal, "on": 2024-03-01, by: RLD,')
        lines.append("     split: {RLD: 3}}")
        lines[1] = "parties: [{code: SP}, {code: INC}, {code: RLD}]"
    return "\n".join(lines) + "\n"


def _count(db_url: str, table: object) -> int:
    with get_engine(db_url).connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def _snapshots(db_url: str) -> int:
    """The snapshots, not counting their parts' rows."""
    table = TABLES.snapshots
    query = select(func.count()).select_from(table).where(table.c.topic != PART_TOPIC)
    with get_engine(db_url).connect() as conn:
        return int(conn.execute(query).scalar_one())


def _assert_loads_as_replayed(app: NegotiationLedger, db_url: str, version: int) -> None:
    """Each talks of `_long` loads (from its snapshot) to what replaying its events gives."""
    for slug in ("up", "mp"):
        loaded = NegotiationLedger(db_url).negotiation(slug)
        replayed: Any = as_known(cast(Any, app.events.get(negotiation_id(slug))), None)
        assert loaded.version == replayed.version == version
        assert loaded.state == replayed.state
        assert loaded.story.moves == replayed.story.moves


def _snapshot_versions(db_url: str) -> list[int]:
    """The versions of the snapshots kept (not their parts), in order."""
    table = TABLES.snapshots
    with get_engine(db_url).connect() as conn:
        found = conn.execute(select(table.c.originator_version).where(table.c.topic != PART_TOPIC))
        return sorted(found.scalars())


def test_snapshots_are_written_after_the_import_and_load_to_the_same_state(db_url: str) -> None:
    app = NegotiationLedger(db_url, recorded_by="analyst")
    import_timeline(app, parse_timeline(_long(SNAPSHOT_EVERY)))
    assert _snapshots(db_url) == 2  # one per talks, at its final version
    _assert_loads_as_replayed(app, db_url, SNAPSHOT_EVERY + 1)


def test_a_refused_file_writes_no_event_and_no_snapshot(db_url: str) -> None:
    app = NegotiationLedger(db_url, recorded_by="analyst")
    with pytest.raises(MoveRefusedError, match=r"'bad'.*RLD is not at the"):
        import_timeline(app, parse_timeline(_long(SNAPSHOT_EVERY, broken=True)))
    assert _count(db_url, TABLES.events) == 0
    assert _count(db_url, TABLES.snapshots) == 0


def test_a_later_snapshot_replaces_the_one_it_supersedes(db_url: str) -> None:
    app = NegotiationLedger(db_url, recorded_by="analyst")
    import_timeline(app, parse_timeline(_long(SNAPSHOT_EVERY)))
    import_timeline(app, parse_timeline(_long(2 * SNAPSHOT_EVERY)))  # 200 more moves per talks
    table = TABLES.snapshots
    with get_engine(db_url).connect() as conn:
        parts = conn.execute(
            select(table.c.originator_version).where(table.c.topic == PART_TOPIC)
        ).scalars().all()
    assert _snapshot_versions(db_url) == [2 * SNAPSHOT_EVERY + 1] * 2  # the latest of each talks
    # Each talks' rows in full parts of their own (the rest stays in the snapshot).
    assert parts == [0] * 2 * ((2 * SNAPSHOT_EVERY + 1) // PART_ROWS)
    _assert_loads_as_replayed(app, db_url, 2 * SNAPSHOT_EVERY + 1)


def test_a_few_moves_more_keep_the_snapshot_until_enough_follow_it(db_url: str) -> None:
    app = NegotiationLedger(db_url, recorded_by="analyst")
    import_timeline(app, parse_timeline(_long(SNAPSHOT_EVERY)))
    assert _snapshot_versions(db_url) == [SNAPSHOT_EVERY + 1] * 2
    # Ten moves more a talks: loading it replays ten events; no snapshot is rewritten.
    import_timeline(app, parse_timeline(_long(SNAPSHOT_EVERY + 10)))
    assert _snapshot_versions(db_url) == [SNAPSHOT_EVERY + 1] * 2
    _assert_loads_as_replayed(app, db_url, SNAPSHOT_EVERY + 11)
    # Once IMPORT_SNAPSHOT_FROM events follow the snapshot, the import takes a new one.
    import_timeline(app, parse_timeline(_long(SNAPSHOT_EVERY + IMPORT_SNAPSHOT_FROM)))
    assert _snapshot_versions(db_url) == [SNAPSHOT_EVERY + IMPORT_SNAPSHOT_FROM + 1] * 2


def test_talks_the_ledger_holds_are_extended_and_their_seats_checked(db_url: str) -> None:
    app = NegotiationLedger(db_url, recorded_by="analyst")
    import_timeline(app, parse_timeline(FIRST))
    report = import_timeline(app, parse_timeline(SECOND))
    assert report.opened == ["bihar", "delhi"]  # `up` is held: extended, not opened again
    events = _count(db_url, TABLES.events)
    other_seats = SECOND.replace("{id: up, seats: 80", "{id: up, seats: 81")
    with pytest.raises(InputError, match="'up' is already in the ledger with 80 seats, not 81"):
        import_timeline(app, parse_timeline(other_seats.replace("sp-offer", "sp-offer-2")))
    assert _count(db_url, TABLES.events) == events


def test_the_openings_of_many_talks_are_read_at_once(db_url: str) -> None:
    app = NegotiationLedger(db_url, recorded_by="analyst")
    import_timeline(app, parse_timeline(FIRST))
    import_timeline(app, parse_timeline(SECOND))
    held = [negotiation_id(slug) for slug in ("up", "bihar", "delhi")]
    unknown = [uuid4() for _ in range(2_000)]  # more than one query's list of ids
    found = app.store.select_openings([*unknown[:1_000], *held, *unknown[1_000:]])
    assert sorted(str(e.originator_id) for e in found) == sorted(map(str, held))
    assert {e.originator_version for e in found} == {1}
    bihar = [app.mapper.to_domain_event(e) for e in found if e.originator_id == held[1]]
    assert [opening.seats for opening in bihar] == [40]


def test_a_talks_folded_again_without_its_parts_is_counted_once() -> None:
    steps: list[int] = []
    runs: list[int] = []

    def fold(step: Callable[[], None]) -> None:
        runs.append(1)
        step()
        step()
        if len(runs) == 1:
            raise PartsUnavailable("its part 0123... is missing")
        step()

    retried_without_parts(fold, lambda: steps.append(1))
    assert len(runs) == 2 and len(steps) == 3  # three items, each counted once
