"""Late facts and corrections: the past of the recorded axis is never rewritten."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from unittest.mock import patch

import pytest

from ledger.application import NegotiationLedger
from ledger.timeline.document import (
    AnyMove,
    CorrectionSpec,
    CounterOfferSpec,
    MeetingSpec,
    NegotiationSpec,
    ProposalSpec,
)
from projections import reference
from projections.api import LedgerViews

UP = "uttar-pradesh"


@contextmanager
def recorded_on(when: datetime) -> Iterator[None]:
    """Pin the ledger's transaction clock: what is recorded now is recorded at `when`."""
    with patch("ledger.domain.aggregate.now", lambda: when):
        yield


def at(month: int, day: int, hour: int = 12) -> datetime:
    return datetime(2024, month, day, hour, tzinfo=UTC)


def record(app: NegotiationLedger, when: datetime, spec: AnyMove) -> None:
    with recorded_on(when):
        app.record(spec)


@pytest.fixture
def talks(db_url: str) -> NegotiationLedger:
    """Uttar Pradesh talks opened on 9 January, recorded that day; SP offers 11 on 27 January."""
    app = NegotiationLedger(db_url, recorded_by="analyst")
    opening = NegotiationSpec(
        id=UP, region="Uttar Pradesh", seats=80, parties=["SP", "INC"], opened_on=date(2024, 1, 9)
    )
    with recorded_on(at(1, 9)):
        app.open(opening)
    offer = ProposalSpec(
        type="proposal", id="sp-offers-11", negotiation=UP, on=date(2024, 1, 27), by="SP",
        split={"SP": 69, "INC": 11},
    )  # fmt: skip
    record(app, at(1, 27), offer)
    return app


def _correct_sp_offer(app: NegotiationLedger) -> None:
    fix = CorrectionSpec(
        type="correction", id="sp-offer-fixed", of="sp-offers-11", split={"SP": 62, "INC": 11}
    )
    record(app, at(2, 2), fix)


def test_known_on_before_a_correction_shows_the_original_split(talks: NegotiationLedger) -> None:
    _correct_sp_offer(talks)
    views = LedgerViews(talks.url)
    then = views.split(UP, as_of=date(2024, 1, 30), known_on=date(2024, 1, 31))
    now = views.split(UP, as_of=date(2024, 1, 30), known_on=date(2024, 2, 3))
    assert then.split == {"SP": 69, "INC": 11}
    assert now.split == {"SP": 62, "INC": 11}
    assert then.to_json()["known_on"] == "2024-01-31"
    assert then == reference.replay_split(talks.url, UP, date(2024, 1, 30), date(2024, 1, 31))
    assert now == reference.replay_split(talks.url, UP, date(2024, 1, 30), date(2024, 2, 3))


def test_history_hides_a_correction_when_known_on_a_date_before_it(
    talks: NegotiationLedger,
) -> None:
    _correct_sp_offer(talks)
    views = LedgerViews(talks.url)
    before = {m.id: m for m in views.history(UP, known_on=date(2024, 1, 31))}
    after = {m.id: m for m in views.history(UP, known_on=date(2024, 2, 3))}
    assert "sp-offer-fixed" not in before
    assert before["sp-offers-11"].corrected_by == ()
    assert before["sp-offers-11"].split == {"SP": 69, "INC": 11}
    assert after["sp-offers-11"].corrected_by == ("sp-offer-fixed",)
    assert after["sp-offers-11"].split == {"SP": 69, "INC": 11}  # shown as recorded
    assert after["sp-offer-fixed"].split == {"SP": 62, "INC": 11}
    assert list(before.values()) == reference.replay_history(talks.url, UP, None, date(2024, 1, 31))


def test_a_known_on_instant_includes_what_was_recorded_at_exactly_that_instant(
    talks: NegotiationLedger,
) -> None:
    _correct_sp_offer(talks)
    views = LedgerViews(talks.url)
    assert views.split(UP, known_on=at(2, 2)).split == {"SP": 62, "INC": 11}
    assert views.split(UP, known_on=at(2, 2).replace(microsecond=0, second=0, hour=11)).split == {
        "SP": 69,
        "INC": 11,
    }


def test_late_fact_changes_the_past_only_as_known_after_it_was_recorded(
    talks: NegotiationLedger,
) -> None:
    meeting = MeetingSpec(
        type="meeting", id="talks-in-lucknow", negotiation=UP, on=date(2024, 2, 10),
        parties=["SP", "INC"],
    )  # fmt: skip
    record(talks, at(2, 10), meeting)
    late = CounterOfferSpec(
        type="counter_offer", id="inc-seeks-25", negotiation=UP, on=date(2024, 2, 6), by="INC",
        split={"INC": 25},
    )  # fmt: skip
    record(talks, at(2, 20), late)  # Congress's demand of 6 February, learnt on 20 February
    views = LedgerViews(talks.url)
    then = views.split(UP, as_of=date(2024, 2, 12), known_on=date(2024, 2, 15))
    now = views.split(UP, as_of=date(2024, 2, 12), known_on=date(2024, 2, 21))
    assert (then.split, then.by) == ({"SP": 69, "INC": 11}, "SP")
    assert (now.split, now.by) == ({"INC": 25}, "INC")
    assert views.positions(UP, date(2024, 2, 12), date(2024, 2, 21))["INC"] == {"INC": 25}
    assert "INC" not in views.positions(UP, date(2024, 2, 12), date(2024, 2, 15))
    for known_on in (date(2024, 2, 15), date(2024, 2, 21), None):
        for as_of in (date(2024, 2, 5), date(2024, 2, 7), date(2024, 2, 11), None):
            replayed = reference.replay_splits(talks.url, as_of, known_on)
            assert views.splits(as_of, known_on) == replayed


def test_talks_recorded_after_k_are_unknown_when_asked_as_known_on_k(
    talks: NegotiationLedger,
) -> None:
    views = LedgerViews(talks.url)
    assert views.splits(known_on=date(2024, 1, 8)) == []
    with pytest.raises(LookupError, match="as known on 2024-01-08"):
        views.history(UP, known_on=date(2024, 1, 8))
    assert [m.id for m in views.history(UP, known_on=date(2024, 1, 9))] == [f"{UP}/opened"]
