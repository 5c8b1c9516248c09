"""A tiny domain-language driver for rule tests: no storage, just the aggregate."""

from __future__ import annotations

from datetime import date
from itertools import count
from typing import Any

from ledger.domain import events as ev
from ledger.domain.events import Changes
from ledger.domain.negotiation import Negotiation

_ids = count(1)


def day(text: str) -> date:
    """`"01-27"` is 27 January 2024."""
    return date.fromisoformat(f"2024-{text}")


def uttar_pradesh(parties: tuple[str, ...] = ("SP", "INC"), seats: int = 80) -> Negotiation:
    """Talks over Uttar Pradesh's 80 seats, opened on 9 January 2024."""
    return Negotiation.open(
        negotiation="uttar-pradesh", title="Uttar Pradesh", region="Uttar Pradesh",
        seats=seats, parties=list(parties), move_id="uttar-pradesh/opened",
        occurred_on=day("01-09"), recorded_by="analyst",
    )  # fmt: skip


def _move(
    talks: Negotiation, cls: type[ev.MoveEvent], on: str, move_id: str | None, **f: Any
) -> str:
    move_id = move_id or f"m{next(_ids)}"
    talks.record(cls, move_id=move_id, occurred_on=day(on), recorded_by="analyst", **f)
    return move_id


def propose(t: Negotiation, by: str, on: str, move_id: str | None = None, **split: int) -> str:
    return _move(t, ev.ProposalMade, on, move_id, by=by, split=split)


def counter(t: Negotiation, by: str, on: str, reply_to: str | None = None, **split: int) -> str:
    return _move(t, ev.CounterOfferMade, on, None, by=by, split=split, in_reply_to=reply_to)


def accept(t: Negotiation, by: str, on: str, of: str | None = None) -> str:
    return _move(t, ev.ProposalAccepted, on, None, by=by, of=of)


def reject(t: Negotiation, by: str, on: str, of: str | None = None) -> str:
    return _move(t, ev.ProposalRejected, on, None, by=by, of=of)


def withdraw(t: Negotiation, by: str, on: str, of: str | None = None) -> str:
    return _move(t, ev.ProposalWithdrawn, on, None, by=by, of=of)


def agree(t: Negotiation, on: str, signatories: list[str] | None = None, **split: int) -> str:
    return _move(t, ev.AgreementReached, on, None, split=split, signatories=signatories or [])


def amend(t: Negotiation, on: str, signatories: list[str] | None = None, **split: int) -> str:
    return _move(t, ev.AgreementAmended, on, None, split=split, signatories=signatories or [])


def join(t: Negotiation, party: str, on: str) -> str:
    return _move(t, ev.PartyJoined, on, None, party=party)


def walk_out(t: Negotiation, party: str, on: str) -> str:
    return _move(t, ev.PartyWithdrew, on, None, party=party)


def meet(t: Negotiation, on: str, *parties: str) -> str:
    return _move(t, ev.MeetingHeld, on, None, parties=list(parties))


def end_talks(t: Negotiation, on: str) -> str:
    return _move(t, ev.TalksEnded, on, None, note="went alone")


def note(t: Negotiation, on: str, text: str = "statement") -> str:
    return _move(t, ev.NoteRecorded, on, None, note=text)


def leave_alliance(t: Negotiation, party: str, on: str, joined: bool = False) -> str:
    return _move(
        t, ev.AllianceMembershipMirrored, on, None, party=party, joined=joined, mirror_of="x"
    )


def correct(t: Negotiation, of: str, retract: bool = False, **changes: Any) -> str:
    move_id = f"fix{next(_ids)}"
    t.correct(
        move_id=move_id, of=of, retract=retract, changes=Changes(**changes), recorded_by="analyst"
    )
    return move_id
