"""Domain-language driver for seat-level rule tests: named seats, pacts, longer lists."""

from __future__ import annotations

from itertools import count
from typing import Any

from ledger.domain import events as ev
from ledger.domain.events import Changes
from ledger.domain.negotiation import Negotiation
from ledger.domain.seat_events import ConstituenciesAdded, PartialAgreementReached
from ledger.timeline.document import counts_and_names
from tests.support.talks import day

_ids = count(1)

DELHI = [
    "Chandni Chowk", "North East Delhi", "East Delhi", "New Delhi",
    "North West Delhi", "West Delhi", "South Delhi",
]  # fmt: skip

Shares = dict[str, Any]
"""A split as a timeline file writes it: `{"AAP": ["New Delhi"], "INC": 3}`."""


def delhi(parties: tuple[str, ...] = ("AAP", "INC"), names: list[str] | None = None) -> Negotiation:
    """Talks over Delhi's 7 seats, all listed, opened on 1 February 2024."""
    return Negotiation.open(
        negotiation="delhi", title="Delhi", region="Delhi", seats=7, parties=list(parties),
        move_id="delhi/opened", occurred_on=day("02-01"), recorded_by="analyst",
        constituencies=DELHI if names is None else names,
    )  # fmt: skip


def tamil_nadu(parties: tuple[str, ...] = ("DMK", "INC", "VCK", "CPI", "IUML")) -> Negotiation:
    """Talks over Tamil Nadu's 39 seats, four of them listed, opened on 1 February 2024."""
    return Negotiation.open(
        negotiation="tamil-nadu", title="Tamil Nadu", region="Tamil Nadu", seats=39,
        parties=list(parties), move_id="tamil-nadu/opened", occurred_on=day("02-01"),
        recorded_by="analyst",
        constituencies=["Chidambaram", "Villupuram", "Ramanathapuram", "Namakkal"],
    )  # fmt: skip


def _record(talks: Negotiation, cls: type[ev.MoveEvent], on: str, **fields: Any) -> str:
    move_id = fields.pop("move_id", None) or f"s{next(_ids)}"
    talks.record(cls, move_id=move_id, occurred_on=day(on), recorded_by="analyst", **fields)
    return move_id


def _split(shares: Shares) -> dict[str, Any]:
    split, named = counts_and_names(shares)  # type: ignore[arg-type]
    return {"split": split, "named": named}


def offer(talks: Negotiation, by: str, on: str, shares: Shares, **extra: Any) -> str:
    return _record(talks, ev.ProposalMade, on, by=by, **_split(_shares(shares)), **extra)


def counter_offer(talks: Negotiation, by: str, on: str, shares: Shares) -> str:
    return _record(talks, ev.CounterOfferMade, on, by=by, **_split(_shares(shares)))


def settle(talks: Negotiation, on: str, signatories: list[str], shares: Shares) -> str:
    fields = _split(_shares(shares))
    return _record(talks, PartialAgreementReached, on, signatories=signatories, **fields)


def sign(talks: Negotiation, on: str, shares: Shares) -> str:
    return _record(talks, ev.AgreementReached, on, signatories=[], **_split(_shares(shares)))


def amend_to(talks: Negotiation, on: str, shares: Shares) -> str:
    return _record(talks, ev.AgreementAmended, on, signatories=[], **_split(_shares(shares)))


def add_names(talks: Negotiation, on: str, *names: str) -> str:
    return _record(talks, ConstituenciesAdded, on, names=list(names))


def fix_split(talks: Negotiation, of: str, shares: Shares) -> str:
    split, named = counts_and_names(_shares(shares))  # type: ignore[arg-type]
    move_id = f"fix-s{next(_ids)}"
    talks.correct(
        move_id=move_id, of=of, changes=Changes(split=split, named=named), recorded_by="analyst"
    )
    return move_id


def _shares(shares: Shares) -> Shares:
    """Object shares given as (count, [names]) tuples."""
    from ledger.timeline.document import ShareSpec

    return {
        party: ShareSpec(seats=share[0], named=share[1]) if isinstance(share, tuple) else share
        for party, share in shares.items()
    }


def holders(talks: Negotiation) -> dict[str, tuple[str | None, str]]:
    """Who holds each listed seat now, and how: {constituency: (holder, status)}."""
    return {name: (holder, status) for name, holder, status in talks.state.holders()}
