"""Where a negotiation stands at a moment: its status, who sits at the table, open offers,
the agreed split, and its seats (constituencies, settled shares, named seats).

The rules function (`rules.apply`) takes one state and a move and gives the next; nothing
else makes a state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

from ledger.domain.frozen import quick_init
from ledger.domain.moves import Named
from ledger.domain.values import Split, constituency_key

UNOPENED: Final = "unopened"
OPENED: Final = "opened"
NEGOTIATING: Final = "negotiating"
AGREED: Final = "agreed"
NO_DEAL: Final = "no_deal"

UNASSIGNED: Final = "unassigned"
ON_TABLE: Final = "on_table"
SETTLED: Final = "settled"
"""A seat's status: `agreed` (as the talks'), `settled`, `on_table` or `unassigned`."""

_EMPTY: Final[MappingProxyType[str, Split]] = MappingProxyType({})
NO_NAMES: Final[Named] = {}


@quick_init
@dataclass(frozen=True, slots=True)
class Offer:
    """An open proposal or counter-offer."""

    move_id: str
    maker: str
    split: Split
    named: Named = field(default_factory=lambda: NO_NAMES)


@quick_init
@dataclass(frozen=True, slots=True)
class Seating:
    """The seat level of a negotiation: its constituencies, the settled shares, the named
    seats of the agreed split. Talks that name no seats keep the one empty Seating."""

    listed: tuple[str, ...] = ()
    settled: Split = field(default_factory=dict)
    settled_named: Named = field(default_factory=dict)
    agreed_named: Named = field(default_factory=dict)

    def position(self, name: str) -> int | None:
        """Where a name stands in the list (compared case-insensitively), if listed."""
        key = constituency_key(name)
        for index, listed in enumerate(self.listed):
            if constituency_key(listed) == key:
                return index
        return None


NO_SEATING: Final = Seating()


@quick_init
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
    seating: Seating = NO_SEATING

    @property
    def split(self) -> Split:
        """The agreed split once agreed; before, the settled shares and, for every other
        party, the latest open offer's share."""
        if self.status == AGREED and self.agreed is not None:
            return self.agreed
        if self.status == NEGOTIATING:
            settled = self.seating.settled
            if self.offers:
                top = self.offers[-1].split
                if not settled:
                    return top
                return {**top, **{p: n for p, n in settled.items() if p not in top}}
            return dict(settled) if settled else {}
        return {}

    @property
    def maker(self) -> str | None:
        """Who made the split on the table; None once agreed or with nothing open."""
        if self.status == NEGOTIATING and self.offers:
            return self.offers[-1].maker
        return None

    @property
    def named(self) -> Named:
        """The named seats of `split`, party by party."""
        seating = self.seating
        if seating is NO_SEATING:
            return NO_NAMES
        if self.status == AGREED and self.agreed is not None:
            return seating.agreed_named
        if self.status != NEGOTIATING:
            return NO_NAMES
        named = dict(self.offers[-1].named) if self.offers else {}
        top = self.offers[-1].split if self.offers else {}
        for party, names in seating.settled_named.items():
            if party not in top:
                named[party] = names
        return named

    @property
    def settled(self) -> Split:
        """The settled shares (empty once agreed, and after the talks ended)."""
        if self.status in (OPENED, NEGOTIATING):
            return self.seating.settled
        return {}

    def holders(self) -> list[tuple[str, str | None, str]]:
        """(constituency, holder, status) for every listed constituency, in list order."""
        seating = self.seating
        if not seating.listed:
            return []
        held: dict[str, tuple[str, str]] = {}
        if self.status == AGREED:
            for party, names in seating.agreed_named.items():
                held.update((n, (party, AGREED)) for n in names)
        elif self.status == NEGOTIATING:
            for party, names in self.named.items():
                held.update((n, (party, ON_TABLE)) for n in names)
            for party, names in seating.settled_named.items():
                held.update((n, (party, SETTLED)) for n in names)
        return [
            (name, *held[name]) if name in held else (name, None, UNASSIGNED)
            for name in seating.listed
        ]

    def offer(self, move_id: str) -> Offer | None:
        """The open offer with this id, if it is still open."""
        for offer in self.offers:
            if offer.move_id == move_id:
                return offer
        return None
