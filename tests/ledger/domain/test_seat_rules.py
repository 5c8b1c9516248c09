"""Every seat-level rule of timeline@2, each fed the move that breaks it; and what holds."""

from __future__ import annotations

from datetime import date

import pytest

from ledger.domain import moves as k
from ledger.domain import rules
from ledger.domain.errors import (
    AgreementStateError,
    ConstituencyNamedTwiceError,
    ConstituencyNameError,
    DuplicateConstituencyError,
    LateMoveConflictError,
    NamedSeatsError,
    PactSignatoriesError,
    SettledSeatError,
    SettledShareError,
    ShareAlreadySettledError,
    SplitError,
    TooManyConstituenciesError,
    UnknownConstituencyError,
)
from ledger.domain.moves import Move
from ledger.domain.state import NegotiationState
from tests.support.seat_talks import (
    DELHI,
    add_names,
    amend_to,
    counter_offer,
    delhi,
    fix_split,
    holders,
    offer,
    settle,
    sign,
    tamil_nadu,
)
from tests.support.talks import end_talks, walk_out

# -- constituency lists --------------------------------------------------------------


def test_opening_is_refused_when_it_lists_more_constituencies_than_seats() -> None:
    with pytest.raises(TooManyConstituenciesError, match=r"8 constituencies listed.*only 7"):
        delhi(names=[*DELHI, "Gurgaon"])


def test_opening_is_refused_when_it_lists_new_delhi_twice_in_other_cases() -> None:
    with pytest.raises(DuplicateConstituencyError, match="new delhi is listed twice"):
        delhi(names=["New Delhi", " new delhi "])


def test_adding_names_is_refused_when_one_is_listed_already() -> None:
    talks = delhi(names=["New Delhi"])
    with pytest.raises(DuplicateConstituencyError, match="NEW DELHI is listed twice"):
        add_names(talks, "02-10", "West Delhi", "NEW DELHI")


def test_adding_names_is_refused_when_the_list_outgrows_the_pool() -> None:
    talks = delhi(names=DELHI[:6])
    with pytest.raises(TooManyConstituenciesError, match=r"8 constituencies.*Narela"):
        add_names(talks, "02-10", "South Delhi", "Narela")


def test_a_name_with_a_semicolon_is_refused_by_the_rules_too() -> None:
    opened = Move(
        "delhi/opened", k.OPENED, date(2024, 2, 1), 1, parties=("AAP",), seats=7,
        names=("New Delhi;West Delhi",),
    )  # fmt: skip
    with pytest.raises(ConstituencyNameError, match="not a constituency name"):
        rules.apply(NegotiationState(negotiation="delhi"), opened)


def test_added_names_stand_after_the_opening_list_in_their_own_spelling() -> None:
    talks = delhi(names=["New Delhi"])
    add_names(talks, "02-10", " West Delhi ")
    assert talks.state.seating.listed == ("New Delhi", "West Delhi")


# -- named seats ---------------------------------------------------------------------


def test_a_share_is_refused_when_it_names_a_seat_not_listed() -> None:
    talks = delhi()
    with pytest.raises(UnknownConstituencyError, match="AAP's share names Gurgaon"):
        offer(talks, "AAP", "02-10", {"AAP": ["New Delhi", "Gurgaon"]})


def test_a_split_is_refused_when_it_names_new_delhi_for_two_parties() -> None:
    talks = delhi()
    with pytest.raises(ConstituencyNamedTwiceError, match="New Delhi for both AAP and INC"):
        offer(talks, "AAP", "02-10", {"AAP": ["New Delhi"], "INC": ["new delhi"]})


def test_a_share_is_refused_when_it_names_more_seats_than_it_has() -> None:
    talks = delhi()
    with pytest.raises(NamedSeatsError, match=r"INC's share names 2.*has 1 seat"):
        offer(talks, "AAP", "02-10", {"AAP": 4, "INC": (1, ["Chandni Chowk", "East Delhi"])})


def test_named_seats_are_kept_in_list_order_and_spelling() -> None:
    talks = delhi()
    offer(talks, "AAP", "02-10", {"AAP": ["south delhi", "New Delhi"], "INC": 3})
    assert talks.state.split == {"AAP": 2, "INC": 3}
    assert talks.state.named == {"AAP": ("New Delhi", "South Delhi")}


def test_aap_and_congress_hold_the_delhi_seats_they_agreed() -> None:
    talks = delhi()
    sign(talks, "02-24", {
        "AAP": ["New Delhi", "West Delhi", "South Delhi", "East Delhi"],
        "INC": ["Chandni Chowk", "North East Delhi", "North West Delhi"],
    })  # fmt: skip
    assert talks.state.split == {"AAP": 4, "INC": 3}
    assert holders(talks)["Chandni Chowk"] == ("INC", "agreed")
    assert holders(talks)["New Delhi"] == ("AAP", "agreed")


# -- partial agreements ------------------------------------------------------------------


def test_a_pact_is_refused_with_one_signatory() -> None:
    talks = tamil_nadu()
    with pytest.raises(PactSignatoriesError, match="two or more signatories, got DMK"):
        settle(talks, "02-24", ["DMK"], {"DMK": 20})


def test_a_pact_is_refused_when_it_settles_a_share_for_a_party_that_did_not_sign() -> None:
    talks = tamil_nadu()
    with pytest.raises(PactSignatoriesError, match="settles VCK's share, but VCK is not"):
        settle(talks, "02-24", ["DMK", "IUML"], {"IUML": 1, "VCK": 2})


def test_a_pact_is_refused_when_it_settles_iuml_a_second_time() -> None:
    talks = tamil_nadu()
    settle(talks, "02-24", ["DMK", "IUML"], {"IUML": ["Ramanathapuram"]})
    with pytest.raises(ShareAlreadySettledError, match="IUML's share was settled already"):
        settle(talks, "03-01", ["DMK", "IUML"], {"IUML": 2})


def test_a_pact_is_refused_after_the_agreement() -> None:
    talks = tamil_nadu()
    sign(talks, "03-09", {"DMK": 21})
    with pytest.raises(AgreementStateError, match="agreed before"):
        settle(talks, "03-10", ["DMK", "VCK"], {"VCK": 2})


def test_settled_shares_are_refused_when_together_they_outgrow_the_pool() -> None:
    talks = tamil_nadu()
    settle(talks, "02-24", ["DMK", "INC"], {"INC": 9, "DMK": 22})
    with pytest.raises(SplitError, match="settled shares give 41 seats but only 39"):
        settle(talks, "02-29", ["DMK", "CPI"], {"CPI": 10})


def test_a_pact_is_refused_when_it_gives_a_seat_settled_for_another_party() -> None:
    talks = tamil_nadu()
    settle(talks, "02-24", ["DMK", "IUML"], {"IUML": ["Ramanathapuram"]})
    with pytest.raises(SettledSeatError, match=r"Ramanathapuram is settled for IUML.*to VCK"):
        settle(talks, "03-08", ["DMK", "VCK"], {"VCK": ["Ramanathapuram", "Chidambaram"]})


def test_a_proposal_is_refused_when_it_gives_a_settled_party_another_count() -> None:
    talks = tamil_nadu()
    settle(talks, "02-29", ["DMK", "CPI"], {"CPI": 2})
    with pytest.raises(SettledShareError, match=r"CPI's share is settled at 2.*gives it 3"):
        offer(talks, "DMK", "03-01", {"DMK": 21, "CPI": 3})


def test_a_proposal_is_refused_when_it_drops_a_seat_settled_for_that_party() -> None:
    talks = tamil_nadu()
    settle(talks, "03-08", ["DMK", "VCK"], {"VCK": ["Chidambaram", "Villupuram"]})
    with pytest.raises(SettledShareError, match="Villupuram is settled for VCK"):
        offer(talks, "DMK", "03-08", {"VCK": (2, ["Chidambaram"])})


def test_a_counter_offer_is_refused_when_it_gives_a_settled_seat_to_another_party() -> None:
    talks = tamil_nadu()
    offer(talks, "INC", "02-20", {"INC": 10})
    settle(talks, "02-24", ["DMK", "IUML"], {"IUML": ["Ramanathapuram"]})
    with pytest.raises(SettledSeatError, match=r"Ramanathapuram is settled for IUML.*to DMK"):
        counter_offer(talks, "DMK", "02-25", {"DMK": (20, ["Ramanathapuram"]), "INC": 8})


def test_an_agreement_is_refused_when_it_gives_a_settled_party_less() -> None:
    talks = tamil_nadu()
    settle(talks, "02-29", ["DMK", "CPI"], {"CPI": 2})
    with pytest.raises(SettledShareError, match="CPI's share is settled at 2"):
        sign(talks, "03-09", {"DMK": 21, "CPI": 1})


def test_the_table_holds_the_settled_shares_and_the_latest_offer_for_the_others() -> None:
    talks = tamil_nadu()
    offer(talks, "INC", "02-20", {"INC": 12, "DMK": 20})
    settle(talks, "02-24", ["DMK", "IUML"], {"IUML": ["Ramanathapuram"]})
    state = talks.state
    assert (state.status, state.split, state.maker) == (
        "negotiating", {"INC": 12, "DMK": 20, "IUML": 1}, "INC",
    )  # fmt: skip
    assert state.settled == {"IUML": 1}
    assert holders(talks)["Ramanathapuram"] == ("IUML", "settled")


def test_the_table_holds_only_the_settled_shares_when_nothing_is_open() -> None:
    talks = tamil_nadu()
    settle(talks, "02-24", ["DMK", "IUML"], {"IUML": 1, "DMK": 20})
    assert (talks.state.status, talks.state.split, talks.state.maker) == (
        "negotiating", {"IUML": 1, "DMK": 20}, None,
    )  # fmt: skip


def test_a_pact_closes_the_open_offer_that_disagrees_with_it() -> None:
    talks = tamil_nadu()
    disagreeing = offer(talks, "INC", "02-20", {"INC": 12, "CPI": 1})
    agreeing = offer(talks, "VCK", "02-21", {"VCK": 2})
    settle(talks, "02-29", ["DMK", "CPI"], {"CPI": 2})
    assert [o.move_id for o in talks.state.offers] == [agreeing]
    assert talks.state.offer(disagreeing) is None


def test_an_offer_naming_a_seat_settled_for_another_party_is_closed_by_the_pact() -> None:
    talks = tamil_nadu()
    offer(talks, "VCK", "02-20", {"VCK": ["Ramanathapuram", "Chidambaram"]})
    settle(talks, "02-24", ["DMK", "IUML"], {"IUML": ["Ramanathapuram"]})
    assert talks.state.offers == ()
    assert holders(talks)["Chidambaram"] == (None, "unassigned")


def test_a_settled_party_left_out_of_a_proposal_keeps_its_share_implicitly() -> None:
    talks = tamil_nadu()
    settle(talks, "02-24", ["DMK", "IUML"], {"IUML": ["Ramanathapuram"]})
    offer(talks, "DMK", "03-01", {"DMK": 21, "INC": (9, ["Namakkal"])})
    assert talks.state.split == {"DMK": 21, "INC": 9, "IUML": 1}
    assert holders(talks)["Namakkal"] == ("INC", "on_table")
    assert holders(talks)["Ramanathapuram"] == ("IUML", "settled")


def test_a_proposal_is_refused_when_settled_shares_left_out_overfill_the_pool() -> None:
    talks = tamil_nadu()
    settle(talks, "02-24", ["DMK", "INC"], {"INC": 9, "DMK": 20})
    with pytest.raises(SplitError, match="40 seats but only 39"):
        offer(talks, "VCK", "03-01", {"VCK": 11})


def test_the_agreement_gives_settled_parties_left_out_their_shares_and_ends_settling() -> None:
    talks = tamil_nadu()
    settle(talks, "02-24", ["DMK", "IUML"], {"IUML": ["Ramanathapuram"]})
    settle(talks, "03-08", ["DMK", "VCK"], {"VCK": ["Chidambaram", "Villupuram"]})
    sign(talks, "03-09", {"DMK": 21, "INC": 9, "CPI": 2})
    state = talks.state
    assert state.split == {"DMK": 21, "INC": 9, "CPI": 2, "IUML": 1, "VCK": 2}
    assert state.settled == {}
    assert holders(talks) == {
        "Chidambaram": ("VCK", "agreed"), "Villupuram": ("VCK", "agreed"),
        "Ramanathapuram": ("IUML", "agreed"), "Namakkal": (None, "unassigned"),
    }  # fmt: skip


def test_an_amendment_may_move_a_seat_that_was_settled() -> None:
    talks = tamil_nadu()
    settle(talks, "02-24", ["DMK", "IUML"], {"IUML": ["Ramanathapuram"]})
    sign(talks, "03-09", {"DMK": 21})
    amend_to(talks, "03-18", {"DMK": ["Ramanathapuram"], "INC": (9, ["Namakkal"])})
    assert holders(talks)["Ramanathapuram"] == ("DMK", "agreed")
    assert holders(talks)["Namakkal"] == ("INC", "agreed")


def test_a_party_that_walks_out_before_the_deal_gives_its_settled_share_back() -> None:
    talks = tamil_nadu()
    settle(talks, "02-24", ["DMK", "IUML"], {"IUML": ["Ramanathapuram"]})
    walk_out(talks, "IUML", "03-01")
    assert talks.state.settled == {}
    assert holders(talks)["Ramanathapuram"] == (None, "unassigned")


def test_every_seat_is_unassigned_after_the_talks_ended() -> None:
    talks = tamil_nadu()
    settle(talks, "02-24", ["DMK", "IUML"], {"IUML": ["Ramanathapuram"]})
    end_talks(talks, "03-01")
    assert set(holders(talks).values()) == {(None, "unassigned")}
    assert talks.state.settled == {}


# -- late facts and corrections ----------------------------------------------------------


def test_a_late_pact_is_refused_when_a_later_proposal_gives_its_seat_away() -> None:
    talks = tamil_nadu()
    offer(talks, "DMK", "03-01", {"DMK": (20, ["Ramanathapuram"])})
    with pytest.raises(LateMoveConflictError, match="Ramanathapuram is settled for IUML"):
        settle(talks, "02-24", ["DMK", "IUML"], {"IUML": ["Ramanathapuram"]})


def test_a_late_pact_is_folded_in_valid_time_order() -> None:
    talks = tamil_nadu()
    offer(talks, "DMK", "03-01", {"DMK": 20})
    settle(talks, "02-24", ["DMK", "IUML"], {"IUML": ["Ramanathapuram"]})
    assert talks.state.split == {"DMK": 20, "IUML": 1}
    assert talks.state.maker == "DMK"


def test_a_correction_of_a_named_split_moves_the_seat() -> None:
    talks = delhi()
    signed = sign(talks, "02-24", {"AAP": ["New Delhi"], "INC": ["Chandni Chowk"]})
    fix_split(talks, signed, {"AAP": ["Chandni Chowk"], "INC": ["New Delhi"]})
    assert holders(talks)["New Delhi"] == ("INC", "agreed")
    assert holders(talks)["Chandni Chowk"] == ("AAP", "agreed")


def test_a_correction_is_refused_when_the_pact_it_changes_breaks_a_later_proposal() -> None:
    talks = tamil_nadu()
    pact = settle(talks, "02-24", ["DMK", "IUML"], {"IUML": 1})
    offer(talks, "DMK", "03-01", {"DMK": 20, "IUML": 1})
    with pytest.raises(LateMoveConflictError, match="IUML's share is settled at 2"):
        fix_split(talks, pact, {"IUML": 2})
