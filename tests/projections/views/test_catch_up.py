"""The views answer the INDIA bloc example's well-known facts, and agree with replay."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from ledger.domain.errors import NotFoundError
from projections import reference
from projections.api import LedgerViews


def test_up_shows_sp_63_inc_17_agreed_when_asked_on_the_day_of_the_deal(
    example_ledger: str,
) -> None:
    view = LedgerViews(example_ledger).split("uttar-pradesh", as_of=date(2024, 2, 21))
    assert view.to_json() == {
        "negotiation": "uttar-pradesh",
        "region": "Uttar Pradesh",
        "seats": 80,
        "as_of": "2024-02-21",
        "known_on": None,
        "status": "agreed",
        "split": {"SP": 63, "INC": 17},
        "unallocated": 0,
        "by": None,
        "named": {},
        "settled": {},
    }
    assert view == reference.replay_split(example_ledger, "uttar-pradesh", as_of=date(2024, 2, 21))


def test_up_shows_sp_final_offer_on_the_table_when_asked_the_day_before(
    example_ledger: str,
) -> None:
    view = LedgerViews(example_ledger).split("uttar-pradesh", as_of=date(2024, 2, 20))
    assert (view.status, view.split, view.by) == ("negotiating", {"SP": 63, "INC": 17}, "SP")


def test_up_shows_the_corrected_sp_offer_when_asked_before_congress_countered(
    example_ledger: str,
) -> None:
    view = LedgerViews(example_ledger).split("uttar-pradesh", as_of=date(2024, 1, 30))
    assert (view.split, view.unallocated, view.by) == ({"SP": 62, "INC": 11}, 7, "SP")


def test_west_bengal_shows_no_deal_when_asked_after_tmc_went_alone(example_ledger: str) -> None:
    views = LedgerViews(example_ledger)
    before = views.split("west-bengal", as_of=date(2024, 1, 23))
    after = views.split("west-bengal", as_of=date(2024, 1, 25))
    assert (before.status, before.split, before.by) == ("negotiating", {}, None)
    assert (after.status, after.split, after.unallocated) == ("no_deal", {}, 42)
    assert views.split("west-bengal").status == "no_deal"


def test_rollup_sums_only_agreed_talks_when_asked_on_a_date(example_ledger: str) -> None:
    views = LedgerViews(example_ledger)
    rollup = views.rollup(as_of=date(2024, 2, 24))
    # Uttar Pradesh, Delhi, Gujarat and Haryana were agreed; Bihar and Maharashtra were not.
    assert rollup.parties == {"SP": 63, "INC": 17 + 3 + 24 + 9, "AAP": 4 + 2 + 1}
    statuses = {view.negotiation: view.status for view in rollup.negotiations}
    assert statuses["bihar"] == "negotiating"
    assert statuses["west-bengal"] == "no_deal"
    assert rollup.to_json() == {"as_of": "2024-02-24", "known_on": None, "parties": rollup.parties}
    assert rollup == reference.replay_rollup(example_ledger, as_of=date(2024, 2, 24))


def test_rollup_counts_bihar_after_rjd_ceded_three_seats_when_asked_at_the_end(
    example_ledger: str,
) -> None:
    rollup = LedgerViews(example_ledger).rollup()
    assert rollup.parties["RJD"] == 23
    assert rollup.parties["INC"] == 17 + 3 + 24 + 9 + 9 + 17


def test_views_match_replay_every_nine_days_when_the_example_is_imported(
    example_ledger: str,
) -> None:
    views = LedgerViews(example_ledger)
    slugs = views.negotiations()
    assert len(slugs) == 7
    day = date(2023, 7, 1)
    while day <= date(2024, 5, 1):
        assert views.splits(day) == reference.replay_splits(example_ledger, day)
        assert views.rollup(day) == reference.replay_rollup(example_ledger, day)
        assert views.history(None, day) == reference.replay_history(example_ledger, None, day)
        for slug in slugs:
            assert views.history(slug, day) == reference.replay_history(example_ledger, slug, day)
        day += timedelta(days=9)
    for slug in slugs:
        assert views.positions(slug) == reference.replay_positions(example_ledger, slug)


def test_splits_leave_out_talks_not_yet_open_when_asked_early(example_ledger: str) -> None:
    names = [view.negotiation for view in LedgerViews(example_ledger).splits(date(2024, 1, 7))]
    assert names == ["bihar", "west-bengal"]


def test_split_refuses_when_the_negotiation_is_unknown(example_ledger: str) -> None:
    with pytest.raises(NotFoundError, match="no negotiation 'kerala'"):
        LedgerViews(example_ledger).split("kerala")
    with pytest.raises(NotFoundError, match="no negotiation 'kerala'"):
        reference.replay_split(example_ledger, "kerala")


def test_split_refuses_when_the_talks_had_not_opened_by_that_date(example_ledger: str) -> None:
    with pytest.raises(NotFoundError, match="had not opened by 2024-01-01"):
        LedgerViews(example_ledger).split("uttar-pradesh", as_of=date(2024, 1, 1))
    with pytest.raises(NotFoundError, match="had not opened by 2024-01-01"):
        reference.replay_split(example_ledger, "uttar-pradesh", as_of=date(2024, 1, 1))


def test_history_shows_each_move_with_seats_moved_when_sp_counters_congress(
    example_ledger: str,
) -> None:
    moves = {m.id: m for m in LedgerViews(example_ledger).history("uttar-pradesh")}
    assert moves["up-sp-final-offer-17"].seats_moved == {"SP": 63, "INC": -8}
    assert moves["up-sp-final-offer-17"].by == "SP"
    assert moves["up-sp-offers-11"].split == {"SP": 69, "INC": 11}  # as first recorded
    assert moves["up-sp-offers-11"].corrected_by == ("up-sp-offer-split-corrected",)
    fix = moves["up-sp-offer-split-corrected"]
    assert (fix.type, fix.corrects, fix.split, fix.seats_moved) == (
        "correction",
        "up-sp-offers-11",
        {"SP": 62, "INC": 11},
        {"SP": -7},
    )
    assert fix.to_json()["corrects"] == "up-sp-offers-11"
    assert "jdu-leaves-india-bloc@uttar-pradesh" not in moves  # mirrors are not rows


def test_history_of_everything_includes_alliance_moves_when_no_negotiation_is_named(
    example_ledger: str,
) -> None:
    moves = {m.id: m for m in LedgerViews(example_ledger).history(None)}
    assert moves["jdu-leaves-india-bloc"].negotiation is None
    assert moves["jdu-leaves-india-bloc"].by == "JDU"
    assert moves["india-bloc/formed"].type == "alliance_formed"
    assert moves["uttar-pradesh/opened"].type == "opened"
    assert not any("@" in move_id for move_id in moves)
    assert set(moves["up-agreement"].to_json()) == {
        "id", "type", "on", "recorded_at", "recorded_by", "by", "split", "source", "note",
        "confidence", "negotiation", "seats_moved",
    }  # fmt: skip


def test_positions_show_each_partys_latest_split_when_bihar_is_asked(example_ledger: str) -> None:
    positions = LedgerViews(example_ledger).positions("bihar", as_of=date(2024, 3, 13))
    assert positions["INC"] == {"INC": 15}
    assert positions["JDU"] == {"JDU": 16, "RJD": 16}
