"""A file with corrections is exported in the order every talk and alliance took its moves, also
for a ledger built by importing files (whose log lists each alliance's events first)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.application import NegotiationLedger
from ledger.domain.errors import MoveRefusedError
from ledger.domain.events import AllianceMembershipMirrored, MoveCorrected
from ledger.domain.negotiation import negotiation_id
from ledger.timeline.export import dump_timeline, export_timeline
from ledger.timeline.importer import import_timeline
from ledger.timeline.parsing import parse_timeline
from tests.ledger.timeline.test_export import assert_same_views

HEAD = """
format: seatledger/timeline@1
alliance: {id: bloc, members: [A, C, E], formed_on: 2024-01-01}
parties: [{code: A}, {code: C}, {code: E}]
negotiations:
  - {id: t1, seats: 10, parties: [A, C, E], opened_on: 2024-01-01}
"""


@pytest.fixture
def copies(tmp_path: Path) -> list[str]:
    return [f"sqlite:///{tmp_path / f'copy-{n}.db'}" for n in range(2)]


def round_trip(source: str, target: str) -> dict[str, object]:
    document = export_timeline(NegotiationLedger(source))
    restored = NegotiationLedger(target, recorded_by="restorer")
    import_timeline(restored, parse_timeline(dump_timeline(document)))
    assert_same_views(source, target)
    return document


def test_a_talk_that_took_an_alliance_correction_after_its_own_moves_keeps_that_order(
    db_url: str, copies: list[str]
) -> None:
    # By date: C's offer naming A (15 February) holds while A leaves on 1 March; C's offer is
    # corrected, then A's departure is moved to 1 February. The log lists the alliance's
    # departure and its correction before the talks' offer, but the talks took both after it.
    text = HEAD + """moves:
  - {id: a-leaves, type: party_left_alliance, "on": 2024-03-01, party: A}
  - {id: m4, negotiation: t1, type: proposal, "on": 2024-02-15, by: C, split: {A: 7}}
  - {id: m4-fix, negotiation: t1, type: correction, of: m4, split: {C: 2}}
  - {id: left-sooner, type: correction, of: a-leaves, "on": 2024-02-01}
"""
    import_timeline(NegotiationLedger(db_url), parse_timeline(text))
    document = round_trip(db_url, copies[0])
    assert document["order"] == "recorded"
    assert [m["id"] for m in document["moves"]] == ["m4", "a-leaves", "m4-fix", "left-sooner"]
    round_trip(copies[0], copies[1])  # and the copy's own export, in its turn


def test_a_ledger_whose_talks_took_an_alliance_correction_early_exports_by_date(
    db_url: str, copies: list[str]
) -> None:
    # By date, C's offer of 10 January needs C's walk-out retracted: the import applies the
    # file's corrections early in the talks, the alliance's too, while the alliance took its
    # correction after A rejoined. No one order agrees with both, so the file keeps the
    # contract's date order (corrections last), which imports the same way again.
    text = HEAD + """moves:
  - {id: a-leaves, type: party_left_alliance, "on": 2024-01-08, party: A}
  - {id: c-walks, negotiation: t1, type: party_withdrew, "on": 2024-01-05, party: C}
  - {id: c-offers, negotiation: t1, type: proposal, "on": 2024-01-10, by: C, split: {C: 3}}
  - {id: a-rejoins, type: party_joined_alliance, "on": 2024-01-25, party: A}
  - {id: c-stayed, negotiation: t1, type: correction, of: c-walks, retract: true}
  - {id: left-sooner, type: correction, of: a-leaves, "on": 2024-01-03}
"""
    import_timeline(NegotiationLedger(db_url), parse_timeline(text))
    document = round_trip(db_url, copies[0])
    assert "order" not in document
    assert [m["type"] for m in document["moves"]][-2:] == ["correction", "correction"]


def test_talks_opened_after_an_alliance_correction_take_the_corrected_move_on_import(
    db_url: str, copies: list[str], tmp_path: Path
) -> None:
    # C leaves on 1 January, corrected to 15 February; talks with C open on 15 January (C still
    # in), then the departure is retracted. The talks copied the departure as corrected: its
    # first form would break their opening, so the import opens them after the correction.
    from typer.testing import CliRunner

    from scripts.cli import app

    def run(url: str, *args: str) -> None:
        done = CliRunner().invoke(app, ["--db", url, *args])
        assert done.exit_code == 0, (args, done.output)

    for party in ("A", "C"):
        run(db_url, "parties", "add", party, "--name", party)
    run(db_url, "alliance", "form", "bloc", "--members", "A,C", "--on", "2024-01-01")
    run(db_url, "alliance", "leave", "bloc", "--party", "C", "--on", "2024-01-01", "--id", "m4")
    run(db_url, "correct", "m4", "--on", "2024-02-15", "--id", "m8")
    run(db_url, "open", "talks-2", "--seats", "15", "--parties", "A,C", "--on", "2024-01-15",
        "--alliance", "bloc")  # fmt: skip
    run(db_url, "correct", "m4", "--retract", "--id", "m13")
    exported = tmp_path / "r.yaml"
    run(db_url, "export", "-o", str(exported))
    assert "order: recorded" in exported.read_text(encoding="utf-8").splitlines()
    run(copies[0], "import", str(exported))
    assert_same_views(db_url, copies[0])
    assert copied(copies[0], "talks-2") == copied(db_url, "talks-2")
    round_trip(copies[0], copies[1])  # and the copy's own export, in its turn


def test_a_copy_that_breaks_the_talks_in_every_form_is_refused_naming_its_first_form(
    db_url: str,
) -> None:
    # E's departure breaks the opening (E at the table on 1 January) as first given and as
    # corrected: however late the talks opened, they could not have copied it.
    text = HEAD.replace("opened_on: 2024-01-01", "opened_on: 2024-01-05") + """moves:
  - {id: e-leaves, type: party_left_alliance, "on": 2024-01-02, party: E}
  - {id: e-fix, type: correction, of: e-leaves, "on": 2024-01-03}
order: recorded
"""
    with pytest.raises(MoveRefusedError, match=r"move 'e-leaves' \(#1\): e-leaves@t1 \(dated"):
        import_timeline(NegotiationLedger(db_url), parse_timeline(text))


def copied(url: str, slug: str) -> list[tuple[str, object, object]]:
    """The talks' copies of alliance moves and corrections: (id, date, corrected move)."""
    ledger = NegotiationLedger(url)
    events = [
        ledger.mapper.to_domain_event(stored)
        for stored in ledger.recorder.select_events(negotiation_id(slug))
    ]
    return [
        (event.move_id, getattr(event, "occurred_on", None), getattr(event, "of", None))
        for event in events
        if isinstance(event, AllianceMembershipMirrored | MoveCorrected)
    ]
