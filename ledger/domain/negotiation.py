"""The Negotiation aggregate: talks between parties over a fixed pool of seats."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from ledger.domain import rules
from ledger.domain.aggregate import slug_id
from ledger.domain.events import CREATORS, NegotiationOpened
from ledger.domain.story_aggregate import Storied


def negotiation_id(slug: str) -> UUID:
    """The aggregate id of a negotiation, derived from its slug."""
    return slug_id("negotiation", slug)


def mirror_id(move_id: str, slug: str) -> str:
    """The id of an alliance move as copied into one negotiation."""
    return f"{move_id}@{slug}"


class Negotiation(Storied[rules.NegotiationState]):
    """Talks between parties over a fixed pool of seats, decided by `rules.apply`."""

    label = "talks"

    def __init__(self, id: UUID, slug: str) -> None:
        super().__init__(
            id, slug, rules.NegotiationState(negotiation=slug), rules.apply, rules.resolve
        )

    @classmethod
    def open(cls, **fields: Any) -> Negotiation:
        """Open talks; the opening is the aggregate's first event."""
        slug = fields["negotiation"]
        negotiation = cls(negotiation_id(slug), slug)
        negotiation._decide(NegotiationOpened, fields)
        return negotiation


CREATORS[NegotiationOpened] = lambda event: Negotiation(event.originator_id, event.negotiation)
