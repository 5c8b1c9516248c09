"""Checks across a whole parsed timeline: every reference resolves, and the format it declares
is the one its fields need (`@2` only when a seat-level field is used)."""
from __future__ import annotations

from collections.abc import Iterator
from functools import cache

from ledger.domain.errors import FormatVersionError, InputError, nearest
from ledger.timeline.document import (
    FORMAT,
    FORMAT_2,
    AmendmentSpec,
    AnyMove,
    ConstituenciesAddedSpec,
    PartialAgreementSpec,
    TimelineFile,
    names_share,
)


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
        for field in _fields_of(type(move), ("alliance",)):
            alliance_ok(getattr(move, field), where)


def _parties_of(move: AnyMove) -> Iterator[str]:
    for field in _fields_of(type(move), ("by", "party", "parties", "signatories", "split")):
        value = getattr(move, field)
        if not value:
            continue
        if isinstance(value, str):
            yield value
        else:
            yield from value  # a list of codes, or a split's parties (its keys)


@cache
def _fields_of(kind: type[AnyMove], wanted: tuple[str, ...]) -> tuple[str, ...]:
    """The fields of this kind of move among those wanted.

    Asking a pydantic model for a field it lacks goes through its `__getattr__` and an
    AttributeError (~7 us): five such asks per move were 10% of importing 100k moves.
    """
    return tuple(name for name in wanted if name in kind.model_fields)


def uses_format_2(timeline: TimelineFile) -> Iterator[str]:
    """Where a timeline uses a field of `seatledger/timeline@2` (none: @1 is enough)."""
    for neg in timeline.negotiations:
        if neg.election is not None:
            yield f"negotiation {neg.id!r}: election"
        if neg.constituencies is not None:
            yield f"negotiation {neg.id!r}: constituencies"
    for index, move in enumerate(timeline.moves):
        where = f"move {move.id!r} (#{index + 1})" if move.id else f"move #{index + 1}"
        if isinstance(move, AmendmentSpec) and move.signatories is not None:
            yield f"{where}: signatories of an amendment"
        if isinstance(move, PartialAgreementSpec | ConstituenciesAddedSpec):
            yield f"{where}: type {move.type}"
        elif names_share(getattr(move, "split", None)):
            yield f"{where}: named seats in the split"


def check_format(timeline: TimelineFile, name: str) -> None:
    """Refuse a `seatledger/timeline@1` file that uses an @2 field."""
    if timeline.format == FORMAT:
        for where in uses_format_2(timeline):
            raise FormatVersionError(f"{name}: {where} needs 'format: {FORMAT_2}'")
