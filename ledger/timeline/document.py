"""The timeline file (`seatledger/timeline@1`): pydantic models and safe parsing."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal, Self, get_args

import orjson
import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from ledger.domain.errors import FormatVersionError, InputError, nearest
from ledger.domain.values import Colour, PartyCode, Slug, ValidTime, parse_when
from ledger.wording import problem

FORMAT = "seatledger/timeline@1"
FORMAT_2 = "seatledger/timeline@2"
FORMATS = (FORMAT, FORMAT_2)
MAX_FILE_BYTES = 256 * 1024 * 1024
MAX_TEXT = 10_000


_FIELDS_SETS: dict[frozenset[str], set[str]] = {}


class Spec(BaseModel):
    """Strict input: unknown fields are refused, not ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)

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
SplitIn = dict[PartyCode, Seats]


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
    | CorrectionSpec
)


class TimelineFile(Spec):
    """A whole timeline file."""

    format: Literal["seatledger/timeline@1", "seatledger/timeline@2"]
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


class _NoAliasLoader(yaml.SafeLoader):
    """SafeLoader that refuses anchors/aliases: no YAML bombs, no shared nodes."""

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        """Refuse a key given twice: YAML would silently keep the last value."""
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, str | int):
                continue
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {str(key)[:40]!r} is given twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(
                None,
                None,
                "YAML aliases (*name) are not allowed in timeline files",
                event.start_mark,
            )
        return super().compose_node(parent, index)


# YAML 1.2 booleans: only true/false (YAML 1.1 would read the key `on:` as True), and
# dates stay strings so that pydantic checks them and names the field that is wrong.
_DROPPED_TAGS = {"tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp"}
_NoAliasLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in _DROPPED_TAGS]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_NoAliasLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


def _load(text: str) -> Any:
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        return orjson.loads(text)
    return yaml.load(text, Loader=_NoAliasLoader)


def _field_names(loc: tuple[Any, ...]) -> set[str]:
    """The fields allowed where an error is, for "did you mean" suggestions."""
    lists: dict[Any, type[Spec]] = {
        "parties": PartySpec, "negotiations": NegotiationSpec, "alliance": AllianceSpec
    }  # fmt: skip
    if loc and loc[0] in lists:
        return set(lists[loc[0]].model_fields)
    if len(loc) > 2 and loc[0] == "moves":
        classes: list[type[Spec]] = [Spec]
        while classes:
            cls = classes.pop()
            classes.extend(cls.__subclasses__())
            kind = cls.model_fields.get("type")
            if kind is not None and loc[2] in get_args(kind.annotation):
                return set(cls.model_fields)
    return set(TimelineFile.model_fields)


_LISTS = {"parties": "party", "negotiations": "negotiation"}


def _where(loc: tuple[Any, ...], raw: Any, default: str = "type") -> str:
    if len(loc) >= 2 and loc[0] in _LISTS and isinstance(loc[1], int):
        items = raw.get(loc[0], []) if isinstance(raw, dict) else []
        item = items[loc[1]] if isinstance(items, list) and loc[1] < len(items) else None
        key = (item.get("code") or item.get("id")) if isinstance(item, dict) else None
        label = f"{_LISTS[loc[0]]} #{loc[1] + 1}" + (f" ({str(key)[:40]})" if key else "")
        field = ".".join(str(p) for p in loc[2:])
        return f"{label}: {field}" if field else label
    if len(loc) >= 2 and loc[0] == "moves" and isinstance(loc[1], int):
        index = loc[1]
        move = raw.get("moves", [])[index] if isinstance(raw, dict) else None
        mid = move.get("id") if isinstance(move, dict) else None
        label = f"move {mid!r} (#{index + 1})" if mid else f"move #{index + 1}"
        rest = [str(p) for p in loc[2:] if not str(p).endswith(("Spec", "Move"))]
        if rest and rest[0] in _TYPES:
            rest = rest[1:]
        return f"{label}: {'.'.join(rest) or default}" if rest or default else label
    return ".".join(str(p) for p in loc) or "file"


_TYPES = {
    "meeting", "proposal", "counter_offer", "acceptance", "rejection", "withdrawal",
    "party_joined", "party_withdrew", "party_joined_alliance", "party_left_alliance",
    "agreement", "amendment", "talks_ended", "note", "correction",
}  # fmt: skip


def _printable(text: str) -> str:
    """Escape control characters: field names and tags come from the file, and a message
    must not drive the user's terminal (an ESC in a key would reach stderr raw)."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def explain(error: ValidationError, raw: Any, limit: int = 5) -> str:
    """Turn pydantic's errors into lines that name the move and the field."""
    lines = []
    for item in error.errors()[:limit]:
        loc, default = tuple(item["loc"]), "type"
        if item["type"] == "extra_forbidden":  # the message names the field itself
            loc, default = loc[:-1], ""
        where = _where(loc, raw, default)
        lines.append(_printable(f"{where}: {problem(item, _field_names(tuple(item['loc'])))}"))
    more = error.error_count() - limit
    if more > 0:
        lines.append(f"... and {more} more problem(s)")
    return "\n".join(lines)


def parse_timeline(text: str, *, name: str = "timeline") -> TimelineFile:
    """Parse and validate a timeline; raise InputError naming the move and field."""
    if text.lstrip().startswith("{"):
        return _parse_json(text.encode("utf-8"), name)
    return _parse_loaded(text, name)


def _parse_json(data: bytes, name: str) -> TimelineFile:
    """A JSON timeline validated straight from its bytes.

    pydantic's own JSON parser builds the models without a tree of Python dicts in
    between: a 100k-move file held the text, orjson's tree and the models at once
    (~440 MB). Only a file that fails validation is parsed again, to explain why.
    """
    _refuse_duplicate_keys(data, name)
    try:
        timeline = TimelineFile.model_validate_json(data)
    except ValidationError:
        return _parse_loaded(data.decode("utf-8"), name)
    check_references(timeline, name)
    return timeline


def _refuse_duplicate_keys(data: bytes, name: str) -> None:
    """Refuse a JSON object that gives one key twice, as YAML files are refused.

    pydantic's and orjson's parsers keep the last value silently, so a file could say
    one thing to a reader and another to the ledger. The standard parser hands each
    object's pairs to a hook, which keeps nothing: no tree is built, memory stays flat.
    """

    twice: list[str] = []

    def pairs(found: list[tuple[str, Any]]) -> None:
        seen: set[str] = set()
        for key, _ in found:
            if key in seen:
                twice.append(key)
                raise _Duplicate
            seen.add(key)

    try:
        json.loads(data, object_pairs_hook=pairs)
    except _Duplicate:
        raise InputError(_printable(f"{name}: key {twice[0][:40]!r} is given twice")) from None
    except (ValueError, RecursionError):
        pass  # not valid JSON: the parsers below say why


class _Duplicate(Exception):
    """Stops the parse at the first key given twice."""


def _parse_loaded(text: str, name: str) -> TimelineFile:
    try:
        raw = _load(text)
    except (yaml.YAMLError, ValueError, TypeError, RecursionError) as error:
        first = str(error).strip().splitlines()
        raise InputError(f"{name}: not valid YAML or JSON: {' '.join(first[:3])[:300]}") from None
    if not isinstance(raw, dict):
        raise InputError(f"{name}: a timeline is a mapping with 'format' and 'moves'")
    if raw.get("format") not in FORMATS:
        raise InputError(
            f"{name}: format must be {FORMAT!r} or {FORMAT_2!r}, "
            f"got {str(raw.get('format'))[:60]!r}"
        )
    refuse_seat_level(raw, name)
    try:
        timeline = TimelineFile.model_validate(raw)
    except ValidationError as error:
        raise InputError(f"{name}: {explain(error, raw)}") from None
    check_references(timeline, name)
    return timeline


def read_timeline(path: Path) -> TimelineFile:
    """Read a timeline file from disk."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InputError(f"{path}: {size} bytes is over the {MAX_FILE_BYTES} byte limit")
        data = path.read_bytes()
    except OSError as error:
        raise InputError(f"{path}: cannot read: {error.strerror}") from None
    if b"\x00" in data[:8192]:
        raise InputError(f"{path}: a binary file, not a YAML or JSON timeline")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text") from None
    if text.lstrip().startswith("{"):
        del text  # the bytes are enough: do not hold the file twice
        return _parse_json(data, str(path))
    return _parse_loaded(text, str(path))


def check_references(timeline: TimelineFile, name: str) -> None:
    """Every party listed, every id unique: the checks a file can make on its own."""
    check_format(timeline, name)
    listed = {p.code for p in timeline.parties}

    def party_ok(code: str | None, where: str) -> None:
        if code is not None and code not in listed:
            near = nearest(code, listed)
            hint = f" (did you mean {' or '.join(near)}?)" if near else ""
            raise InputError(
                f"{name}: {where}: party {code!r} is not in the file's parties list{hint}; "
                "list every party the file names under `parties:`"
            )

    if timeline.alliance and timeline.alliances:
        raise InputError(f"{name}: give 'alliance' (one) or 'alliances' (several), not both")
    alliances: set[str] = set()
    for index, alliance in enumerate(timeline.all_alliances()):
        if alliance.id in alliances:
            raise InputError(f"{name}: alliance {alliance.id!r} is listed twice")
        alliances.add(alliance.id)
        for code in alliance.members:
            party_ok(code, "alliance.members" if timeline.alliance else f"alliances.{index}")

    def alliance_ok(slug: str | None, where: str) -> None:
        if slug is not None and slug not in alliances:
            raise InputError(f"{name}: {where}: alliance {slug!r} is not one of the file's")

    slugs: set[str] = set()
    for neg in timeline.negotiations:
        if neg.id in slugs:
            raise InputError(f"{name}: negotiation {neg.id!r} is listed twice")
        slugs.add(neg.id)
        for code in neg.parties:
            party_ok(code, f"negotiation {neg.id!r}")
        alliance_ok(neg.alliance, f"negotiation {neg.id!r}")
    seen: set[str] = set()
    for index, move in enumerate(timeline.moves):
        where = f"move {move.id!r} (#{index + 1})" if move.id else f"move #{index + 1}"
        if move.id:
            if move.id in seen:
                raise InputError(f"{name}: {where}: id is used twice in the file")
            seen.add(move.id)
        for code in _parties_of(move):
            party_ok(code, where)
        alliance_ok(getattr(move, "alliance", None), where)


def _parties_of(move: AnyMove) -> Iterator[str]:
    for attr in ("by", "party"):
        value = getattr(move, attr, None)
        if value:
            yield value
    yield from getattr(move, "parties", None) or []
    yield from getattr(move, "signatories", None) or []
    yield from (getattr(move, "split", None) or {}).keys()


def uses_format_2(timeline: TimelineFile) -> Iterator[str]:
    """Where a timeline uses a field of `seatledger/timeline@2` (none: @1 is enough)."""
    for neg in timeline.negotiations:
        if neg.election is not None:
            yield f"negotiation {neg.id!r}: election"
    for index, move in enumerate(timeline.moves):
        if isinstance(move, AmendmentSpec) and move.signatories is not None:
            where = f"move {move.id!r} (#{index + 1})" if move.id else f"move #{index + 1}"
            yield f"{where}: signatories of an amendment"


def check_format(timeline: TimelineFile, name: str) -> None:
    """Refuse a `seatledger/timeline@1` file that uses an @2 field."""
    if timeline.format == FORMAT:
        for where in uses_format_2(timeline):
            raise FormatVersionError(f"{name}: {where} needs 'format: {FORMAT_2}'")


_SEAT_LEVEL_MOVES = ("partial_agreement", "constituencies_added")


def refuse_seat_level(raw: dict[str, Any], name: str) -> None:
    """Refuse the seat-level parts of @2 (constituencies, named seats, partial agreements).

    They are part of the format but not of this version: say so, rather than call the
    field unknown.
    """
    later = "is not supported yet (seat-level negotiations come in a later version)"
    for neg in raw.get("negotiations") or []:
        if isinstance(neg, dict) and "constituencies" in neg:
            raise FormatVersionError(
                f"{name}: negotiation {str(neg.get('id'))[:60]!r}: constituencies {later}"
            )
    for index, move in enumerate(raw.get("moves") or []):
        if not isinstance(move, dict):
            continue
        mid = move.get("id")
        where = f"move {str(mid)[:60]!r} (#{index + 1})" if mid else f"move #{index + 1}"
        if move.get("type") in _SEAT_LEVEL_MOVES:
            raise FormatVersionError(f"{name}: {where}: type {move['type']} {later}")
        split = move.get("split")
        if isinstance(split, dict):
            for party, share in split.items():
                if isinstance(share, list | dict):
                    raise FormatVersionError(
                        f"{name}: {where}: split.{str(party)[:40]}: named seats {later}"
                    )
