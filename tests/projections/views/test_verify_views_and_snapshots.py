"""What people read is verified too: one changed row of a view, snapshot or the move index."""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from dataclasses import fields
from datetime import date
from typing import Any

import orjson
import pytest
from sqlalchemy import Connection, delete, insert, select, update
from typer.testing import CliRunner

from ledger.application import SNAPSHOT_EVERY, NegotiationLedger
from ledger.domain.events import NoteRecorded
from ledger.domain.snapshot_parts import Frame, decode_frame
from ledger.domain.state import NegotiationState
from ledger.integrity.findings import SNAPSHOT, VIEW_MOVES, VIEW_POSITION, VIEW_SPLITS
from ledger.integrity.verifier import MOVE_INDEX, Problem, verify
from ledger.persistence.parts import PART_TOPIC
from ledger.persistence.schema import TABLES
from ledger.persistence.snapshots import SnapshotIgnoredWarning
from ledger.timeline.importer import import_timeline
from ledger.timeline.parsing import read_timeline
from projections.api import LedgerViews
from projections.views.tables import moved, moves, position, splits
from projections.views.verify import DerivedChecker
from scripts.cli import app as cli
from tests.ledger.integrity.test_verify import as_owner
from tests.support.example import EXAMPLE


@pytest.fixture(autouse=True)
def snapshot_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEATLEDGER_SNAPSHOT_KEY", "a key the database never sees")


@pytest.fixture
def ledger(db_url: str) -> str:
    """The bundled example with its views caught up, and Delhi long enough to be snapshotted."""
    app = NegotiationLedger(db_url, recorded_by="analyst")
    import_timeline(app, read_timeline(EXAMPLE))
    talks = app.negotiation("delhi")
    for i in range(SNAPSHOT_EVERY):
        talks.record(
            NoteRecorded, move_id=f"note-{i}", occurred_on=date(2024, 1, 13), note=f"{i}",
            recorded_by="analyst",
        )  # fmt: skip
    app.save(talks)
    LedgerViews(db_url).catch_up()
    return db_url


def check(url: str) -> list[Problem]:
    report = verify(url, derived=DerivedChecker(url))
    assert report.ok == (not report.problems)
    return report.problems


def _split_row(conn: Connection) -> Any:
    c = splits.c
    return conn.execute(
        select(c.valid_from, c.recorded_from).where(c.negotiation == "delhi", c.status == "agreed")
    ).first()


def _edit_split(conn: Connection) -> None:
    valid_from, recorded_from = _split_row(conn)
    c = splits.c
    conn.execute(
        update(splits)
        .where(
            c.negotiation == "delhi", c.valid_from == valid_from, c.recorded_from == recorded_from
        )
        .values(split='{"AAP":7,"INC":0}')
    )


def _delete_split(conn: Connection) -> None:
    valid_from, recorded_from = _split_row(conn)
    c = splits.c
    conn.execute(
        delete(splits).where(
            c.negotiation == "delhi", c.valid_from == valid_from, c.recorded_from == recorded_from
        )
    )


def _forge_split(conn: Connection) -> None:
    row = conn.execute(select(splits).where(splits.c.negotiation == "delhi")).mappings().first()
    assert row is not None
    conn.execute(insert(splits).values({**row, "valid_from": row["valid_from"] + 1}))


def _edit_move(conn: Connection) -> None:
    conn.execute(update(moves).where(moves.c.move_id == "note-7").values(note="forged"))


def _delete_move(conn: Connection) -> None:
    conn.execute(delete(moves).where(moves.c.move_id == "note-7"))


def _forge_move(conn: Connection) -> None:
    row = conn.execute(select(moves).where(moves.c.move_id == "note-7")).mappings().one()
    conn.execute(insert(moves).values({**row, "move_id": "made-up"}))


def _edit_moved(conn: Connection) -> None:
    where = moved.c.move_id == "delhi-aap-offers-1"
    conn.execute(update(moved).where(where).values(seats_moved='{"AAP":7}'))


def _give_a_seat(conn: Connection) -> None:
    where = moved.c.move_id == "delhi-aap-offers-1"
    conn.execute(update(moved).where(where).values(seats_given='[["New Delhi",null,"INC"]]'))


def _delete_moved(conn: Connection) -> None:
    conn.execute(delete(moved).where(moved.c.move_id == "delhi-aap-offers-1"))


def _forge_moved(conn: Connection) -> None:
    where = moved.c.move_id == "delhi-aap-offers-1"
    row = conn.execute(select(moved).where(where)).mappings().one()
    conn.execute(insert(moved).values({**row, "move_id": "made-up"}))


def _delete_index_row(conn: Connection) -> None:
    conn.execute(delete(TABLES.moves).where(TABLES.moves.c.move_id == "note-7"))


def _rename_index_row(conn: Connection) -> None:
    index = TABLES.moves
    conn.execute(update(index).where(index.c.move_id == "note-7").values(move_id="made-up"))


def _forge_index_row(conn: Connection) -> None:
    index = TABLES.moves
    row = conn.execute(select(index).where(index.c.move_id == "note-7")).mappings().one()
    conn.execute(insert(index).values({**row, "move_id": "made-up", "originator_version": 999}))


def _position_ahead(conn: Connection) -> None:
    conn.execute(update(position).values(notification_id=10**9))


def _snapshot_state(conn: Connection) -> tuple[Any, bytes]:
    table = TABLES.snapshots
    query = select(table.c.originator_id, table.c.state).where(table.c.topic != PART_TOPIC)
    row = conn.execute(query).one()
    return row[0], bytes(row[1])


def _edited(data: bytes, edit: Callable[[dict[str, Any]], None]) -> bytes:
    """A snapshot's bytes (framed with its parts or not) with its state edited."""
    frame = decode_frame(data)
    snapshot = orjson.loads(frame.data if frame else data)
    edit(snapshot["state"])
    edited = orjson.dumps(snapshot, option=orjson.OPT_SORT_KEYS)
    return Frame(frame.names, frame.bodies, edited).encode() if frame else edited


def _forge_snapshot(conn: Connection, edit: Callable[[dict[str, Any]], None]) -> None:
    """Edit the snapshot's content, keeping its seal line as it was."""
    aggregate, state = _snapshot_state(conn)
    seal, body = state.split(b"\n", 1)
    table = TABLES.snapshots
    conn.execute(
        update(table)
        .where(table.c.originator_id == aggregate)
        .values(state=seal + b"\n" + _edited(body, edit))
    )


def _more_seats(state: dict[str, Any]) -> None:
    """Delhi's seats made 70 in the state that decides its next move."""
    final = state["states"][state["final"]]
    final[[f.name for f in fields(NegotiationState)].index("seats")] = 70


def _edit_snapshot(conn: Connection) -> None:
    _forge_snapshot(conn, _more_seats)


def _forge_snapshot_row(conn: Connection) -> None:
    table = TABLES.snapshots
    row = conn.execute(select(table).where(table.c.topic != PART_TOPIC)).mappings().one()
    conn.execute(insert(table).values({**row, "originator_version": 5}))


CHANGES = {
    "view-splits-updated": (_edit_split, VIEW_SPLITS, "split is"),
    "view-splits-deleted": (_delete_split, VIEW_SPLITS, "missing from the view"),
    "view-splits-inserted": (_forge_split, VIEW_SPLITS, "no event implies it"),
    "view-moves-updated": (_edit_move, VIEW_MOVES, "note is 'forged'"),
    "view-moves-deleted": (_delete_move, VIEW_MOVES, "missing from the view"),
    "view-moves-inserted": (_forge_move, VIEW_MOVES, "no event of these talks implies"),
    "view-moved-updated": (_edit_moved, VIEW_MOVES, "seats_moved is '{\"AAP\":7}'"),
    "view-moved-given": (_give_a_seat, VIEW_MOVES, "seats_given is '[[\"New Delhi\",null"),
    "view-moved-deleted": (_delete_moved, VIEW_MOVES, "missing from the view"),
    "view-moved-inserted": (_forge_moved, VIEW_MOVES, "no event implies them"),
    "view-position": (_position_ahead, VIEW_POSITION, "after the log's last notification"),
    "move-index-deleted": (_delete_index_row, MOVE_INDEX, "has no entry for move 'note-7'"),
    "move-index-updated": (_rename_index_row, MOVE_INDEX, "the event says 'note-7'"),
    "move-index-inserted": (_forge_index_row, MOVE_INDEX, "an event that does not exist"),
    "snapshot-updated": (_edit_snapshot, SNAPSHOT, "states differ from the fold"),
    "snapshot-inserted": (_forge_snapshot_row, SNAPSHOT, "claims to summarise"),
}


def test_ok_when_the_views_and_snapshots_are_untouched(ledger: str) -> None:
    report = verify(ledger, derived=DerivedChecker(ledger))
    assert report.ok, report.problems
    assert "views, snapshots and move index" in report.summary()


@pytest.mark.parametrize("change", list(CHANGES), ids=list(CHANGES))
def test_single_row_change_is_named_when_made_with_triggers_dropped(
    ledger: str, change: str
) -> None:
    tamper, kind, says = CHANGES[change]
    with as_owner(ledger) as conn:
        tamper(conn)
    problems = check(ledger)
    assert [p.kind for p in problems] == [kind], problems
    assert says in problems[0].detail
    if kind in (VIEW_SPLITS, VIEW_MOVES, SNAPSHOT):
        assert problems[0].slug == "delhi"
    if kind in (VIEW_MOVES, MOVE_INDEX):
        assert problems[0].move_id in ("note-7", "made-up", "delhi-aap-offers-1")


@pytest.mark.parametrize(
    "change", [c for c in CHANGES if c.startswith(("view", "snapshot"))], ids=lambda c: str(c)
)
def test_rebuild_restores_what_verify_passes_when_a_view_or_snapshot_was_tampered(
    ledger: str, change: str
) -> None:
    with as_owner(ledger) as conn:
        CHANGES[change][0](conn)
    assert check(ledger)
    LedgerViews(ledger).rebuild()
    assert check(ledger) == []


def test_edited_split_is_named_with_both_numbers_when_delhi_reads_aap_7(ledger: str) -> None:
    with as_owner(ledger) as conn:
        _edit_split(conn)
    (problem,) = check(ledger)
    assert '\'{"AAP":7,"INC":0}\' in the view' in problem.detail
    assert '\'{"AAP":4,"INC":3}\' by the events' in problem.detail


def test_forged_snapshot_never_lets_an_over_the_pool_proposal_in(ledger: str) -> None:
    with as_owner(ledger) as conn:
        _forge_snapshot(conn, _more_seats)  # Delhi's 7 seats made 70, seal line kept
    app = NegotiationLedger(ledger, recorded_by="analyst")
    with pytest.warns(SnapshotIgnoredWarning, match="seal does not verify"):
        talks = app.negotiation("delhi")
    assert talks.state.seats == 7
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SnapshotIgnoredWarning)
        result = CliRunner().invoke(cli, [
            "--db", ledger, "propose", "delhi", "--by", "AAP", "--split", "AAP=40,INC=20",
            "--on", "2024-01-20",
        ])  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "7" in result.stderr
    assert not any(p.kind != SNAPSHOT for p in check(ledger))


def test_snapshot_is_ignored_when_its_seal_was_recomputed_without_the_key(
    ledger: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A forger who knows the format but not the key seals with a key of their own.
    monkeypatch.setenv("SEATLEDGER_SNAPSHOT_KEY", "the forger's guess")
    app = NegotiationLedger(ledger, recorded_by="forger")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SnapshotIgnoredWarning)
        talks = app.negotiation("delhi")
    with as_owner(ledger) as conn:
        conn.execute(delete(TABLES.snapshots))
    from ledger.domain.snapshot import StorySnapshot

    store = app.snapshots
    assert store is not None
    stored = store.mapper.to_stored_event(StorySnapshot.take(talks))
    forged = type(stored)(stored.originator_id, stored.originator_version, stored.topic,
                          _edited(stored.state, _more_seats))  # fmt: skip
    store.recorder.insert_events([forged])
    monkeypatch.setenv("SEATLEDGER_SNAPSHOT_KEY", "a key the database never sees")
    with pytest.warns(SnapshotIgnoredWarning):
        assert NegotiationLedger(ledger).negotiation("delhi").state.seats == 7
    assert [p.kind for p in check(ledger)] == [SNAPSHOT]


def test_ignored_snapshot_warning_says_to_share_the_key_when_another_machine_sealed_it(
    ledger: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A second machine recording to the same ledger has a key of its own.
    monkeypatch.setenv("SEATLEDGER_SNAPSHOT_KEY", "the second machine's own key")
    with pytest.warns(SnapshotIgnoredWarning, match="same SEATLEDGER_SNAPSHOT_KEY"):
        assert NegotiationLedger(ledger).negotiation("delhi").state.seats == 7


def test_snapshot_is_ignored_when_it_claims_another_chain(ledger: str) -> None:
    with as_owner(ledger) as conn:
        aggregate, state = _snapshot_state(conn)
        forged = state[:18] + b"0" * 64 + state[18 + 64 :]
        table = TABLES.snapshots
        conn.execute(update(table).where(table.c.originator_id == aggregate).values(state=forged))
    with pytest.warns(SnapshotIgnoredWarning, match="claims to summarise"):
        assert NegotiationLedger(ledger).negotiation("delhi").version == SNAPSHOT_EVERY + 7
    (problem,) = check(ledger)
    assert problem.kind == SNAPSHOT and "claims to summarise" in problem.detail


def test_json_reports_each_class_of_finding_separately(ledger: str) -> None:
    with as_owner(ledger) as conn:
        _edit_split(conn)
        _delete_index_row(conn)
        _edit_snapshot(conn)
    result = CliRunner().invoke(cli, ["--db", ledger, "verify", "--format", "json"])
    assert result.exit_code == 1, result.output
    findings = json.loads(result.stdout)["findings"]
    assert {name: len(found) for name, found in findings.items()} == {
        "chain": 0, "move_index": 1, "digest": 0, "views": 1, "snapshots": 1, "report": 0,
    }  # fmt: skip
    assert findings["views"][0]["negotiation"] == "delhi"
