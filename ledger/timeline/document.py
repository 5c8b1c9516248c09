"""The timeline file's document (`seatledger/timeline@1` and `@2`): one pydantic model per
section and per move type, and the stable id of a move given without one."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)

from ledger.domain.errors import InputError
from ledger.domain.values import Colour, Constituency, PartyCode, Slug, ValidTime, parse_when

FORMAT = "seatledger/timeline@1"
FORMAT_2 = "seatledger/timeline@2"
FORMATS = (FORMAT, FORMAT_2)
MAX_FILE_BYTES = 256 * 1024 * 1024
MAX_TEXT = 10_000


_FIELDS_SETS: dict[frozenset[str], set[str]] = {}


class Spec(BaseModel):
    """Strict input: unknown fields are refused, not ignored."""

    # defer_build: validators are built on a file's or option's first use, not at import;
    # a command that reads none (`seatledger split`) saves ~100 ms of its ~1,020 ms of CPU.
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    @model_validator(mode="after")
    def _share_fields_set(self) -> Self:
        """Share one set of given field names among specs that gave the same fields.

        pydantic keeps a set per model (728 bytes for six names): 70 MB of a 100k-move
        file's ~190 MB of specs, for a handful of distinct sets. The models are frozen,
        and pydantic copies the set before changing it (model_copy), so sharing is safe.
        """
        given = self.__pydantic_fields_set__
        shared = _FIELDS_SETS.get(key := frozenset(given))
        if shared is None:
            shared = _FIELDS_SETS.setdefault(key, set(given))
        object.__setattr__(self, "__pydantic_fields_set__", shared)
        return self


def _as_written(value: object) -> object:
    """Read a date as the format writes it: pydantic alone reads numbers, and numeric text,
    as Unix seconds (`on: 20240127` became 1970-08-23) and a naive midnight as a date."""
    if isinstance(value, int | float):  # bool too
        raise ValueError(f"{value!r} is not a date; use YYYY-MM-DD or an ISO datetime with offset")
    if isinstance(value, str):
        try:
            return parse_when(value, what="date")
        except InputError as error:
            raise ValueError(str(error).removeprefix("date: ")) from None
    return value


def _in_range(value: ValidTime) -> ValidTime:
    """Refuse an instant that has no UTC equivalent (ordering it would overflow)."""
    if isinstance(value, datetime):
        try:
            value.astimezone(UTC)
        except OverflowError:
            raise ValueError(f"{value.isoformat()} is out of range in UTC") from None
    return value


WrittenTime = Annotated[ValidTime, BeforeValidator(_as_written), AfterValidator(_in_range)]
"""A date or an instant as a timeline file (or a command line) gives it."""


def _no_nul(value: str) -> str:
    """PostgreSQL text cannot hold NUL: a note with one was stored in the log, and then
    every view built from the log failed on it, for every negotiation."""
    if "\x00" in value:
        raise ValueError("text may not contain NUL characters (\\x00)")
    return value


Text = Annotated[str, Field(max_length=MAX_TEXT), AfterValidator(_no_nul)]
Seats = Annotated[int, Field(strict=True, ge=0, le=100_000)]


class ShareSpec(BaseModel):
    """A count with some of its seats named: `{seats: 17, named: [Amethi, Rae Bareli]}` (@2)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)  # as Spec's
    seats: Seats
    named: list[Constituency] = []


Share = Seats | list[Constituency] | ShareSpec
"""A party's share: a count, a list of constituencies (@2), or a count with names (@2)."""
SplitIn = dict[PartyCode, Share]


def counts_and_names(split: SplitIn) -> tuple[dict[str, int], dict[str, list[str]]]:
    """A split as written, as the ledger keeps it: counts, and the named seats beside them."""
    counts: dict[str, int] = {}
    named: dict[str, list[str]] = {}
    for party, share in split.items():
        if type(share) is int:
            counts[party] = share
        elif isinstance(share, list):
            counts[party] = len(share)
            named[party] = list(share)
        else:
            assert isinstance(share, ShareSpec)
            counts[party] = share.seats
            if share.named:
                named[party] = list(share.named)
    return counts, named


def written_split(split: dict[str, int], named: dict[str, Any] | None) -> dict[str, Any]:
    """The inverse of `counts_and_names`: a share with names is their list when they are all
    its seats, else `{seats, named}`."""
    if not named:
        return split
    written: dict[str, Any] = {}
    for party, count in split.items():
        names = list(named.get(party) or [])
        if not names:
            written[party] = count
        elif len(names) == count:
            written[party] = names
        else:
            written[party] = {"seats": count, "named": names}
    return written


def names_share(split: SplitIn | None) -> bool:
    """True if a split as written names seats (a list or an object share)."""
    return any(type(share) is not int for share in (split or {}).values())


class PartySpec(Spec):
    """A party the file uses."""

    code: PartyCode
    name: Text = ""
    colour: Colour | None = None  # its line and bars in every report (#RRGGBB)


class AllianceSpec(Spec):
    """The coalition the file's talks belong to."""

    id: Slug
    name: Text = ""
    members: list[PartyCode] = []
    formed_on: WrittenTime


class NegotiationSpec(Spec):
    """Talks over one pool of seats."""

    id: Slug
    title: Text = ""
    region: Text = ""
    seats: Seats
    parties: list[PartyCode] = Field(min_length=1)
    opened_on: WrittenTime
    source: Text | None = None
    note: Text | None = None
    election: Text | None = None  # @2
    alliance: Slug | None = None  # in a file with `alliances:`, the one these talks belong to
    constituencies: list[Constituency] | None = None  # @2: all or some of the pool, by name


class _Move(Spec):
    id: Slug | None = None
    negotiation: Slug | None = None
    on: WrittenTime
    source: Text | None = None
    note: Text | None = None
    confidence: Literal["confirmed", "reported"] = "confirmed"


class MeetingSpec(_Move):
    """Talks held."""

    type: Literal["meeting"]
    parties: list[PartyCode] = []
    venue: Text | None = None
    alliance: Slug | None = None  # an alliance-level move in a file with `alliances:`


class ProposalSpec(_Move):
    """A split put on the table."""

    type: Literal["proposal"]
    by: PartyCode
    split: SplitIn


class CounterOfferSpec(_Move):
    """An answer to another party's open proposal, with a split."""

    type: Literal["counter_offer"]
    by: PartyCode
    split: SplitIn
    in_reply_to: Slug | None = None


class AnswerSpec(_Move):
    """An acceptance, rejection or withdrawal of an open proposal."""

    type: Literal["acceptance", "rejection", "withdrawal"]
    by: PartyCode
    of: Slug | None = None


class PartySpecMove(_Move):
    """A party joining or walking out of talks, or joining or leaving the alliance."""

    type: Literal["party_joined", "party_withdrew", "party_joined_alliance", "party_left_alliance"]
    party: PartyCode
    alliance: Slug | None = None  # an alliance-level move in a file with `alliances:`


class AgreementSpec(_Move):
    """The deal."""

    type: Literal["agreement"]
    split: SplitIn
    signatories: list[PartyCode] | None = None


class AmendmentSpec(_Move):
    """A change to an agreed split."""

    type: Literal["amendment"]
    split: SplitIn
    signatories: list[PartyCode] | None = None  # @2


class PartialAgreementSpec(_Move):
    """A piece of the deal: the shares in its split are settled (@2)."""

    type: Literal["partial_agreement"]
    signatories: list[PartyCode]
    split: SplitIn


class ConstituenciesAddedSpec(_Move):
    """More constituencies of the pool listed (@2)."""

    type: Literal["constituencies_added"]
    names: list[Constituency] = Field(min_length=1)


class TalksEndedSpec(_Move):
    """Talks ended without a deal."""

    type: Literal["talks_ended"]
    note: Text


class NoteSpec(_Move):
    """A recorded statement."""

    type: Literal["note"]
    note: Text
    by: PartyCode | None = None
    alliance: Slug | None = None  # an alliance-level move in a file with `alliances:`


class CorrectionSpec(Spec):
    """A fix to an earlier move: retract it, or give the fields that were wrong."""

    type: Literal["correction"]
    id: Slug | None = None
    negotiation: Slug | None = None
    of: Slug
    retract: bool = False
    on: WrittenTime | None = None
    split: SplitIn | None = None
    by: PartyCode | None = None
    source: Text | None = None
    note: Text | None = None
    confidence: Literal["confirmed", "reported"] = "confirmed"
    reason: Text | None = None

    @model_validator(mode="after")
    def _says_what(self) -> CorrectionSpec:
        changed = [self.on, self.split, self.by, self.source, self.note]
        if self.retract and any(v is not None for v in changed):
            raise ValueError("a correction either retracts or replaces fields, not both")
        if not self.retract and all(v is None for v in changed):
            raise ValueError("a correction needs retract: true or a field to correct")
        return self


MoveSpec = Annotated[
    MeetingSpec
    | ProposalSpec
    | CounterOfferSpec
    | AnswerSpec
    | PartySpecMove
    | AgreementSpec
    | AmendmentSpec
    | TalksEndedSpec
    | NoteSpec
    | PartialAgreementSpec
    | ConstituenciesAddedSpec
    | CorrectionSpec,
    Field(discriminator="type"),
]
AnyMove = (
    MeetingSpec
    | ProposalSpec
    | CounterOfferSpec
    | AnswerSpec
    | PartySpecMove
    | AgreementSpec
    | AmendmentSpec
    | TalksEndedSpec
    | NoteSpec
    | PartialAgreementSpec
    | ConstituenciesAddedSpec
    | CorrectionSpec
)


class TimelineFile(Spec):
    """A whole timeline file."""

    format: Literal["seatledger/timeline@1", "seatledger/timeline@2"]
    # `date`: moves are taken by `on` (the contract); `recorded`: each talk's and alliance's
    # moves and corrections are taken in the file's order, as the ledger first recorded them.
    order: Literal["date", "recorded"] = "date"
    alliance: AllianceSpec | None = None
    alliances: list[AllianceSpec] = []  # several (an export of a ledger that has several)
    parties: list[PartySpec] = []
    negotiations: list[NegotiationSpec] = []
    moves: list[MoveSpec] = []

    def all_alliances(self) -> list[AllianceSpec]:
        """Every alliance the file forms or names: `alliance`, or each of `alliances`."""
        return [self.alliance] if self.alliance else list(self.alliances)

    def alliance_of(self, talks: NegotiationSpec) -> str | None:
        """The alliance talks opened by this file belong to."""
        return self.alliance.id if self.alliance else talks.alliance

    def alliance_of_move(self, move: AnyMove) -> str | None:
        """The alliance an alliance-level move belongs to."""
        return self.alliance.id if self.alliance else getattr(move, "alliance", None)


def move_id_for(move: AnyMove, occurrence: int = 0) -> str:
    """A stable id for a move given without one: the same content gives the same id."""
    if move.id:
        return move.id
    # `alliance` is left out when not given, so that ids made before it existed stay the same.
    unset = {"alliance"} if getattr(move, "alliance", None) is None else set()
    content = move.model_dump_json(exclude={"id", *unset})
    digest = hashlib.sha256(content.encode()).hexdigest()[:10]
    suffix = f".{occurrence + 1}" if occurrence else ""
    if isinstance(move, CorrectionSpec):
        return f"{move.of}.correction.{digest}{suffix}"
    day = move.on.strftime("%Y%m%d")
    return f"{move.negotiation or 'alliance'}.{move.type}.{day}.{digest}{suffix}"
