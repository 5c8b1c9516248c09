"""Seat-level negotiations end to end: the Delhi, Uttar Pradesh and Tamil Nadu seats recorded
from a timeline@2 file and from the command line, then asked who holds each seat when."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pytest

from ledger.application import NegotiationLedger
from ledger.timeline.importer import import_timeline
from ledger.timeline.parsing import read_timeline
from projections.api import LedgerViews
from projections.seats import replay_seat, replay_seats
from tests.scripts.test_read import Run, as_json, ok, run
from tests.scripts.test_scopes import refused

__all__ = ["run"]

SEATS_2024 = """
format: seatledger/timeline@2
parties: [{code: INC}, {code: SP}, {code: TMC}, {code: AAP}]
negotiations:
  - id: delhi
    seats: 7
    parties: [AAP, INC]
    opened_on: 2024-02-01
    constituencies: [Chandni Chowk, North East Delhi, East Delhi, New Delhi,
                     North West Delhi, West Delhi, South Delhi]
  - {id: uttar-pradesh, seats: 80, parties: [SP, INC], opened_on: 2024-01-09,
     constituencies: [Amethi, Rae Bareli, Bhadohi]}
moves:
  - id: delhi-deal
    negotiation: delhi
    type: agreement
    "on": 2024-02-24
    split: {AAP: [New Delhi, West Delhi, South Delhi, East Delhi],
            INC: [Chandni Chowk, North East Delhi, North West Delhi]}
  - {id: up-sp-offers, negotiation: uttar-pradesh, type: proposal, "on": 2024-02-19, by: SP,
     split: {SP: {seats: 63, named: [Bhadohi]}, INC: {seats: 17, named: [Amethi, Rae Bareli]}}}
  - {id: up-deal, negotiation: uttar-pradesh, type: agreement, "on": 2024-02-21,
     split: {SP: {seats: 63, named: [Bhadohi]}, INC: {seats: 17, named: [Amethi, Rae Bareli]}}}
  - {id: up-tmc-joins, negotiation: uttar-pradesh, type: party_joined, "on": 2024-03-15,
     party: TMC}
  - {id: up-bhadohi-to-tmc, negotiation: uttar-pradesh, type: amendment, "on": 2024-03-15,
     split: {SP: 62, INC: {seats: 17, named: [Amethi, Rae Bareli]}, TMC: [Bhadohi]}}
"""


@pytest.fixture
def seats_2024(run: Run, tmp_path: Path) -> Path:
    file = tmp_path / "seats-2024.yaml"
    file.write_text(SEATS_2024, encoding="utf-8")
    ok(run("import", str(file)))
    return file


def test_bhadohi_was_sps_on_1_march_and_tmcs_after_the_15th(run: Run, seats_2024: Path) -> None:
    before = as_json(run("seat", "uttar-pradesh", "bhadohi", "--as-of", "2024-03-01", "-f", "json"))
    assert [before[k] for k in ("constituency", "holder", "status")] == ["Bhadohi", "SP", "agreed"]
    after = as_json(run("seat", "uttar-pradesh", "Bhadohi", "-f", "json"))
    assert [(h["on"], h["move"], h["holder"], h["status"]) for h in after["history"]] == [
        ("2024-01-09", "uttar-pradesh/opened", None, "unassigned"),
        ("2024-02-19", "up-sp-offers", "SP", "on_table"),
        ("2024-02-21", "up-deal", "SP", "agreed"),
        ("2024-03-15", "up-bhadohi-to-tmc", "TMC", "agreed"),
    ]


def test_seat_tables_say_each_status_in_words_where_csv_and_json_keep_the_contracts(
    run: Run, seats_2024: Path
) -> None:
    table = ok(run("seat", "uttar-pradesh", "Bhadohi", "--as-of", "2024-02-20")).stdout
    assert "held by SP (on the table)" in table
    assert "on the table" in table.split("\n", 1)[1] and "on_table" not in table
    rows = list(
        csv.reader(ok(run("seat", "uttar-pradesh", "Bhadohi", "-f", "csv")).stdout.splitlines())
    )
    assert ["2024-02-19", "up-sp-offers", "SP", "on_table"] in rows
    listed = ok(run("seats", "uttar-pradesh", "--as-of", "2024-02-20")).stdout
    assert listed.count("on the table") == 3 and "on_table" not in listed


def test_seats_lists_delhi_in_its_own_order_with_each_holder(run: Run, seats_2024: Path) -> None:
    found = as_json(run("seats", "delhi", "-f", "json"))
    assert found[:2] == [
        {"constituency": "Chandni Chowk", "holder": "INC", "status": "agreed"},
        {"constituency": "North East Delhi", "holder": "INC", "status": "agreed"},
    ]
    assert [s["holder"] for s in found] == ["INC", "INC", "AAP", "AAP", "INC", "AAP", "AAP"]
    early = as_json(run("seats", "delhi", "--as-of", "2024-02-10", "-f", "json"))
    assert {s["status"] for s in early} == {"unassigned"}
    csv = ok(run("seats", "delhi", "-f", "csv")).stdout.splitlines()
    assert csv[0] == "constituency,holder,status" and csv[1] == "Chandni Chowk,INC,agreed"


def test_split_json_names_the_seats_beside_the_counts(run: Run, seats_2024: Path) -> None:
    view = as_json(run("split", "delhi", "-f", "json"))
    assert view["split"] == {"AAP": 4, "INC": 3}
    assert view["named"] == {
        "AAP": ["East Delhi", "New Delhi", "West Delhi", "South Delhi"],
        "INC": ["Chandni Chowk", "North East Delhi", "North West Delhi"],
    }
    assert view["settled"] == {}


def test_seats_views_equal_replay_on_every_date(run: Run, seats_2024: Path, db_url: str) -> None:
    views = LedgerViews(db_url)
    for text in ("2024-01-09", "2024-02-20", "2024-02-21", "2024-03-15", "2024-04-01"):
        day = date.fromisoformat(text)
        assert views.seats("uttar-pradesh", day) == replay_seats(db_url, "uttar-pradesh", day, None)
        for name in ("Amethi", "Rae Bareli", "Bhadohi"):
            assert views.seat("uttar-pradesh", name, day) == replay_seat(
                db_url, "uttar-pradesh", name, day, None
            )


def test_tamil_nadu_pacts_recorded_from_the_command_line_settle_before_the_deal(
    run: Run,
) -> None:
    ok(run("open", "tamil-nadu", "--seats", "39", "--parties", "DMK,INC,IUML,VCK,CPI",
           "--on", "2024-02-01",
           "--constituencies", "Ramanathapuram;Namakkal;Chidambaram;Villupuram"))  # fmt: skip
    ok(run("settle", "tamil-nadu", "--signatories", "DMK,IUML", "--split", "IUML=Ramanathapuram",
           "--on", "2024-02-24"))  # fmt: skip
    ok(run("settle", "tamil-nadu", "--signatories", "DMK,CPI", "--split", "CPI=2",
           "--on", "2024-02-29"))  # fmt: skip
    ok(run("settle", "tamil-nadu", "--signatories", "DMK,VCK",
           "--split", "VCK=Chidambaram;Villupuram", "--on", "2024-03-08"))  # fmt: skip
    before = as_json(run("split", "tamil-nadu", "--as-of", "2024-03-08", "-f", "json"))
    assert (before["status"], before["split"], before["by"]) == (
        "negotiating", {"IUML": 1, "CPI": 2, "VCK": 2}, None,
    )  # fmt: skip
    assert before["settled"] == {"IUML": 1, "CPI": 2, "VCK": 2}
    ok(run("agree", "tamil-nadu", "--split", "DMK=22,INC=9:Namakkal", "--on", "2024-03-09"))
    after = as_json(run("split", "tamil-nadu", "-f", "json"))
    assert after["split"] == {"DMK": 22, "INC": 9, "IUML": 1, "CPI": 2, "VCK": 2}
    assert after["settled"] == {}
    assert as_json(run("seat", "tamil-nadu", "namakkal", "-f", "json"))["holder"] == "INC"


def test_settle_is_refused_naming_the_party_and_the_seat_and_writes_nothing(run: Run) -> None:
    ok(run("open", "tamil-nadu", "--seats", "39", "--parties", "DMK,IUML,VCK",
           "--on", "2024-02-01", "--constituencies", "Ramanathapuram;Chidambaram"))  # fmt: skip
    ok(run("settle", "tamil-nadu", "--signatories", "DMK,IUML", "--split", "IUML=Ramanathapuram",
           "--on", "2024-02-24"))  # fmt: skip
    message = refused(run("settle", "tamil-nadu", "--signatories", "DMK,VCK", "--id", "vck",
                          "--split", "VCK=Ramanathapuram", "--on", "2024-03-08"))  # fmt: skip
    assert "move vck: Ramanathapuram is settled for IUML; the split gives it to VCK" in message
    assert "vck" not in json.dumps(as_json(run("history", "tamil-nadu", "-f", "json")))


def test_dry_run_of_a_pact_shows_the_table_and_writes_nothing(run: Run) -> None:
    ok(run("open", "tamil-nadu", "--seats", "39", "--parties", "DMK,IUML", "--on", "2024-02-01"))
    shown = ok(run("settle", "tamil-nadu", "--signatories", "DMK,IUML", "--split", "IUML=1",
                   "--on", "2024-02-24", "--dry-run")).stdout  # fmt: skip
    assert "dry run, nothing written" in shown and "IUML 1" in shown
    assert as_json(run("split", "tamil-nadu", "-f", "json"))["settled"] == {}


def test_a_timeline_at_2_file_with_one_bad_pact_records_nothing(run: Run, tmp_path: Path) -> None:
    bad = SEATS_2024 + (
        "  - {id: bad-pact, negotiation: delhi, type: partial_agreement, \"on\": 2024-02-10,\n"
        "     signatories: [AAP], split: {AAP: [New Delhi]}}\n"
    )
    file = tmp_path / "bad.yaml"
    file.write_text(bad, encoding="utf-8")
    message = refused(run("import", str(file)))
    assert "bad-pact" in message and "two or more signatories" in message
    after = run("splits", "-f", "json")
    assert "no ledger" in after.stderr if after.exit_code else json.loads(after.stdout) == []


def test_export_writes_timeline_at_2_that_imports_back_to_the_same_seats(
    run: Run, seats_2024: Path, tmp_path: Path, db_url: str
) -> None:
    out = tmp_path / "out.yaml"
    ok(run("export", "-o", str(out)))
    text = out.read_text(encoding="utf-8")
    assert "format: seatledger/timeline@2" in text and "TMC: [Bhadohi]" in text
    copy = f"sqlite:///{tmp_path / 'copy.db'}"
    import_timeline(NegotiationLedger(copy, recorded_by="restorer"), read_timeline(out))
    mine, theirs = LedgerViews(db_url), LedgerViews(copy)
    for day in (date(2024, 2, 20), date(2024, 2, 21), date(2024, 3, 15), None):
        for slug in ("delhi", "uttar-pradesh"):
            assert mine.seats(slug, day) == theirs.seats(slug, day)
            assert mine.split(slug, day) == theirs.split(slug, day)
        assert mine.seat("uttar-pradesh", "Bhadohi", day).history == theirs.seat(
            "uttar-pradesh", "Bhadohi", day
        ).history


def test_seat_is_refused_for_a_constituency_the_talks_do_not_list(
    run: Run, seats_2024: Path
) -> None:
    message = refused(run("seat", "uttar-pradesh", "Bhadoi"))
    assert "does not list 'Bhadoi'" in message and "did you mean Bhadohi?" in message


def test_history_items_carry_the_seats_a_move_named(run: Run, seats_2024: Path) -> None:
    moves = {m["id"]: m for m in as_json(run("history", "uttar-pradesh", "-f", "json"))}
    named = moves["up-bhadohi-to-tmc"]["named"]
    assert named == {"INC": ["Amethi", "Rae Bareli"], "TMC": ["Bhadohi"]}
    assert "named" not in moves["up-tmc-joins"]


def test_history_shows_bhadohi_going_from_sp_to_tmc_in_every_format(
    run: Run, seats_2024: Path
) -> None:
    moves = {m["id"]: m for m in as_json(run("history", "uttar-pradesh", "-f", "json"))}
    assert moves["up-bhadohi-to-tmc"]["seats_given"] == [
        {"constituency": "Bhadohi", "from": "SP", "to": "TMC"}
    ]
    assert "seats_given" not in moves["up-deal"]  # on the table already: only the status changed
    assert [s["to"] for s in moves["up-sp-offers"]["seats_given"]] == ["INC", "INC", "SP"]
    cell = "SP -1 · TMC +1; Bhadohi: SP → TMC"
    table = ok(run("history", "uttar-pradesh", "--wide")).stdout
    assert " ".join(table.split()).count("Bhadohi: SP → TMC") == 1
    markdown = ok(run("history", "uttar-pradesh", "-f", "markdown")).stdout
    assert f"| {cell} |" in next(line for line in markdown.splitlines() if "up-bhadohi" in line)
    rows = list(
        csv.DictReader(ok(run("history", "uttar-pradesh", "-f", "csv")).stdout.splitlines())
    )
    assert {r["id"]: r["seats_moved"] for r in rows}["up-bhadohi-to-tmc"] == cell
