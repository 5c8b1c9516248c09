"""`order: recorded`: a file whose moves are taken in the order it lists them, as the ledger first
recorded them; a file without it keeps the contract's date order, unchanged."""

from __future__ import annotations

import pytest

from ledger.application import NegotiationLedger
from ledger.domain.errors import InputError, MoveRefusedError
from ledger.timeline.importer import import_timeline
from ledger.timeline.parsing import parse_timeline
from projections.api import LedgerViews

# C's offer named A; it was corrected to give C two seats; then A's departure from the
# alliance, dated before the offer, was recorded. The offer as first recorded held when it was
# recorded, and never in the story by date.
HEAD = """
format: seatledger/timeline@1
alliance: {id: bloc, members: [A, C, E], formed_on: 2024-01-01}
parties: [{code: A}, {code: C}, {code: E}]
negotiations:
  - {id: t1, seats: 10, parties: [A, C, E], opened_on: 2024-01-01}
"""
MOVES = """moves:
  - {id: m4, negotiation: t1, type: proposal, "on": 2024-02-15, by: C, split: {A: 7}}
  - {id: m4-fix, negotiation: t1, type: correction, of: m4, split: {C: 2}, reason: typo}
  - {id: a-leaves, type: party_left_alliance, "on": 2024-01-08, party: A}
"""


def test_a_file_in_recorded_order_takes_each_move_against_the_story_recorded_before_it(
    db_url: str,
) -> None:
    app = NegotiationLedger(db_url, recorded_by="analyst")
    report = import_timeline(app, parse_timeline(HEAD + "order: recorded\n" + MOVES))
    assert report.recorded == 3
    views = LedgerViews(db_url)
    assert (views.split("t1").split, views.split("t1").by) == ({"C": 2}, "C")
    rows = {row.id: row for row in views.history("t1")}
    assert rows["m4"].corrected_by == ("m4-fix",) and rows["m4"].split == {"A": 7}
    assert "A" not in app.negotiation("t1").state.at_table


def test_the_same_moves_without_order_are_read_by_date_as_the_contract_says(db_url: str) -> None:
    # By date, A left on 8 January, so the offer of 15 February may not name A.
    at_table = r"'m4' \(#1\): the split names A, which is not at the table"
    with pytest.raises(MoveRefusedError, match=at_table):
        import_timeline(NegotiationLedger(db_url), parse_timeline(HEAD + MOVES))
    with pytest.raises(MoveRefusedError, match=r"'m4' \(#1\)"):
        import_timeline(NegotiationLedger(db_url), parse_timeline(HEAD + "order: date\n" + MOVES))
    assert LedgerViews(db_url).negotiations() == []  # nothing written


def test_a_correction_listed_before_its_move_is_refused_in_recorded_order(db_url: str) -> None:
    first, fix, leaves = MOVES.splitlines()[1:]
    swapped = HEAD + "order: recorded\n" + "\n".join(["moves:", fix, first, leaves]) + "\n"
    with pytest.raises(MoveRefusedError, match=r"'m4-fix' \(#1\): it corrects 'm4', which the fil"):
        import_timeline(NegotiationLedger(db_url), parse_timeline(swapped))
    # By date, corrections come after every move wherever they stand: the contract's reading.
    leaves_first = "\n".join(["moves:", fix, leaves.replace("01-08", "02-20"), first]) + "\n"
    import_timeline(NegotiationLedger(db_url), parse_timeline(HEAD + leaves_first))
    assert LedgerViews(db_url).split("t1").split == {"C": 2}


def test_a_file_in_recorded_order_imports_again_as_unchanged(db_url: str) -> None:
    text = HEAD + "order: recorded\n" + MOVES
    import_timeline(NegotiationLedger(db_url), parse_timeline(text))
    again = import_timeline(NegotiationLedger(db_url), parse_timeline(text))
    assert (again.recorded, again.unchanged, again.events) == (0, 3, 0)


def test_an_unknown_order_is_refused_naming_the_field() -> None:
    with pytest.raises(InputError, match="order: should be 'date' or 'recorded'"):
        parse_timeline(HEAD + "order: sideways\n")


# C left the alliance on 1 January, corrected to 15 February, then retracted; talks with C
# opened on 15 January, after the correction: they copied the departure as corrected.
CORRECTED_BEFORE_OPENING = """
format: seatledger/timeline@1
alliance: {id: bloc, members: [A, C], formed_on: 2024-01-01}
parties: [{code: A}, {code: C}]
negotiations:
  - {id: t2, seats: 15, parties: [A, C], opened_on: 2024-01-15}
moves:
  - {id: m4, type: party_left_alliance, "on": 2024-01-01, party: C}
  - {id: m8, type: correction, of: m4, "on": 2024-02-15}
  - {id: m13, type: correction, of: m4, retract: true}
"""


@pytest.mark.parametrize("order", ["order: recorded\n", "", "order: date\n"])
def test_talks_a_departures_first_form_would_break_copy_it_as_corrected_in_either_order(
    db_url: str, order: str
) -> None:
    app = NegotiationLedger(db_url)
    import_timeline(app, parse_timeline(CORRECTED_BEFORE_OPENING + order))
    talks = app.negotiation("t2")
    assert str(talks.recorded["m4@t2"].on)[:10] == "2024-02-15"
    assert talks.corrections == {"m13@t2": "m4@t2"} and talks.retracted == {"m4@t2"}
    assert talks.state.at_table == {"A", "C"}
