"""The Alliance aggregate (membership over time) and the party roster."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, ClassVar, Final
from uuid import UUID

from pydantic import Field

from ledger.domain import moves as k
from ledger.domain.aggregate import EventSourced, slug_id
from ledger.domain.errors import MoveBeforeOpeningError, PartyNotAtTableError, RuleError
from ledger.domain.events import CREATORS, LedgerEvent, MoveEvent
from ledger.domain.moves import Move
from ledger.domain.story_aggregate import Storied
from ledger.domain.values import Colour, PartyCode, Slug, valid_instant

FORMED: Final = "alliance_formed"


class AllianceFormed(MoveEvent):
    """A coalition formed with its founding members."""

    kind: ClassVar[str] = FORMED
    alliance: Slug
    name: str
    members: list[PartyCode]

    def _move_fields(self) -> dict[str, Any]:
        return {"parties": tuple(self.members), "title": self.name, "alliance": self.alliance}


class PartyJoinedAlliance(MoveEvent):
    """A party joined the alliance."""

    kind: ClassVar[str] = k.PARTY_JOINED_ALLIANCE
    party: PartyCode

    def _move_fields(self) -> dict[str, Any]:
        return {"party": self.party}


class PartyLeftAlliance(PartyJoinedAlliance):
    """A party left the alliance: it leaves every table of the alliance's talks."""

    kind: ClassVar[str] = k.PARTY_LEFT_ALLIANCE


class TalksRegistered(LedgerEvent):
    """Talks were opened under this alliance (so membership changes reach them)."""

    negotiation: Slug


@dataclass(frozen=True, slots=True)
class AllianceState:
    """Who belongs to the alliance after some prefix of its story."""

    alliance: str = ""
    name: str = ""
    formed_on: object = None
    members: frozenset[str] = frozenset()


def apply_alliance(state: AllianceState, move: Move) -> AllianceState:
    """The alliance's rules: membership changes must make sense; meetings are of members."""
    if move.kind == FORMED:
        return replace(
            state, name=move.title or "", formed_on=move.on, members=frozenset(move.parties)
        )
    if state.formed_on is None or valid_instant(move.on) < valid_instant(state.formed_on):  # type: ignore[arg-type]
        raise MoveBeforeOpeningError(
            f"move {move.move_id}: dated {move.on}, before the {state.alliance} alliance formed"
        )
    party = move.party or ""
    if move.kind == k.PARTY_JOINED_ALLIANCE:
        if party in state.members:
            raise RuleError(f"move {move.move_id}: {party} is already in the {state.alliance}")
        return replace(state, members=state.members | {party})
    if move.kind == k.PARTY_LEFT_ALLIANCE:
        if party not in state.members:
            raise RuleError(
                f"move {move.move_id}: {party} is not in the {state.alliance} on {move.on}"
            )
        return replace(state, members=state.members - {party})
    if move.kind == k.MEETING:
        outside = [p for p in move.parties if p not in state.members]
        if outside:
            raise PartyNotAtTableError(
                f"move {move.move_id}: {', '.join(outside)} not in the {state.alliance} "
                f"on {move.on}"
            )
        return state
    if move.kind == k.NOTE:
        return state
    raise RuleError(f"move {move.move_id}: a {move.kind} cannot be an alliance-level move")


def alliance_id(slug: str) -> UUID:
    """The aggregate id of an alliance, derived from its slug."""
    return slug_id("alliance", slug)


class Alliance(Storied[AllianceState]):
    """A coalition whose membership over time binds the talks opened under it."""

    label = "alliance"

    def __init__(self, id: UUID, slug: str) -> None:
        super().__init__(id, slug, AllianceState(alliance=slug), apply_alliance)
        self.talks: list[str] = []

    @classmethod
    def form(cls, **fields: Any) -> Alliance:
        """Form an alliance; its first event."""
        slug = fields["alliance"]
        alliance = cls(alliance_id(slug), slug)
        alliance._decide(AllianceFormed, fields)
        return alliance

    def register_talks(self, negotiation: str, recorded_by: str) -> None:
        """Note that talks opened under this alliance."""
        if negotiation not in self.talks:
            self._trigger(TalksRegistered, negotiation=negotiation, recorded_by=recorded_by)

    def membership_moves(self) -> list[Move]:
        """Joins and departures, as the story now holds them."""
        return [m for m in self.story.moves if m.kind in k.ALLIANCE_MEMBERSHIP]

    def _on_other_event(self, event: LedgerEvent) -> None:
        if isinstance(event, TalksRegistered):
            self.talks.append(event.negotiation)

    def snapshot_extra(self) -> dict[str, Any]:
        """The talks registered under this alliance."""
        return {"talks": list(self.talks)}

    def restore_extra(self, extra: dict[str, Any]) -> None:
        """Restore the registered talks."""
        self.talks = list(extra.get("talks", []))


class PartiesRegistered(LedgerEvent):
    """Party codes (and names) the ledger now knows."""

    parties: dict[PartyCode, str] = Field(default_factory=dict)


class PartyColoursChosen(PartiesRegistered):
    """Chart colours chosen for known parties (a subclass: every reader that skips the
    roster's registrations skips these too)."""

    colours: dict[PartyCode, Colour] = Field(default_factory=dict)


ROSTER_ID: Final = slug_id("roster", "parties")


class PartyRoster(EventSourced):
    """Every party code the ledger knows, so a typo is refused, not recorded."""

    def __init__(self, id: UUID = ROSTER_ID) -> None:
        super().__init__(id)
        self.parties: dict[str, str] = {}
        self.colours: dict[str, str] = {}

    def register(self, parties: dict[str, str], recorded_by: str) -> None:
        """Add codes not yet known (names of known ones are kept)."""
        new = {
            c: n for c, n in parties.items() if c not in self.parties or (n and not self.parties[c])
        }
        if new:
            self._trigger(PartiesRegistered, parties=new, recorded_by=recorded_by)

    def choose_colours(self, colours: dict[str, str], recorded_by: str) -> None:
        """Record the chart colours that differ from the ones already chosen."""
        new = {code: colour for code, colour in colours.items() if self.colours.get(code) != colour}
        if new:
            self._trigger(PartyColoursChosen, colours=new, recorded_by=recorded_by)

    def _on_event(self, event: LedgerEvent) -> None:
        if isinstance(event, PartiesRegistered):
            self.parties.update(event.parties)
        if isinstance(event, PartyColoursChosen):
            self.colours.update(event.colours)


CREATORS[AllianceFormed] = lambda event: Alliance(event.originator_id, event.alliance)
CREATORS[PartiesRegistered] = lambda event: PartyRoster(event.originator_id)
CREATORS[PartyColoursChosen] = lambda event: PartyRoster(event.originator_id)
