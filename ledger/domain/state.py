"""Where a negotiation stands at a moment: its status, who sits at the table, open offers.

The rules function (`rules.apply`) takes one state and a move and gives the next; nothing
else makes a state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

from ledger.domain.values import Split

UNOPENED: Final = "unopened"
OPENED: Final = "opened"
NEGOTIATING: Final = "negotiating"
AGREED: Final = "agreed"
NO_DEAL: Final = "no_deal"

_EMPTY: Final[MappingProxyType[str, Split]] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Offer:
    """An open proposal or counter-offer."""

    move_id: str
    maker: str
    split: Split


@dataclass(frozen=True, slots=True)
class NegotiationState:
    """Where a negotiation stands after some prefix of its valid-time story."""

    negotiation: str = ""
    status: str = UNOPENED
    title: str = ""
    region: str = ""
    seats: int = 0
    alliance: str | None = None
    opened_on: object = None
    at_table: frozenset[str] = frozenset()
    departed: frozenset[str] = frozenset()
    offers: tuple[Offer, ...] = ()
    agreed: Split | None = None
    positions: MappingProxyType[str, Split] = field(default_factory=lambda: _EMPTY)
    election: str | None = None

    @property
    def split(self) -> Split:
        """The agreed split once agreed, else the split of the latest open offer."""
        if self.status == AGREED and self.agreed is not None:
            return self.agreed
        if self.status == NEGOTIATING and self.offers:
            return self.offers[-1].split
        return {}

    @property
    def maker(self) -> str | None:
        """Who made the split on the table; None once agreed or with nothing open."""
        if self.status == NEGOTIATING and self.offers:
            return self.offers[-1].maker
        return None

    def offer(self, move_id: str) -> Offer | None:
        """The open offer with this id, if it is still open."""
        for offer in self.offers:
            if offer.move_id == move_id:
                return offer
        return None
