"""Every rule of the timeline format, each fed the move that breaks it."""

from __future__ import annotations

import pytest

from ledger.domain.errors import (
    AgreementStateError,
    CorrectionError,
    DuplicateMoveError,
    LateMoveConflictError,
    MoveBeforeOpeningError,
    NoOpenProposalError,
    OwnProposalError,
    PartyLeftAllianceError,
    PartyNotAtTableError,
    SignatoriesError,
    SplitError,
    TalksEndedError,
)
from tests.support.talks import (
    accept,
    agree,
    amend,
    correct,
    counter,
    day,
    end_talks,
    join,
    leave_alliance,
    meet,
    note,
    propose,
    reject,
    uttar_pradesh,
    walk_out,
    withdraw,
)


def test_offer_is_on_the_table_when_sp_offers_congress_11_seats() -> None:
    up = uttar_pradesh()
    propose(up, "SP", "01-27", SP=69, INC=11)
    assert (up.state.status, up.state.split, up.state.maker) == (
        "negotiating",
        {"SP": 69, "INC": 11},
        "SP",
    )


def test_split_is_refused_when_it_names_a_party_not_at_the_table() -> None:
    up = uttar_pradesh()
    with pytest.raises(PartyNotAtTableError, match="AAP"):
        propose(up, "SP", "01-27", SP=69, AAP=11)


def test_split_is_refused_when_it_gives_more_seats_than_the_pool() -> None:
    up = uttar_pradesh()
    with pytest.raises(SplitError, match="81 seats but only 80"):
        propose(up, "SP", "01-27", SP=70, INC=11)


def test_split_is_refused_when_a_party_gets_negative_seats() -> None:
    up = uttar_pradesh()
    with pytest.raises(SplitError, match="whole numbers"):
        propose(up, "SP", "01-27", SP=81, INC=-1)


def test_counter_offer_is_refused_when_nothing_is_open() -> None:
    up = uttar_pradesh()
    with pytest.raises(NoOpenProposalError, match="INC has no open proposal"):
        counter(up, "INC", "01-28", SP=60, INC=20)


def test_counter_offer_answers_the_latest_open_proposal_of_another_party_by_default() -> None:
    up = uttar_pradesh()
    offer = propose(up, "SP", "01-27", SP=69, INC=11)
    reply = counter(up, "INC", "01-28", SP=60, INC=20)
    assert up.story.find(reply).target == offer  # type: ignore[union-attr]
    assert up.state.split == {"SP": 60, "INC": 20}


def test_acceptance_is_refused_when_the_counter_offer_closed_the_proposal() -> None:
    up = uttar_pradesh()
    offer = propose(up, "SP", "01-27", SP=69, INC=11)
    counter(up, "INC", "01-28", SP=60, INC=20)
    with pytest.raises(NoOpenProposalError, match=offer):
        accept(up, "INC", "01-29", of=offer)


def test_proposal_supersedes_the_makers_own_earlier_offer() -> None:
    up = uttar_pradesh()
    first = propose(up, "SP", "01-27", SP=69, INC=11)
    propose(up, "SP", "02-01", SP=65, INC=15)
    with pytest.raises(NoOpenProposalError, match=first):
        accept(up, "INC", "02-02", of=first)
    assert up.state.split == {"SP": 65, "INC": 15}


def test_party_cannot_accept_its_own_proposal() -> None:
    up = uttar_pradesh()
    offer = propose(up, "SP", "01-27", SP=69, INC=11)
    with pytest.raises(OwnProposalError, match="its own proposal"):
        accept(up, "SP", "01-28", of=offer)


def test_party_cannot_withdraw_another_partys_proposal() -> None:
    up = uttar_pradesh()
    offer = propose(up, "SP", "01-27", SP=69, INC=11)
    with pytest.raises(OwnProposalError, match="cannot withdraw"):
        withdraw(up, "INC", "01-28", of=offer)


def test_nothing_is_on_the_table_when_the_only_offer_is_withdrawn() -> None:
    up = uttar_pradesh()
    propose(up, "SP", "01-27", SP=69, INC=11)
    withdraw(up, "SP", "01-28")
    assert (up.state.split, up.state.maker) == ({}, None)


def test_rejected_proposal_is_no_longer_open() -> None:
    up = uttar_pradesh()
    offer = propose(up, "SP", "01-27", SP=69, INC=11)
    reject(up, "INC", "01-28")
    with pytest.raises(NoOpenProposalError):
        accept(up, "INC", "01-29", of=offer)


def test_agreement_is_refused_when_a_party_at_the_table_does_not_sign() -> None:
    up = uttar_pradesh(("SP", "INC", "RLD"))
    with pytest.raises(SignatoriesError, match="RLD did not"):
        agree(up, "02-21", signatories=["SP", "INC"], SP=63, INC=17)


def test_agreement_is_signed_by_everyone_at_the_table_by_default() -> None:
    up = uttar_pradesh()
    agree(up, "02-21", SP=63, INC=17)
    assert (up.state.status, up.state.split, up.state.maker) == (
        "agreed",
        {"SP": 63, "INC": 17},
        None,
    )


def test_amendment_is_refused_before_an_agreement() -> None:
    up = uttar_pradesh()
    with pytest.raises(AgreementStateError, match="needs an agreement first"):
        amend(up, "02-21", SP=63, INC=17)


def test_amendment_changes_the_agreed_split() -> None:
    up = uttar_pradesh()
    agree(up, "02-21", SP=63, INC=17)
    amend(up, "03-01", SP=62, INC=17)
    assert up.state.split == {"SP": 62, "INC": 17}


def test_bargaining_is_refused_after_an_agreement() -> None:
    up = uttar_pradesh()
    agree(up, "02-21", SP=63, INC=17)
    with pytest.raises(AgreementStateError, match="record an amendment"):
        propose(up, "SP", "02-22", SP=70, INC=10)


def test_only_notes_may_follow_when_talks_have_ended() -> None:
    up = uttar_pradesh(("TMC", "INC"), seats=42)
    end_talks(up, "01-24")
    note(up, "01-25", "TMC confirms it goes alone")
    with pytest.raises(TalksEndedError, match="had ended"):
        propose(up, "INC", "01-26", INC=2)
    assert up.state.status == "no_deal"


def test_walked_out_party_makes_no_move_until_it_rejoins() -> None:
    up = uttar_pradesh(("SP", "INC", "RLD"))
    walk_out(up, "RLD", "01-20")
    with pytest.raises(PartyNotAtTableError, match="RLD is not at the"):
        propose(up, "RLD", "01-21", RLD=7)
    join(up, "RLD", "01-22")
    propose(up, "RLD", "01-23", RLD=7)
    assert up.state.maker == "RLD"


def test_walk_out_lapses_the_partys_open_proposals() -> None:
    up = uttar_pradesh(("SP", "INC", "RLD"))
    propose(up, "RLD", "01-19", RLD=7)
    walk_out(up, "RLD", "01-20")
    assert up.state.split == {}


def test_party_that_left_the_alliance_makes_no_move_and_cannot_rejoin_the_table() -> None:
    bihar = uttar_pradesh(("JDU", "RJD", "INC"), seats=40)
    propose(bihar, "JDU", "01-20", JDU=16, RJD=16)
    leave_alliance(bihar, "JDU", "01-28")
    assert bihar.state.split == {}
    with pytest.raises(PartyLeftAllianceError, match="left the"):
        join(bihar, "JDU", "02-01")
    leave_alliance(bihar, "JDU", "02-10", joined=True)
    join(bihar, "JDU", "02-11")
    assert "JDU" in bihar.state.at_table


def test_meeting_is_refused_when_an_attendee_is_not_at_the_table() -> None:
    up = uttar_pradesh()
    with pytest.raises(PartyNotAtTableError, match="AAP"):
        meet(up, "01-12", "SP", "AAP")


def test_move_is_refused_when_dated_before_the_talks_opened() -> None:
    up = uttar_pradesh()
    with pytest.raises(MoveBeforeOpeningError, match="before the talks opened"):
        propose(up, "SP", "01-01", SP=69, INC=11)


def test_duplicate_move_id_is_refused_within_talks() -> None:
    up = uttar_pradesh()
    propose(up, "SP", "01-27", "sp-offer", SP=69, INC=11)
    with pytest.raises(DuplicateMoveError, match="sp-offer"):
        propose(up, "SP", "01-28", "sp-offer", SP=69, INC=11)


def test_late_fact_is_folded_in_valid_time_order_when_it_breaks_nothing() -> None:
    up = uttar_pradesh()
    propose(up, "SP", "02-01", SP=65, INC=15)
    propose(up, "INC", "01-20", SP=50, INC=30)  # reported late, happened earlier
    assert [m.on for m in up.story.moves] == [day("01-09"), day("01-20"), day("02-01")]
    assert (up.state.split, up.state.maker) == ({"SP": 65, "INC": 15}, "SP")


def test_late_fact_is_refused_naming_the_later_move_it_would_break() -> None:
    up = uttar_pradesh()
    offer = propose(up, "SP", "01-27", SP=69, INC=11)
    acceptance = accept(up, "INC", "01-30", of=offer)
    with pytest.raises(LateMoveConflictError, match=f"break later move {acceptance}") as caught:
        withdraw(up, "SP", "01-28", of=offer)  # news of a withdrawal before the acceptance
    assert caught.value.broken_move == acceptance


def test_correction_replaces_the_split_and_keeps_the_original_recorded() -> None:
    up = uttar_pradesh()
    offer = propose(up, "SP", "01-27", SP=69, INC=11)
    correct(up, offer, split={"SP": 62, "INC": 11})
    assert up.state.split == {"SP": 62, "INC": 11}
    assert up.recorded[offer].split == {"SP": 69, "INC": 11}
    assert len([e for e in up._pending if type(e).__name__ == "ProposalMade"]) == 1


def test_correction_is_refused_when_it_would_break_a_later_move() -> None:
    up = uttar_pradesh()
    offer = propose(up, "SP", "01-27", SP=69, INC=11)
    acceptance = accept(up, "INC", "01-30", of=offer)
    with pytest.raises(LateMoveConflictError, match=acceptance):
        correct(up, offer, retract=True)


def test_correction_is_refused_when_it_names_a_field_the_move_lacks() -> None:
    up = uttar_pradesh()
    meeting = meet(up, "01-12", "SP", "INC")
    with pytest.raises(CorrectionError, match="no split"):
        correct(up, meeting, split={"SP": 1})


def test_correction_moves_a_move_to_its_true_date() -> None:
    up = uttar_pradesh()
    first = propose(up, "SP", "02-05", SP=69, INC=11)
    propose(up, "INC", "02-01", SP=50, INC=30)
    correct(up, first, on=day("01-27"))
    assert [m.move_id for m in up.story.moves][1] == first
    assert up.state.maker == "INC"


def test_retracted_move_cannot_be_corrected_again() -> None:
    up = uttar_pradesh()
    offer = propose(up, "SP", "01-27", SP=69, INC=11)
    correct(up, offer, retract=True)
    with pytest.raises(CorrectionError, match="already retracted"):
        correct(up, offer, split={"SP": 60})


def test_replaying_the_events_gives_the_same_state_as_deciding_them() -> None:
    up = uttar_pradesh(("SP", "INC", "RLD"))
    offer = propose(up, "SP", "02-01", SP=62, INC=11, RLD=7)
    counter(up, "INC", "02-03", SP=60, INC=20)
    propose(up, "RLD", "01-20", RLD=7)  # late
    correct(up, offer, split={"SP": 63, "INC": 10, "RLD": 7})
    agree(up, "02-21", SP=63, INC=17)
    replayed = None
    for event in up.collect_events():
        replayed = event.mutate(replayed)
    assert replayed.state == up.state
    assert replayed.version == up.version


def test_amendment_is_refused_when_a_party_at_the_table_does_not_sign_it() -> None:
    up = uttar_pradesh(("SP", "INC", "RLD"))
    agree(up, "02-21", SP=60, INC=17, RLD=3)
    with pytest.raises(SignatoriesError, match="every party at the table must sign; RLD did not"):
        amend(up, "03-01", ["SP", "INC"], SP=61, INC=17, RLD=2)
    amend(up, "03-01", ["SP", "INC", "RLD"], SP=61, INC=17, RLD=2)
    assert up.state.split == {"SP": 61, "INC": 17, "RLD": 2}


def test_amendment_is_refused_when_a_signatory_is_not_at_the_table() -> None:
    up = uttar_pradesh()
    agree(up, "02-21", SP=63, INC=17)
    with pytest.raises(PartyNotAtTableError, match="BSP is not at the uttar-pradesh table"):
        amend(up, "03-01", ["SP", "INC", "BSP"], SP=62, INC=17)


def test_a_party_that_walks_out_after_the_agreement_gives_its_seats_back() -> None:
    up = uttar_pradesh(("SP", "INC", "RLD"))
    agree(up, "02-21", SP=60, INC=17, RLD=3)
    walk_out(up, "RLD", "03-02")
    assert up.state.status == "agreed"
    assert up.state.split == {"SP": 60, "INC": 17}  # RLD's 3 seats are unallocated
    amend(up, "03-05", SP=63, INC=17)  # signed by the parties still at the table


def test_a_party_that_leaves_the_alliance_after_the_agreement_gives_its_seats_back() -> None:
    bihar = uttar_pradesh(("RJD", "JDU", "INC"), seats=40)
    agree(bihar, "01-20", RJD=16, JDU=16, INC=8)
    leave_alliance(bihar, "JDU", "01-28")
    assert bihar.state.split == {"RJD": 16, "INC": 8}
    assert "JDU" not in bihar.state.at_table
