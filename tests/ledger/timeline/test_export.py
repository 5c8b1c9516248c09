"""Export writes a timeline that imports into an empty ledger with the same views every day."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from ledger.application import NegotiationLedger
from ledger.domain.errors import InputError, NotFoundError, SeatledgerError
from ledger.timeline.document import (
    AllianceSpec,
    AnyMove,
    CorrectionSpec,
    MeetingSpec,
    NegotiationSpec,
    NoteSpec,
    PartySpecMove,
    ProposalSpec,
)
from ledger.timeline.export import dump_timeline, export_timeline
from ledger.timeline.importer import import_timeline
from ledger.timeline.parsing import parse_timeline, read_timeline
from projections.api import LedgerViews
from tests.support.example import EXAMPLE, record_example

NOT_COPIED = {"recorded_at", "recorded_by"}  # the copy is recorded anew, by someone else


def round_trip(source: str, target: str, fmt: str = "yaml", **only: Any) -> dict[str, Any]:
    document = export_timeline(NegotiationLedger(source), **only)
    text = dump_timeline(document, "json" if fmt == "json" else "yaml")
    import_timeline(NegotiationLedger(target, recorded_by="restorer"), parse_timeline(text))
    return document


def days(url: str) -> list[date]:
    """Every day from a week before the first move to a week after the last."""
    moves = LedgerViews(url).history(None)
    first = min(m.on for m in moves)
    last = max(m.on for m in moves)
    start, end = _day(first) - timedelta(days=7), _day(last) + timedelta(days=7)
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def _day(when: date) -> date:
    return when.date() if hasattr(when, "date") else when


def facts(url: str, on: date) -> tuple[Any, ...]:
    views = LedgerViews(url)
    history = [
        {k: v for k, v in move.to_json().items() if k not in NOT_COPIED}
        for move in views.history(None, as_of=on)
    ]
    return (
        [s.to_json() for s in views.splits(as_of=on)],
        views.rollup(as_of=on).to_json(),
        history,
    )


def assert_same_views(source: str, target: str) -> None:
    for day in days(source):
        assert facts(source, day) == facts(target, day), day


@pytest.fixture
def copy_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'copy.db'}"


def test_the_example_exports_and_reimports_with_the_same_views_on_every_date(
    db_url: str, copy_url: str
) -> None:
    record_example(db_url)
    document = round_trip(db_url, copy_url)
    assert len(document["moves"]) == len(read_timeline(EXAMPLE).moves)
    assert document["order"] == "recorded"  # the example corrects a move
    assert_same_views(db_url, copy_url)
    again = copy_url.replace("copy.db", "again.db")  # the copy's export, imported in its turn
    round_trip(copy_url, again)
    assert_same_views(db_url, again)


def test_a_ledger_without_corrections_exports_in_the_contracts_date_order(
    db_url: str, copy_url: str
) -> None:
    app = NegotiationLedger(db_url)
    app.open(NegotiationSpec(id="up", seats=80, parties=["INC", "SP"], opened_on=date(2024, 1, 9)))
    app.record(ProposalSpec(type="proposal", id="p2", negotiation="up", on=date(2024, 1, 20),
                            by="SP", split={"SP": 63, "INC": 17}))  # fmt: skip
    app.record(ProposalSpec(type="proposal", id="p1", negotiation="up", on=date(2024, 1, 10),
                            by="INC", split={"INC": 20}))  # fmt: skip
    document = round_trip(db_url, copy_url)
    assert "order" not in document  # a file of the contract, as export always wrote
    assert [m["id"] for m in document["moves"]] == ["p2", "p1"]  # as recorded: a late fact
    assert_same_views(db_url, copy_url)


def test_a_json_export_reimports_with_the_same_views(db_url: str, copy_url: str) -> None:
    import_timeline(NegotiationLedger(db_url), read_timeline(EXAMPLE))
    round_trip(db_url, copy_url, fmt="json")
    assert_same_views(db_url, copy_url)


def test_late_facts_retractions_and_alliance_moves_survive_the_round_trip(
    db_url: str, copy_url: str
) -> None:
    app = NegotiationLedger(db_url, recorded_by="analyst")
    app.form_alliance(
        AllianceSpec(id="bloc", members=["RJD", "JDU", "INC"], formed_on=date(2023, 7, 18))
    )
    app.open(
        NegotiationSpec(
            id="bihar", seats=40, parties=["RJD", "JDU", "INC"], opened_on=date(2024, 1, 7)
        ),
        alliance="bloc",
    )
    moves: list[AnyMove] = [
        ProposalSpec(type="proposal", id="p1", negotiation="bihar", on=date(2024, 1, 20),
                     by="JDU", split={"JDU": 16, "RJD": 16}),
        MeetingSpec(type="meeting", id="m0", negotiation="bihar", on=date(2024, 1, 8),
                    parties=["RJD", "INC"]),  # a late fact: dated before p1, recorded after it
        PartySpecMove(type="party_left_alliance", id="jdu-out", on=date(2024, 1, 28), party="JDU"),
        ProposalSpec(type="proposal", id="p2", negotiation="bihar", on=date(2024, 1, 28),
                     by="INC", split={"INC": 9}),
        NoteSpec(type="note", id="n1", negotiation="bihar", on=date(2024, 2, 1), note="typo"),
        CorrectionSpec(type="correction", id="n1-gone", of="n1", retract=True),
        CorrectionSpec(type="correction", id="p2-fix", of="p2", split={"INC": 10, "RJD": 26}),
    ]  # fmt: skip
    for move in moves:
        app.record(move, alliance="bloc")
    document = round_trip(db_url, copy_url)
    assert list(document)[:2] == ["format", "order"] and document["order"] == "recorded"
    assert [m["id"] for m in document["moves"]] == [m.id for m in moves]  # as recorded
    assert_same_views(db_url, copy_url)
    state = NegotiationLedger(copy_url).negotiation("bihar").state
    assert state.split == {"INC": 10, "RJD": 26} and "JDU" not in state.at_table


def test_one_negotiation_exports_with_its_alliance_and_nothing_else(
    db_url: str, copy_url: str
) -> None:
    import_timeline(NegotiationLedger(db_url), read_timeline(EXAMPLE))
    document = round_trip(db_url, copy_url, negotiations=["bihar"])
    assert [n["id"] for n in document["negotiations"]] == ["bihar"]
    assert document["alliance"]["id"] == "india-bloc"
    assert {m.get("negotiation") for m in document["moves"]} <= {"bihar", None}
    source, copy = LedgerViews(db_url), LedgerViews(copy_url)
    for day in (date(2024, 1, 10), date(2024, 1, 29), date(2024, 3, 30), date(2024, 4, 6)):
        assert source.split("bihar", as_of=day) == copy.split("bihar", as_of=day)


def test_talks_in_several_alliances_and_in_none_round_trip_when_exported_together(
    db_url: str, copy_url: str
) -> None:
    app = NegotiationLedger(db_url)
    for slug in ("bloc", "front"):
        app.form_alliance(AllianceSpec(id=slug, members=["INC", "SP"], formed_on=date(2023, 7, 18)))
    opening = {"seats": 10, "parties": ["INC", "SP"], "opened_on": date(2024, 1, 1)}
    app.open(NegotiationSpec(id="in-bloc", **opening), alliance="bloc")
    app.open(NegotiationSpec(id="in-front", **opening), alliance="front")
    app.open(NegotiationSpec(id="outside", **opening))
    app.record(NoteSpec(type="note", on=date(2024, 1, 2), note="bloc talks"), alliance="bloc")
    app.record(
        PartySpecMove(type="party_left_alliance", party="SP", on=date(2024, 1, 3)), alliance="front"
    )
    document = round_trip(db_url, copy_url)
    assert [a["id"] for a in document["alliances"]] == ["bloc", "front"]
    assert {n["id"]: n.get("alliance") for n in document["negotiations"]} == {
        "in-bloc": "bloc", "in-front": "front", "outside": None,
    }  # fmt: skip
    for day in (date(2024, 1, 1), date(2024, 1, 2), date(2024, 1, 3)):
        assert facts(db_url, day) == facts(copy_url, day)
    assert [n["id"] for n in export_timeline(app, ["outside"])["negotiations"]] == ["outside"]
    assert "alliance" not in export_timeline(app, ["outside"])
    assert export_timeline(app, ["in-bloc"])["alliance"]["id"] == "bloc"


def test_an_unknown_negotiation_is_not_exported(db_url: str) -> None:
    with pytest.raises(NotFoundError, match="kerala"):
        export_timeline(NegotiationLedger(db_url), ["kerala"])


def test_yaml_export_quotes_the_on_key_and_keeps_dates_plain(db_url: str) -> None:
    import_timeline(NegotiationLedger(db_url), read_timeline(EXAMPLE))
    text = dump_timeline(export_timeline(NegotiationLedger(db_url)))
    assert "\n  'on': 2024-01-27\n" in text or '\n  "on": 2024-01-27\n' in text
    assert "\n  on:" not in text
    assert "split: {SP: 69, INC: 11}" in text or "split: {INC: 11, SP: 69}" in text


ALLIANCES_FILE = """
format: seatledger/timeline@1
alliances:
  - {id: bloc, members: [INC, SP], formed_on: 2023-07-18}
  - {id: front, members: [BJP], formed_on: 2023-07-18}
parties: [{code: INC}, {code: SP}, {code: BJP}]
negotiations:
  - {id: a, seats: 5, parties: [INC, SP], opened_on: 2024-01-01, alliance: bloc}
  - {id: b, seats: 5, parties: [INC, SP], opened_on: 2024-01-01}
moves:
  - {id: front-meets, alliance: front, type: meeting, on: 2024-01-02, parties: [BJP]}
"""


def test_a_file_with_several_alliances_is_refused_naming_the_problem_when_it_is_inconsistent(
    db_url: str,
) -> None:
    both = ALLIANCES_FILE.replace(
        "alliances:", "alliance: {id: x, formed_on: 2023-01-01}\nalliances:"
    )
    with pytest.raises(InputError, match="not both"):
        parse_timeline(both)
    with pytest.raises(
        InputError, match="negotiation 'a': alliance 'nope' is not one of the file's"
    ):
        parse_timeline(ALLIANCES_FILE.replace("alliance: bloc", "alliance: nope"))
    unnamed = parse_timeline(ALLIANCES_FILE.replace("alliance: front, ", ""))
    with pytest.raises(SeatledgerError, match=r"front-meets.*give the move an 'alliance'"):
        import_timeline(NegotiationLedger(db_url), unnamed)
    import_timeline(NegotiationLedger(db_url), parse_timeline(ALLIANCES_FILE))
    views = LedgerViews(db_url)
    assert [m.id for m in views.history(None)][-1] == "front-meets"
    assert [n["id"] for n in export_timeline(NegotiationLedger(db_url))["alliances"]] == [
        "bloc", "front",
    ]  # fmt: skip


def test_a_corrected_move_reimports_when_a_later_recorded_fact_dated_before_it_broke_its_first_form(
    db_url: str, copy_url: str, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from scripts.cli import app

    def run(url: str, *args: str) -> None:
        done = CliRunner().invoke(app, ["--db", url, *args])
        assert done.exit_code == 0, (args, done.output)

    for party in ("A", "C", "E"):
        run(db_url, "parties", "add", party)
    run(db_url, "alliance", "form", "bloc", "--members", "A,C,E", "--on", "2024-01-01")
    run(db_url, "open", "t1", "--seats", "10", "--parties", "A,C,E", "--on", "2024-01-01",
        "--alliance", "bloc")  # fmt: skip
    run(db_url, "propose", "t1", "--by", "C", "--split", "A=7", "--on", "2024-02-15", "--id", "m4")
    run(db_url, "correct", "m4", "--split", "C=2", "--reason", "typo")
    run(db_url, "alliance", "leave", "bloc", "--party", "A", "--on", "2024-01-08")
    exported = tmp_path / "x.yaml"
    run(db_url, "export", "-o", str(exported))
    run(copy_url, "import", str(exported))
    assert exported.read_text(encoding="utf-8").splitlines()[1:3] == [
        "format: seatledger/timeline@1", "order: recorded",
    ]  # fmt: skip
    assert LedgerViews(copy_url).split("t1").to_json() == LedgerViews(db_url).split("t1").to_json()
    assert_same_views(db_url, copy_url)
