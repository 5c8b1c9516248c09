"""Every event a negotiation can record: explicit, past-tense, versioned pydantic classes.

Stored topics are this module's path plus the class name: never rename or move a class
without a topic alias, and never change a field without a `class_version` upcast.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar, Literal, Protocol, Self, cast
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, Field

from ledger.domain import moves as k
from ledger.domain.event_building import EVENT_CONFIG, build_checked, built
from ledger.domain.moves import Move
from ledger.domain.values import (
    MAX_SEATS,
    Constituency,
    NamedSeats,
    PartyCode,
    Slug,
    Split,
    ValidTime,
)

Confidence = Literal["confirmed", "reported"]
Text = str


class Mutable(Protocol):
    """What an event needs of the aggregate it mutates."""

    version: int
    modified_on: datetime

    def _on_event(self, event: LedgerEvent) -> None: ...


CREATORS: dict[type[LedgerEvent], Callable[[Any], Any]] = {}
"""Which aggregate a first event creates; filled in by the aggregate modules."""


class LedgerEvent(BaseModel):
    """Base of every stored event: who recorded it and when (transaction time)."""

    model_config = EVENT_CONFIG
    class_version: ClassVar[int] = 1

    originator_id: UUID
    originator_version: int
    timestamp: AwareDatetime = Field(description="recorded_at: when the ledger learned of it")
    recorded_by: str

    @property
    def recorded_at(self) -> datetime:
        """Transaction time: when the ledger recorded this event."""
        return self.timestamp

    @classmethod
    def checked(cls, values: dict[str, Any]) -> Self | None:
        """The event `cls(**values)` would build, built without pydantic when it can be.

        Every value must already be of its field's exact type and pass its field's
        checks (a party code its pattern, seats their range, ...); the result is then
        the very object validation gives (same values, copied containers, same fields
        set). Anything else, or a class whose fields are not all understood here,
        gives None: validate with pydantic, which also says what is wrong. Recording
        a move validates its event, and pydantic's validation was the largest single
        cost of recording one.
        """
        return cast(Self | None, build_checked(cls, values))

    def updated(self, name: str, value: Any) -> Self:
        """`model_copy(update={name: value})`, cheaper: a field resolved after checking."""
        data = dict(self.__dict__)
        data[name] = value
        return cast(Self, built(type(self), data, self.__pydantic_fields_set__ | {name}))

    def mutate(self, aggregate: Any) -> Any:
        """Evolve the aggregate (the library's CanMutateProtocol); a first event creates it."""
        if aggregate is None:
            aggregate = CREATORS[type(self)](self)
        aggregate._on_event(self)
        aggregate.version = self.originator_version
        aggregate.modified_on = self.timestamp
        return aggregate


class MoveEvent(LedgerEvent):
    """A move: it has an id, a valid time, a source and a confidence."""

    kind: ClassVar[str] = ""
    move_id: str
    occurred_on: ValidTime
    source: Text | None = None
    note: Text | None = None
    confidence: Confidence = "confirmed"

    def to_move(self, seq: int | None = None) -> Move:
        """The move as the rules function sees it."""
        return Move(
            move_id=self.move_id,
            kind=self.kind,
            on=self.occurred_on,
            seq=self.originator_version if seq is None else seq,
            source=self.source,
            note=self.note,
            confidence=self.confidence,
            recorded_at=self.timestamp,
            recorded_by=self.recorded_by,
            **self._move_fields(),
        )

    def _move_fields(self) -> dict[str, Any]:
        return {}


class NegotiationOpened(MoveEvent):
    """Talks over a pool of seats opened with some parties at the table."""

    kind: ClassVar[str] = k.OPENED
    class_version: ClassVar[int] = 3
    negotiation: Slug
    title: str
    region: str
    seats: int = Field(ge=0, le=MAX_SEATS)
    parties: list[PartyCode]
    alliance: Slug | None = None
    election: Text | None = None
    constituencies: list[Constituency] = []

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """Version 1 had no election: talks opened then belong to none."""
        state["election"] = None

    @staticmethod
    def upcast_v2_v3(state: dict[str, Any]) -> None:
        """Version 2 listed no constituencies."""
        state["constituencies"] = []

    def creates(self) -> bool:
        """This event creates its aggregate."""
        return True

    def _move_fields(self) -> dict[str, Any]:
        return {
            "parties": tuple(self.parties),
            "title": self.title,
            "region": self.region,
            "seats": self.seats,
            "alliance": self.alliance,
            "election": self.election,
            "names": tuple(self.constituencies),
        }


class MeetingHeld(MoveEvent):
    """Talks were held; no seats changed."""

    kind: ClassVar[str] = k.MEETING
    parties: list[PartyCode] = []
    venue: str | None = None

    def _move_fields(self) -> dict[str, Any]:
        return {"parties": tuple(self.parties), "venue": self.venue}


def named_move_field(named: dict[str, list[str]]) -> dict[str, tuple[str, ...]] | None:
    """Named seats as a move carries them (None: the split names none)."""
    return {party: tuple(names) for party, names in named.items()} if named else None


class _Offer(MoveEvent):
    class_version: ClassVar[int] = 2
    by: PartyCode
    split: Split
    named: NamedSeats = {}

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """Before timeline@2 a split named no seats."""
        state["named"] = {}

    def _move_fields(self) -> dict[str, Any]:
        return {"by": self.by, "split": self.split, "named": named_move_field(self.named)}


class ProposalMade(_Offer):
    """A party put a split on the table."""

    kind: ClassVar[str] = k.PROPOSAL


class CounterOfferMade(_Offer):
    """A party answered another's open proposal with a split of its own."""

    kind: ClassVar[str] = k.COUNTER_OFFER
    in_reply_to: str | None = None

    def _move_fields(self) -> dict[str, Any]:
        fields = super()._move_fields()
        fields["target"] = self.in_reply_to
        return fields


class _Answer(MoveEvent):
    by: PartyCode
    of: str | None = None

    def _move_fields(self) -> dict[str, Any]:
        return {"by": self.by, "target": self.of}


class ProposalAccepted(_Answer):
    """A party accepted another party's open proposal."""

    kind: ClassVar[str] = k.ACCEPTANCE


class ProposalRejected(_Answer):
    """A party turned another party's open proposal down."""

    kind: ClassVar[str] = k.REJECTION


class ProposalWithdrawn(_Answer):
    """A party took back its own open proposal."""

    kind: ClassVar[str] = k.WITHDRAWAL


class PartyJoined(MoveEvent):
    """A party came to the table."""

    kind: ClassVar[str] = k.PARTY_JOINED
    party: PartyCode

    def _move_fields(self) -> dict[str, Any]:
        return {"party": self.party}


class PartyWithdrew(PartyJoined):
    """A party walked out of these talks; its open proposals lapsed."""

    kind: ClassVar[str] = k.PARTY_WITHDREW


class AgreementReached(MoveEvent):
    """Everyone at the table signed a split."""

    kind: ClassVar[str] = k.AGREEMENT
    class_version: ClassVar[int] = 2
    split: Split
    signatories: list[PartyCode] = []
    named: NamedSeats = {}

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """Before timeline@2 a split named no seats."""
        state["named"] = {}

    def _move_fields(self) -> dict[str, Any]:
        return {
            "split": self.split,
            "parties": tuple(self.signatories),
            "named": named_move_field(self.named),
        }


class AgreementAmended(MoveEvent):
    """An agreed split was changed."""

    kind: ClassVar[str] = k.AMENDMENT
    class_version: ClassVar[int] = 3
    split: Split
    signatories: list[PartyCode] = []  # as given; none given: everyone at the table
    named: NamedSeats = {}

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """Version 1 had no signatories: everyone at the table signed."""
        state["signatories"] = []

    @staticmethod
    def upcast_v2_v3(state: dict[str, Any]) -> None:
        """Before timeline@2 a split named no seats."""
        state["named"] = {}

    def _move_fields(self) -> dict[str, Any]:
        return {
            "split": self.split,
            "parties": tuple(self.signatories),
            "named": named_move_field(self.named),
        }


class TalksEnded(MoveEvent):
    """The talks ended without a deal."""

    kind: ClassVar[str] = k.TALKS_ENDED


class NoteRecorded(MoveEvent):
    """A statement was recorded; no seats changed."""

    kind: ClassVar[str] = k.NOTE
    by: PartyCode | None = None

    def _move_fields(self) -> dict[str, Any]:
        return {"by": self.by}


class AllianceMembershipMirrored(MoveEvent):
    """A party joined or left the alliance these talks belong to (copied from the alliance)."""

    party: PartyCode
    joined: bool
    mirror_of: str

    @property
    def kind(self) -> str:  # type: ignore[override]
        """Joined or left, as the alliance recorded it."""
        return k.PARTY_JOINED_ALLIANCE if self.joined else k.PARTY_LEFT_ALLIANCE

    def _move_fields(self) -> dict[str, Any]:
        return {"party": self.party}


class Changes(BaseModel):
    """The fields a correction replaces; unset fields stay as they were."""

    model_config = EVENT_CONFIG
    on: ValidTime | None = None
    split: Split | None = None
    by: PartyCode | None = None
    source: str | None = None
    note: str | None = None
    named: NamedSeats | None = None  # with `split`: the named seats of the new split


class MoveCorrected(LedgerEvent):
    """An earlier move was retracted or corrected; the original stays in the log."""

    class_version: ClassVar[int] = 2

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """Version 1's corrections named no seats."""
        changes = state.get("changes")
        if isinstance(changes, dict):
            changes["named"] = None

    move_id: str
    of: str
    retract: bool = False
    changes: Changes = Changes()
    reason: str | None = None
    mirror: bool = False


NEGOTIATION_MOVES: dict[str, type[MoveEvent]] = {
    cls.kind: cls
    for cls in (
        MeetingHeld,
        ProposalMade,
        CounterOfferMade,
        ProposalAccepted,
        ProposalRejected,
        ProposalWithdrawn,
        PartyJoined,
        PartyWithdrew,
        AgreementReached,
        AgreementAmended,
        TalksEnded,
        NoteRecorded,
    )
}
