"""The Negotiation aggregate: talks between parties over a fixed pool of seats."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from ledger.domain import moves as k
from ledger.domain import rules
from ledger.domain.aggregate import slug_id
from ledger.domain.events import CREATORS, AllianceMembershipMirrored, NegotiationOpened
from ledger.domain.state import NegotiationState
from ledger.domain.story_aggregate import Storied


def negotiation_id(slug: str) -> UUID:
    """The aggregate id of a negotiation, derived from its slug."""
    return slug_id("negotiation", slug)


def mirror_id(move_id: str, slug: str) -> str:
    """The id of an alliance move as copied into one negotiation."""
    return f"{move_id}@{slug}"


class Negotiation(Storied[NegotiationState]):
    """Talks between parties over a fixed pool of seats, decided by `rules.apply`."""

    label = "talks"

    def __init__(self, id: UUID, slug: str) -> None:
        state = NegotiationState(negotiation=slug)
        super().__init__(id, slug, state, rules.apply, rules.resolve, rules.never_refused)

    @classmethod
    def open(cls, **fields: Any) -> Negotiation:
        """Open talks; the opening is the aggregate's first event."""
        slug = fields["negotiation"]
        negotiation = cls(negotiation_id(slug), slug)
        negotiation._decide(NegotiationOpened, fields)
        return negotiation


CREATORS[NegotiationOpened] = lambda event: Negotiation(event.originator_id, event.negotiation)


def mirror_move(
    negotiation: Negotiation, move_id: str, kind: str, party: str, on: Any, recorded_by: str
) -> None:
    """Copy an alliance membership move into one negotiation of the alliance."""
    negotiation.record(
        AllianceMembershipMirrored, move_id=mirror_id(move_id, negotiation.slug), party=party,
        joined=kind == k.PARTY_JOINED_ALLIANCE, mirror_of=move_id, occurred_on=on,
        recorded_by=recorded_by,
    )  # fmt: skip
