"""Every event a negotiation can record: explicit, past-tense, versioned pydantic classes.

Stored topics are this module's path plus the class name: never rename or move a class
without a topic alias, and never change a field without a `class_version` upcast.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, timezone
from typing import Any, ClassVar, Final, Literal, Protocol, Self, cast, get_args
from uuid import UUID

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field
from pydantic_core import PydanticUndefined, TzInfo

from ledger.domain import moves as k
from ledger.domain.moves import Move
from ledger.domain.values import (
    MAX_SEATS,
    PARTY_RE,
    SLUG_RE,
    PartyCode,
    Slug,
    Split,
    ValidTime,
    check_party,
    check_slug,
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

    model_config = ConfigDict(frozen=True, extra="forbid")
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
        plan = _PLANS.get(cls)
        if plan is None:
            plan = _PLANS[cls] = _plan(cls)
        if not plan:
            return None
        data: dict[str, Any] = {}
        given = 0
        for name, check, default in plan:
            value = values.get(name, _ABSENT)
            if value is _ABSENT:
                if default is _ABSENT:
                    return None  # required: pydantic says so
                data[name] = default() if callable(default) else default
                continue
            value = check(value)
            if value is _SLOW:
                return None
            data[name] = value
            given += 1
        if given != len(values):
            return None  # a name that is not a field: pydantic refuses it
        return cast(Self, _built(cls, data, set(values)))

    def updated(self, name: str, value: Any) -> Self:
        """`model_copy(update={name: value})`, cheaper: a field resolved after checking."""
        data = dict(self.__dict__)
        data[name] = value
        return cast(Self, _built(type(self), data, self.__pydantic_fields_set__ | {name}))

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
    class_version: ClassVar[int] = 2
    negotiation: Slug
    title: str
    region: str
    seats: int = Field(ge=0, le=MAX_SEATS)
    parties: list[PartyCode]
    alliance: Slug | None = None
    election: Text | None = None

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """Version 1 had no election: talks opened then belong to none."""
        state["election"] = None

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
        }


class MeetingHeld(MoveEvent):
    """Talks were held; no seats changed."""

    kind: ClassVar[str] = k.MEETING
    parties: list[PartyCode] = []
    venue: str | None = None

    def _move_fields(self) -> dict[str, Any]:
        return {"parties": tuple(self.parties), "venue": self.venue}


class _Offer(MoveEvent):
    by: PartyCode
    split: Split

    def _move_fields(self) -> dict[str, Any]:
        return {"by": self.by, "split": self.split}


class ProposalMade(_Offer):
    """A party put a split on the table."""

    kind: ClassVar[str] = k.PROPOSAL


class CounterOfferMade(_Offer):
    """A party answered another's open proposal with a split of its own."""

    kind: ClassVar[str] = k.COUNTER_OFFER
    in_reply_to: str | None = None

    def _move_fields(self) -> dict[str, Any]:
        return {"by": self.by, "split": self.split, "target": self.in_reply_to}


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
    split: Split
    signatories: list[PartyCode] = []

    def _move_fields(self) -> dict[str, Any]:
        return {"split": self.split, "parties": tuple(self.signatories)}


class AgreementAmended(MoveEvent):
    """An agreed split was changed."""

    kind: ClassVar[str] = k.AMENDMENT
    class_version: ClassVar[int] = 2
    split: Split
    signatories: list[PartyCode] = []  # as given; none given: everyone at the table

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """Version 1 had no signatories: everyone at the table signed."""
        state["signatories"] = []

    def _move_fields(self) -> dict[str, Any]:
        return {"split": self.split, "parties": tuple(self.signatories)}


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

    model_config = ConfigDict(frozen=True, extra="forbid")
    on: ValidTime | None = None
    split: Split | None = None
    by: PartyCode | None = None
    source: str | None = None
    note: str | None = None


class MoveCorrected(LedgerEvent):
    """An earlier move was retracted or corrected; the original stays in the log."""

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


# -- building events without pydantic's validation, where nothing needs validating --

_ABSENT: Final[Any] = object()
_SLOW: Final[Any] = object()
_SET = object.__setattr__
_FIXED_ZONES = (timezone, TzInfo)
_REAL_DATETIME, _REAL_DATE = _TIME_TYPES = (datetime, date)
"""Exactly these classes (read through a tuple: freezegun swaps module attributes that
are the classes themselves for its subclasses, whose values pydantic must see)."""
_MAX_KNOWN = 65_536

_known_parties: set[str] = set()
_known_slugs: set[str] = set()

Check = Callable[[Any], Any]
_PLANS: dict[type[LedgerEvent], tuple[tuple[str, Check, Any], ...]] = {}


def builds_without_pydantic(cls: type[LedgerEvent]) -> bool:
    """True if `cls.checked` may build events of this class (its fields are all plain)."""
    plan = _PLANS.get(cls)
    if plan is None:
        plan = _PLANS[cls] = _plan(cls)
    return bool(plan)


def _built(cls: type[LedgerEvent], data: dict[str, Any], fields_set: set[str]) -> LedgerEvent:
    # What pydantic's validation leaves on a model of this configuration (extra
    # "forbid", no private attributes): as model_construct, without its per-field work.
    event = cls.__new__(cls)
    _SET(event, "__dict__", data)
    _SET(event, "__pydantic_fields_set__", fields_set)
    _SET(event, "__pydantic_extra__", None)
    _SET(event, "__pydantic_private__", None)
    return event


def _str(value: Any) -> Any:
    return value if type(value) is str else _SLOW


def _optional_str(value: Any) -> Any:
    return value if value is None or type(value) is str else _SLOW


def _int(value: Any) -> Any:
    return value if type(value) is int else _SLOW


def _bool(value: Any) -> Any:
    return value if type(value) is bool else _SLOW


def _uuid(value: Any) -> Any:
    return value if type(value) is UUID else _SLOW


def _aware(value: Any) -> Any:
    if type(value) is _REAL_DATETIME and type(value.tzinfo) in _FIXED_ZONES:
        return value
    return _SLOW


def _valid_time(value: Any) -> Any:
    if type(value) is _REAL_DATE:
        return value
    return _aware(value)


def _matching(pattern: re.Pattern[str], known: set[str]) -> Check:
    """A check that passes a string matching `pattern`, remembering (some) that passed."""

    def check(value: Any) -> Any:
        if type(value) is str and (value in known or _learn(pattern, known, value)):
            return value
        return _SLOW

    return check


def _learn(pattern: re.Pattern[str], known: set[str], value: str) -> bool:
    if pattern.match(value) is None:
        return False
    if len(known) < _MAX_KNOWN:
        known.add(value)
    return True


_party = _matching(PARTY_RE, _known_parties)
_slug = _matching(SLUG_RE, _known_slugs)


def _optional_party(value: Any) -> Any:
    return None if value is None else _party(value)


def _optional_slug(value: Any) -> Any:
    return None if value is None else _slug(value)


def _parties(value: Any) -> Any:
    if type(value) is not list and type(value) is not tuple:
        return _SLOW
    for code in value:
        if _party(code) is _SLOW:
            return _SLOW
    return list(value)


def _split(value: Any) -> Any:
    if type(value) is not dict:
        return _SLOW
    for party, seats in value.items():
        if type(party) is not str or type(seats) is not int:
            return _SLOW
    return dict(value)


def _one_of(choices: tuple[Any, ...]) -> Check:
    def check(value: Any) -> Any:
        return value if type(value) is str and value in choices else _SLOW

    return check


def _within(low: int, high: int) -> Check:
    def check(value: Any) -> Any:
        return value if type(value) is int and low <= value <= high else _SLOW

    return check


_SEATS: list[Any] = Field(ge=0, le=MAX_SEATS).metadata
_PARTY_CODE = AfterValidator(check_party)
_SLUG = AfterValidator(check_slug)
_CHECKS: list[tuple[Any, list[Any], Check]] = [
    (str, [], _str),
    (str | None, [], _optional_str),
    (int, [], _int),
    (bool, [], _bool),
    (UUID, [], _uuid),
    (AwareDatetime, [], _aware),
    (ValidTime, [], _valid_time),
    (str, [_PARTY_CODE], _party),
    (PartyCode | None, [], _optional_party),
    (str, [_SLUG], _slug),
    (Slug | None, [], _optional_slug),
    (list[PartyCode], [], _parties),
    (Split, [], _split),
]
"""Field types (annotation and metadata, as pydantic keeps them) that `checked` knows."""


def _check_for(annotation: Any, metadata: list[Any]) -> Check | None:
    for known, extra, check in _CHECKS:
        if annotation == known and metadata == extra:
            return check
    if (
        getattr(annotation, "__origin__", None) is Literal
        and all(type(choice) is str for choice in get_args(annotation))
        and not metadata
    ):
        return _one_of(get_args(annotation))
    if annotation is int and metadata == _SEATS:
        return _within(0, MAX_SEATS)
    return None


def _plan(cls: type[LedgerEvent]) -> tuple[tuple[str, Check, Any], ...]:
    """How `checked` builds this class's events; () if it cannot (always validate)."""
    decorators = cls.__pydantic_decorators__
    if (
        cls.model_config != LedgerEvent.model_config
        or cls.__pydantic_post_init__ is not None
        or cls.__private_attributes__
        or decorators.validators
        or decorators.field_validators
        or decorators.root_validators
        or decorators.model_validators
        or decorators.field_serializers
        or decorators.model_serializers
    ):
        return ()
    plan = []
    for name, info in cls.model_fields.items():
        check = _check_for(info.annotation, info.metadata)
        if check is None or info.alias is not None or info.validation_alias is not None:
            return ()
        if info.default_factory is not None:
            return ()
        default = info.default
        if default is PydanticUndefined:
            default = _ABSENT
        elif default == [] and type(default) is list:
            default = list  # a fresh list for every event, as validation gives
        elif default is not None and type(default) not in (str, int, bool):
            return ()
        plan.append((name, check, default))
    return tuple(plan)
