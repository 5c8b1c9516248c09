"""Recorded time comes from the clock when a move is recorded; freezegun pins it."""

from __future__ import annotations

from datetime import UTC, date, datetime

from freezegun import freeze_time

from ledger.application import NegotiationLedger
from ledger.timeline.document import CorrectionSpec, NegotiationSpec, ProposalSpec
from projections.api import LedgerViews
from projections.reference import replay_split

# TrackingRecorder.wait() would spin under a frozen clock; nothing here waits, but keep the
# library's persistence module on the real clock as the stack's known facts advise.
IGNORE = ["eventsourcing.persistence"]


def sp_offer_then_its_correction(db_url: str) -> NegotiationLedger:
    """SP's offer recorded on 28 January 2024, its split corrected on 3 February."""
    app = NegotiationLedger(db_url, recorded_by="analyst")
    with freeze_time("2024-01-28 09:00:00", ignore=IGNORE):
        app.open(
            NegotiationSpec(id="up", seats=80, parties=["SP", "INC"], opened_on=date(2024, 1, 9))
        )
        app.record(
            ProposalSpec(
                type="proposal",
                id="sp-11",
                negotiation="up",
                on=date(2024, 1, 27),
                by="SP",
                split={"SP": 69, "INC": 11},
            )
        )
    with freeze_time("2024-02-03 18:30:00", ignore=IGNORE):
        app.record(
            CorrectionSpec(
                type="correction", id="fix-sp-11", of="sp-11", split={"SP": 62, "INC": 11}
            )
        )
    return app


def test_recorded_at_is_the_clock_when_sp_offer_was_recorded(db_url: str) -> None:
    app = sp_offer_then_its_correction(db_url)
    history = {m.id: m for m in LedgerViews(db_url).history("up")}
    assert history["sp-11"].to_json()["recorded_at"].startswith("2024-01-28T09:00:00")
    assert history["fix-sp-11"].to_json()["recorded_at"].startswith("2024-02-03T18:30:00")
    events = list(app.events.get(app.negotiation("up").id))
    assert [e.timestamp for e in events][-1] == datetime(2024, 2, 3, 18, 30, tzinfo=UTC)


def test_view_as_known_before_a_correction_shows_the_original_split(db_url: str) -> None:
    sp_offer_then_its_correction(db_url)
    views = LedgerViews(db_url)
    before, after = date(2024, 2, 1), date(2024, 2, 4)
    assert views.split("up", known_on=before).split == {"SP": 69, "INC": 11}
    assert views.split("up", known_on=after).split == {"SP": 62, "INC": 11}
    assert replay_split(db_url, "up", known_on=before).split == {"SP": 69, "INC": 11}
