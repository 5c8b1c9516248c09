"""A file whose later moves hold only once its corrections apply still imports (export order)."""

from __future__ import annotations

import pytest

from ledger.application import NegotiationLedger
from ledger.domain.errors import MoveRefusedError
from ledger.timeline.importer import import_timeline
from ledger.timeline.parsing import parse_timeline
from projections.api import LedgerViews

# RLD's walk-out was recorded, then retracted; RLD's later offer holds only without it.
# An export lists moves in recording order and corrections last, as here.
FILE = """
format: seatledger/timeline@1
parties: [{code: SP}, {code: INC}, {code: RLD}]
negotiations:
  - {id: uttar-pradesh, seats: 80, parties: [SP, INC, RLD], opened_on: 2024-01-09}
moves:
  - {id: rld-walks, negotiation: uttar-pradesh, type: party_withdrew, "on": 2024-01-15, party: RLD}
  - {id: rld-offer, negotiation: uttar-pradesh, type: proposal, "on": 2024-01-20, by: RLD,
     split: {RLD: 7}}
  - {id: no-walkout, negotiation: uttar-pradesh, type: correction, of: rld-walks, retract: true}
"""


def test_later_move_imports_when_a_correction_in_the_file_makes_it_hold(db_url: str) -> None:
    app = NegotiationLedger(db_url, recorded_by="analyst")
    report = import_timeline(app, parse_timeline(FILE))
    assert report.recorded == 3
    view = LedgerViews(db_url).split("uttar-pradesh")
    assert (view.split, view.by) == ({"RLD": 7}, "RLD")
    assert app.negotiation("uttar-pradesh").retracted == {"rld-walks"}


def test_move_is_still_refused_when_no_correction_helps(db_url: str) -> None:
    app = NegotiationLedger(db_url, recorded_by="analyst")
    without = FILE.replace("retract: true", "note: typo")
    with pytest.raises(MoveRefusedError, match=r"'rld-offer'.*RLD is not at the"):
        import_timeline(app, parse_timeline(without))


# RLD's walk-out was first dated 25 January, then corrected to 12 January; the agreement of
# 20 January, recorded after the correction, holds only in the corrected story. An import
# records moves by date, so it must record the walk-out and its correction first.
MOVED_EARLIER = """
format: seatledger/timeline@1
parties: [{code: SP}, {code: INC}, {code: RLD}]
negotiations:
  - {id: uttar-pradesh, seats: 80, parties: [SP, INC, RLD], opened_on: 2024-01-09}
moves:
  - {id: rld-walks, negotiation: uttar-pradesh, type: party_withdrew, "on": 2024-01-25, party: RLD}
  - {id: sp-offer, negotiation: uttar-pradesh, type: proposal, "on": 2024-01-10, by: SP,
     split: {SP: 63, INC: 17}}
  - {id: deal, negotiation: uttar-pradesh, type: agreement, "on": 2024-01-20,
     split: {SP: 63, INC: 17}, signatories: [SP, INC]}
  - {id: walked-earlier, negotiation: uttar-pradesh, type: correction, of: rld-walks,
     "on": 2024-01-12}
"""


def test_move_imports_when_a_correction_moves_an_earlier_recorded_fact_before_it(
    db_url: str,
) -> None:
    app = NegotiationLedger(db_url, recorded_by="analyst")
    report = import_timeline(app, parse_timeline(MOVED_EARLIER))
    assert report.recorded == 4
    views = LedgerViews(db_url)
    assert views.split("uttar-pradesh").split == {"SP": 63, "INC": 17}
    rows = {row.id: row for row in views.history("uttar-pradesh")}
    assert rows["rld-walks"].corrected_by == ("walked-earlier",)
    assert rows["walked-earlier"].on.isoformat() == "2024-01-12"  # the corrected date
    assert rows["deal"].on.isoformat() == "2024-01-20"
