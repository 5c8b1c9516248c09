"""Seats moved follow the valid-time story as known on K, whatever order the facts arrived in."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from unittest.mock import patch

import pytest

from ledger.application import NegotiationLedger
from ledger.persistence.engine import get_engine, write_transaction
from ledger.timeline.document import (
    AgreementSpec,
    AnyMove,
    CorrectionSpec,
    CounterOfferSpec,
    NegotiationSpec,
    PartySpecMove,
    ProposalSpec,
)
from ledger.timeline.export import dump_timeline, export_timeline
from ledger.timeline.importer import import_timeline
from ledger.timeline.parsing import parse_timeline
from projections import reference
from projections.api import LedgerViews
from tests.projections.views.test_views_match_replay import _dump
from tests.support.example import record_example

JH = "jharkhand-2024"


def at(month: int, day: int) -> datetime:
    return datetime(2024, month, day, 12, tzinfo=UTC)


def record(app: NegotiationLedger, when: datetime, spec: AnyMove) -> None:
    with patch("ledger.domain.aggregate.now", lambda: when):
        app.record(spec)


def moved(url: str, negotiation: str, known_on: date | None = None) -> dict[str, object]:
    """Each move's seats moved in the history as known on K; the same by replay."""
    views = LedgerViews(url).history(negotiation, known_on=known_on)
    assert views == reference.replay_history(url, negotiation, known_on=known_on)
    return {view.id: view.seats_moved for view in views}


@pytest.fixture
def jharkhand(db_url: str) -> str:
    """JMM offers, RJD asks for a second seat; then JMM's offer is corrected, then a late INC ask.

    Recorded in this order: the offer (INC 6) on 20 Jan, RJD's counter on 1 Feb, the
    correction of the offer (INC 7) on 5 Feb, and on 8 Feb INC's ask of 15 January.
    """
    app = NegotiationLedger(db_url, recorded_by="analyst")
    opening = NegotiationSpec(
        id=JH, region="Jharkhand", seats=14, parties=["JMM", "INC", "RJD", "CPIML"],
        opened_on=date(2024, 1, 10),
    )  # fmt: skip
    with patch("ledger.domain.aggregate.now", lambda: at(1, 10)):
        app.open(opening)
    offer = {"JMM": 5, "INC": 6, "RJD": 1, "CPIML": 1}
    record(app, at(1, 20), ProposalSpec(
        type="proposal", id="jh-jmm-offer", negotiation=JH, on=date(2024, 1, 20), by="JMM",
        split=offer,
    ))  # fmt: skip
    record(app, at(2, 1), CounterOfferSpec(
        type="counter_offer", id="jh-rjd-wants-2", negotiation=JH, on=date(2024, 2, 1),
        by="RJD", in_reply_to="jh-jmm-offer", split={**offer, "RJD": 2},
    ))  # fmt: skip
    record(app, at(2, 5), CorrectionSpec(
        type="correction", id="jh-offer-fixed", of="jh-jmm-offer", split={**offer, "INC": 7},
    ))  # fmt: skip
    record(app, at(2, 8), ProposalSpec(
        type="proposal", id="jh-inc-asks", negotiation=JH, on=date(2024, 1, 15), by="INC",
        split={"INC": 7},
    ))  # fmt: skip
    return db_url


def test_a_later_move_is_measured_against_the_corrected_offer_when_an_offer_is_corrected(
    jharkhand: str,
) -> None:
    assert moved(jharkhand, JH)["jh-rjd-wants-2"] == {"INC": -1, "RJD": 1}
    assert moved(jharkhand, JH, known_on=date(2024, 2, 3))["jh-rjd-wants-2"] == {"RJD": 1}


def test_a_move_is_measured_against_a_late_fact_dated_before_it_when_the_fact_arrives_later(
    jharkhand: str,
) -> None:
    now = moved(jharkhand, JH)
    assert now["jh-jmm-offer"] == {"JMM": 5, "RJD": 1, "CPIML": 1}  # INC already asked for 7
    assert now["jh-inc-asks"] == {"INC": 7}
    before_the_late_fact = moved(jharkhand, JH, known_on=date(2024, 2, 6))
    assert before_the_late_fact["jh-jmm-offer"] == {"JMM": 5, "INC": 7, "RJD": 1, "CPIML": 1}
    assert "jh-inc-asks" not in before_the_late_fact


def test_a_correction_keeps_what_it_changed_when_later_facts_arrive(jharkhand: str) -> None:
    assert moved(jharkhand, JH)["jh-offer-fixed"] == {"INC": 1}


def test_seats_moved_are_the_same_after_export_and_import_when_facts_came_late(
    jharkhand: str, tmp_path: Path
) -> None:
    text = dump_timeline(export_timeline(NegotiationLedger(jharkhand)))
    copy = f"sqlite:///{tmp_path / 'copy.db'}"
    import_timeline(NegotiationLedger(copy, recorded_by="restorer"), parse_timeline(text))
    assert moved(copy, JH) == moved(jharkhand, JH)


def test_congress_counter_takes_62_from_sp_when_sp_offer_was_corrected_to_62(db_url: str) -> None:
    record_example(db_url)
    up = moved(db_url, "uttar-pradesh")
    assert up["up-inc-seeks-25"] == {"INC": 14, "SP": -62}
    assert up["up-sp-offers-11"] == {"SP": 62, "INC": 11}  # the offer as the story holds it


def test_a_retracted_move_moved_no_seats_when_known_after_its_retraction(jharkhand: str) -> None:
    app = NegotiationLedger(jharkhand, recorded_by="analyst")
    record(
        app,
        at(2, 9),
        CorrectionSpec(type="correction", id="no-ask", of="jh-inc-asks", retract=True),
    )
    now = moved(jharkhand, JH)
    assert now["jh-inc-asks"] is None
    assert now["jh-jmm-offer"] == {"JMM": 5, "INC": 7, "RJD": 1, "CPIML": 1}


def test_views_built_before_seats_moved_were_derived_are_rebuilt_when_opened(
    jharkhand: str,
) -> None:
    views = LedgerViews(jharkhand)
    views.catch_up()
    derived = _dump(jharkhand)
    with write_transaction(get_engine(jharkhand)) as conn:
        # The view tables as an older version left them: no seats-moved table.
        conn.exec_driver_sql("DROP TABLE seatledger_view_moved")
    assert moved(jharkhand, JH)["jh-rjd-wants-2"] == {"INC": -1, "RJD": 1}
    assert _dump(jharkhand) == derived


def test_views_whose_columns_differ_from_this_versions_are_rebuilt_when_opened(
    jharkhand: str,
) -> None:
    # Opening ready views is one catalog read; a table with other columns is not ready.
    views = LedgerViews(jharkhand)
    views.catch_up()
    derived = _dump(jharkhand)
    engine = get_engine(jharkhand)
    with write_transaction(engine) as conn:
        conn.exec_driver_sql("ALTER TABLE seatledger_view_moves ADD COLUMN stale TEXT")
    assert moved(jharkhand, JH)["jh-rjd-wants-2"] == {"INC": -1, "RJD": 1}
    assert _dump(jharkhand) == derived
    with write_transaction(engine) as conn:
        columns = conn.exec_driver_sql("SELECT * FROM seatledger_view_moves").keys()
    assert "stale" not in columns


def test_history_shows_the_seats_given_back_when_a_party_walks_out_after_the_agreement(
    jharkhand: str,
) -> None:
    app = NegotiationLedger(jharkhand, recorded_by="analyst")
    deal = {"JMM": 5, "INC": 7, "RJD": 1, "CPIML": 1}
    agreed = AgreementSpec(
        type="agreement", id="jh-deal", negotiation=JH, on=date(2024, 2, 20), split=deal
    )
    record(app, at(2, 20), agreed)
    walkout = PartySpecMove(
        type="party_withdrew", id="jh-cpiml-out", negotiation=JH, on=date(2024, 3, 2),
        party="CPIML",
    )  # fmt: skip
    record(app, at(3, 2), walkout)
    assert moved(jharkhand, JH)["jh-cpiml-out"] == {"CPIML": -1}
    split = LedgerViews(jharkhand).split(JH)
    assert (split.status, split.split, split.unallocated) == (
        "agreed", {"JMM": 5, "INC": 7, "RJD": 1}, 1,
    )  # fmt: skip


BLOC = """
format: seatledger/timeline@1
alliance: {id: india-bloc, members: [RJD, JDU, INC], formed_on: 2023-07-18}
parties: [{code: RJD}, {code: JDU}, {code: INC}]
negotiations:
  - {id: bihar, seats: 40, parties: [RJD, JDU, INC], opened_on: 2024-01-05}
  - {id: jharkhand, seats: 14, parties: [JDU, INC], opened_on: 2024-01-06}
moves:
  - {id: bihar-deal, negotiation: bihar, type: agreement, "on": 2024-01-20,
     split: {RJD: 16, JDU: 16, INC: 8}}
  - {id: jh-deal, negotiation: jharkhand, type: agreement, "on": 2024-01-21,
     split: {JDU: 1, INC: 13}}
  - {id: jdu-leaves, type: party_left_alliance, party: JDU, "on": 2024-01-28}
"""


def test_the_alliance_move_shows_every_seat_given_back_when_a_party_leaves_after_deals(
    db_url: str,
) -> None:
    import_timeline(NegotiationLedger(db_url, recorded_by="analyst"), parse_timeline(BLOC))
    views = LedgerViews(db_url)
    everything = views.history(None)
    assert everything == reference.replay_history(db_url, None)
    assert {m.id: m.seats_moved for m in everything}["jdu-leaves"] == {"JDU": -17}
    bihar = views.split("bihar")
    assert (bihar.status, bihar.split, bihar.unallocated) == ("agreed", {"RJD": 16, "INC": 8}, 16)
    before = views.split("bihar", as_of=date(2024, 1, 27))
    assert before.split == {"RJD": 16, "JDU": 16, "INC": 8}
