"""The named seats a move gave and took follow the story as known on K, like its seat counts."""

from __future__ import annotations

from datetime import date
from unittest.mock import patch

import pytest

from ledger.application import NegotiationLedger
from ledger.timeline.document import (
    AgreementSpec,
    CorrectionSpec,
    CounterOfferSpec,
    NegotiationSpec,
    ProposalSpec,
)
from projections import reference
from projections.api import LedgerViews
from tests.projections.views.test_seats_moved import at, record
from tests.support.seat_talks import DELHI

AGREED = {
    "AAP": ["New Delhi", "West Delhi", "South Delhi", "East Delhi"],
    "INC": ["Chandni Chowk", "North East Delhi", "North West Delhi"],
}


def given(
    url: str, known_on: date | None = None
) -> dict[str, list[tuple[str, str | None, str | None]]]:
    """Each Delhi move's seats given as known on K (views and replay agree)."""
    views = LedgerViews(url).history("delhi", known_on=known_on)
    assert views == reference.replay_history(url, "delhi", known_on=known_on)
    return {view.id: list(view.seats_given) for view in views}


@pytest.fixture
def delhi(db_url: str) -> str:
    """AAP offers Congress 1 seat naming Chandni Chowk as its own; the 4/3 deal gives it to
    Congress. Recorded later: on 26 Feb the offer is corrected to name New Delhi only; on
    28 Feb Congress's counter of 20 Feb, claiming Chandni Chowk, arrives late."""
    app = NegotiationLedger(db_url, recorded_by="analyst")
    opening = NegotiationSpec(
        id="delhi", region="Delhi", seats=7, parties=["AAP", "INC"], opened_on=date(2024, 2, 1),
        constituencies=DELHI,
    )  # fmt: skip
    with patch("ledger.domain.aggregate.now", lambda: at(2, 1)):
        app.open(opening)
    record(app, at(2, 13), ProposalSpec(
        type="proposal", id="aap-offers-1", negotiation="delhi", on=date(2024, 2, 13), by="AAP",
        split={"AAP": {"seats": 6, "named": ["New Delhi", "Chandni Chowk"]}, "INC": 1},
    ))  # fmt: skip
    record(app, at(2, 24), AgreementSpec(
        type="agreement", id="delhi-deal", negotiation="delhi", on=date(2024, 2, 24), split=AGREED,
    ))  # fmt: skip
    record(app, at(2, 26), CorrectionSpec(
        type="correction", id="offer-fixed", of="aap-offers-1",
        split={"AAP": {"seats": 6, "named": ["New Delhi"]}, "INC": 1},
    ))  # fmt: skip
    record(app, at(2, 28), CounterOfferSpec(
        type="counter_offer", id="inc-wants-chandni-chowk", negotiation="delhi",
        on=date(2024, 2, 20), by="INC", in_reply_to="aap-offers-1",
        split={"AAP": 4, "INC": {"seats": 3, "named": ["Chandni Chowk"]}},
    ))  # fmt: skip
    return db_url


def test_the_deal_gives_chandni_chowk_from_aap_to_congress_when_aap_had_named_it(
    delhi: str,
) -> None:
    before = given(delhi, known_on=date(2024, 2, 25))
    assert before["aap-offers-1"] == [("Chandni Chowk", None, "AAP"), ("New Delhi", None, "AAP")]
    deal = before["delhi-deal"]
    assert ("Chandni Chowk", "AAP", "INC") in deal
    assert [name for name, _, _ in deal] == [n for n in DELHI if n != "New Delhi"]


def test_the_deal_gives_chandni_chowk_from_no_one_when_the_offer_is_corrected(
    delhi: str,
) -> None:
    deal = given(delhi, known_on=date(2024, 2, 27))["delhi-deal"]
    assert ("Chandni Chowk", None, "INC") in deal and len(deal) == 6


def test_the_deal_no_longer_gives_chandni_chowk_when_congress_claimed_it_earlier(
    delhi: str,
) -> None:
    now = given(delhi)
    assert now["inc-wants-chandni-chowk"] == [
        ("Chandni Chowk", None, "INC"), ("New Delhi", "AAP", None),
    ]  # fmt: skip
    assert [name for name, _, _ in now["delhi-deal"]] == [
        "North East Delhi", "East Delhi", "New Delhi", "North West Delhi", "West Delhi",
        "South Delhi",
    ]  # fmt: skip


def test_a_move_that_changes_no_holder_gives_no_seats(delhi: str) -> None:
    assert given(delhi)["offer-fixed"] == []  # a correction shows its counts only
