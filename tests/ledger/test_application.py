"""The ledger application on SQLite and PostgreSQL: recording, atomicity, conflicts, snapshots."""

from __future__ import annotations

from datetime import date

import pytest
from eventsourcing.persistence import IntegrityError
from sqlalchemy import func, select

from ledger.application import SNAPSHOT_EVERY, NegotiationLedger
from ledger.domain.errors import (
    DuplicateMoveError,
    InputError,
    MoveRefusedError,
    NotFoundError,
    SplitError,
    UnknownPartyError,
)
from ledger.domain.folding import as_known
from ledger.domain.negotiation import negotiation_id
from ledger.persistence.engine import get_engine
from ledger.persistence.parts import PART_TOPIC
from ledger.persistence.schema import TABLES
from ledger.timeline.document import NegotiationSpec, NoteSpec, ProposalSpec
from ledger.timeline.importer import import_timeline
from ledger.timeline.parsing import parse_timeline, read_timeline
from tests.support.example import EXAMPLE

SMALL = """
format: seatledger/timeline@1
parties: [{code: SP}, {code: INC}, {code: AAP}]
negotiations:
  - {id: uttar-pradesh, seats: 80, parties: [SP, INC], opened_on: 2024-01-09}
  - {id: delhi, seats: 7, parties: [AAP, INC], opened_on: 2024-01-12}
moves:
  - {id: sp-offers-11, negotiation: uttar-pradesh, type: proposal, "on": 2024-01-27, by: SP,
     split: {SP: 69, INC: 11}}
"""


def event_count(url: str) -> int:
    with get_engine(url).connect() as conn:
        return int(conn.execute(select(func.count()).select_from(TABLES.events)).scalar_one())


def ledger_with_small_file(url: str) -> NegotiationLedger:
    app = NegotiationLedger(url, recorded_by="analyst")
    import_timeline(app, parse_timeline(SMALL))
    return app


def test_example_timeline_leaves_the_well_known_deals_when_imported(db_url: str) -> None:
    app = NegotiationLedger(db_url, recorded_by="analyst")
    report = import_timeline(app, read_timeline(EXAMPLE))
    assert report.recorded == len(read_timeline(EXAMPLE).moves)
    up = app.negotiation("uttar-pradesh").state
    assert (up.status, up.split) == ("agreed", {"SP": 63, "INC": 17})
    assert app.negotiation("west-bengal").state.status == "no_deal"
    assert "JDU" not in app.negotiation("bihar").state.at_table


def test_reimporting_the_same_file_changes_nothing(db_url: str) -> None:
    app = NegotiationLedger(db_url, recorded_by="analyst")
    import_timeline(app, read_timeline(EXAMPLE))
    before = event_count(db_url)
    again = import_timeline(app, read_timeline(EXAMPLE))
    assert (again.recorded, again.unchanged, event_count(db_url)) == (
        0,
        len(read_timeline(EXAMPLE).moves),
        before,
    )


def test_import_writes_nothing_when_its_last_move_breaks_a_rule(db_url: str) -> None:
    app = NegotiationLedger(db_url, recorded_by="analyst")
    bad = (
        SMALL
        + """
  - {id: too-many, negotiation: delhi, type: proposal, "on": 2024-02-01, by: AAP,
     split: {AAP: 7, INC: 1}}
"""
    )
    with pytest.raises(MoveRefusedError, match=r"'too-many'.*8 seats but only 7"):
        import_timeline(app, parse_timeline(bad))
    assert event_count(db_url) == 0


def test_dry_run_import_writes_nothing(db_url: str) -> None:
    app = NegotiationLedger(db_url, recorded_by="analyst")
    report = import_timeline(app, parse_timeline(SMALL), dry_run=True)
    assert report.recorded == 1 and report.dry_run
    assert event_count(db_url) == 0


def test_move_naming_an_unknown_party_is_refused(db_url: str) -> None:
    app = ledger_with_small_file(db_url)
    before = event_count(db_url)
    spec = ProposalSpec(
        type="proposal", negotiation="uttar-pradesh", on=date(2024, 1, 28), by="BSP",
        split={"BSP": 1},
    )  # fmt: skip
    with pytest.raises(UnknownPartyError, match="BSP"):
        app.record(spec)
    assert event_count(db_url) == before


def test_move_id_used_in_other_talks_is_refused(db_url: str) -> None:
    app = ledger_with_small_file(db_url)
    spec = ProposalSpec(
        type="proposal", id="sp-offers-11", negotiation="delhi", on=date(2024, 1, 28), by="AAP",
        split={"AAP": 4},
    )  # fmt: skip
    with pytest.raises(DuplicateMoveError, match="sp-offers-11"):
        app.record(spec)


def test_rerecording_an_identical_move_is_unchanged(db_url: str) -> None:
    app = ledger_with_small_file(db_url)
    spec = ProposalSpec(
        type="proposal", id="sp-offers-11", negotiation="uttar-pradesh", on=date(2024, 1, 27),
        by="SP", split={"SP": 69, "INC": 11},
    )  # fmt: skip
    assert app.record(spec).status == "unchanged"


def test_move_in_unknown_talks_is_refused(db_url: str) -> None:
    app = ledger_with_small_file(db_url)
    spec = NoteSpec(type="note", negotiation="kerala", on=date(2024, 1, 28), note="x")
    with pytest.raises(NotFoundError, match="kerala"):
        app.record(spec)


def test_rule_breaking_move_writes_nothing(db_url: str) -> None:
    app = ledger_with_small_file(db_url)
    before = event_count(db_url)
    spec = ProposalSpec(
        type="proposal", negotiation="delhi", on=date(2024, 1, 28), by="AAP",
        split={"AAP": 7, "INC": 7},
    )  # fmt: skip
    with pytest.raises(SplitError):
        app.record(spec)
    assert event_count(db_url) == before


def test_version_conflict_is_detected_when_two_writers_load_the_same_talks(db_url: str) -> None:
    first = ledger_with_small_file(db_url)
    second = NegotiationLedger(db_url, recorded_by="colleague")
    stale = first.negotiation("delhi")
    second.record(NoteSpec(type="note", negotiation="delhi", on=date(2024, 1, 13), note="met"))
    stale.record(
        __import__("ledger.domain.events", fromlist=["NoteRecorded"]).NoteRecorded,
        move_id="late-writer", occurred_on=date(2024, 1, 14), note="also met",
        recorded_by="analyst",
    )  # fmt: skip
    with pytest.raises(IntegrityError):
        first.save(stale)


def test_move_is_retried_and_recorded_when_another_writer_got_there_first(db_url: str) -> None:
    first = ledger_with_small_file(db_url)
    second = NegotiationLedger(db_url, recorded_by="colleague")
    stale = first.negotiation("delhi")
    second.record(NoteSpec(type="note", negotiation="delhi", on=date(2024, 1, 13), note="met"))
    real_get = first.repository.get
    calls = {"n": 0}

    def get_stale_once(aggregate_id, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if aggregate_id == stale.id and calls["n"] == 1:
            return stale
        return real_get(aggregate_id, **kwargs)

    first.repository.get = get_stale_once  # type: ignore[method-assign]
    outcome = first.record(
        NoteSpec(type="note", id="retry-me", negotiation="delhi", on=date(2024, 1, 14), note="x")
    )
    assert outcome.status == "recorded"
    moves = NegotiationLedger(db_url).negotiation("delhi").recorded
    assert {"retry-me"} <= set(moves) and len(moves) == 3


def test_only_the_latest_snapshot_of_a_talks_is_kept(db_url: str) -> None:
    app = ledger_with_small_file(db_url)
    from ledger.domain.events import NoteRecorded

    for round_ in range(2):
        talks = app.negotiation("delhi")
        for i in range(SNAPSHOT_EVERY):
            talks.record(
                NoteRecorded, move_id=f"n{round_}-{i}", occurred_on=date(2024, 1, 13),
                note=f"{i}", recorded_by="analyst",
            )  # fmt: skip
        app.save(talks)
    table = TABLES.snapshots
    with get_engine(db_url).connect() as conn:
        kept = conn.execute(
            select(table.c.originator_version).where(table.c.topic != PART_TOPIC)
        ).scalars().all()
    assert kept == [talks.version]  # the latest; the one at the first save is gone
    # An older version is still there to be had: rebuilt from the events.
    older = app.repository.get(negotiation_id("delhi"), version=SNAPSHOT_EVERY)
    replayed = as_known(app.events.get(negotiation_id("delhi"), lte=SNAPSHOT_EVERY), None)
    assert older.version == replayed.version == SNAPSHOT_EVERY
    assert older.state == replayed.state


def test_long_talks_are_snapshotted_and_load_to_the_same_state(db_url: str) -> None:
    app = ledger_with_small_file(db_url)
    talks = app.negotiation("delhi")
    from ledger.domain.events import NoteRecorded

    for i in range(SNAPSHOT_EVERY):
        talks.record(
            NoteRecorded, move_id=f"n{i}", occurred_on=date(2024, 1, 13), note=f"{i}",
            recorded_by="analyst",
        )  # fmt: skip
    app.save(talks)
    with get_engine(db_url).connect() as conn:
        snapshots = conn.execute(
            select(func.count()).where(TABLES.snapshots.c.topic != PART_TOPIC)
        ).scalar_one()
    assert snapshots == 1
    loaded = NegotiationLedger(db_url).negotiation("delhi")
    replayed = as_known(app.events.get(negotiation_id("delhi")), None)
    assert loaded.state == replayed.state and loaded.version == replayed.version
    assert loaded.recorded.keys() == replayed.recorded.keys()


def test_opening_talks_twice_with_other_terms_is_refused(db_url: str) -> None:
    app = ledger_with_small_file(db_url)
    spec = NegotiationSpec(id="delhi", seats=8, parties=["AAP"], opened_on=date(2024, 1, 1))
    with pytest.raises(DuplicateMoveError, match="already exists"):
        app.open(spec)


def test_file_giving_a_key_twice_is_refused_naming_the_key() -> None:
    twice = (
        SMALL
        + """
  - {id: x, negotiation: delhi, type: proposal, "on": 2024-02-01, by: AAP, split: {AAP: 4},
     split: {AAP: 5}}
"""
    )
    with pytest.raises(InputError, match="'split' is given twice"):
        parse_timeline(twice)
