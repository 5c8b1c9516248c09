"""A story packed for its snapshot: what the fold needs, in plain JSON, with no re-fold on load.

Moves are positional rows (the field names are listed once per snapshot); the fold's states
(the story's checkpoints, the states around its latest late move, the final state) are
typed rows built from their dataclasses' annotations; dicts are flat `[key, value, ...]`
lists, so their order is kept (the fold's checks compare states in every order a caller
could see). The shared `NO_SEATING` stays that very object (the rules test it with `is`).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Hashable
from dataclasses import fields, is_dataclass
from datetime import date, datetime
from functools import lru_cache
from operator import attrgetter
from types import MappingProxyType, NoneType, UnionType
from typing import Any, Union, cast, get_args, get_origin, get_type_hints

from pydantic import TypeAdapter

from ledger.domain.moves import Move
from ledger.domain.state import NO_SEATING, Seating
from ledger.domain.values import ValidTime

MOVE_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Move))
_MOVE_VALUES = attrgetter(*MOVE_FIELDS)
_AT = {name: index for index, name in enumerate(MOVE_FIELDS)}
_ON, _SPLIT, _PARTIES, _RECORDED_AT, _NAMED, _NAMES = (
    _AT[name] for name in ("on", "split", "parties", "recorded_at", "named", "names")
)
_REPEATED = tuple(_AT[name] for name in ("kind", "confidence", "recorded_by", "by", "party"))
_SHARED: dict[type[Any], Any] = {Seating: NO_SEATING}
"""Dataclass values the rules test by identity: packed as null, unpacked as the object."""

_VALID_TIME: TypeAdapter[ValidTime] = TypeAdapter(ValidTime)

Codec = tuple[Callable[[Any], Any], Callable[[Any], Any]]


@lru_cache(maxsize=8192)
def valid_time(text: str) -> ValidTime:
    """A stored date or instant, as an event's field would read it."""
    return _VALID_TIME.validate_python(text)


def flat(mapping: Any) -> list[Any]:
    """A dict as [key, value, key, value, ...]: JSON that keeps the dict's order."""
    return [item for pair in mapping.items() for item in pair]


def unflat(items: list[Any]) -> dict[Any, Any]:
    """The inverse of flat."""
    return dict(zip(items[::2], items[1::2], strict=True))


def pack_move(move: Move) -> list[Any]:
    """A move as a positional row of JSON values."""
    row = list(_MOVE_VALUES(move))
    row[_ON] = move.on.isoformat()
    if move.split is not None:
        row[_SPLIT] = flat(move.split)
    if move.recorded_at is not None:
        row[_RECORDED_AT] = move.recorded_at.isoformat()
    if move.named is not None:
        row[_NAMED] = flat(move.named)
    return row


def move_unpacker(names: list[str]) -> Callable[[list[Any]], Move]:
    """Rows written with these field names back to moves (a field added since: its default)."""
    if tuple(names) == MOVE_FIELDS:
        return _unpack_move
    known = [(i, name) for i, name in enumerate(names) if name in _AT]

    def by_name(row: list[Any]) -> Move:
        current = list(_MOVE_VALUES(_BLANK))
        for i, name in known:
            current[_AT[name]] = row[i]
        return _unpack_move(current)

    return by_name


def _unpack_move(row: list[Any]) -> Move:
    # A loaded story holds every move in memory: one string object for each kind,
    # party code or recorder, and one date object for each day, not one per move.
    for i in _REPEATED:
        if row[i] is not None:
            row[i] = sys.intern(row[i])
    row[_ON] = valid_time(row[_ON])
    if row[_SPLIT] is not None:
        row[_SPLIT] = unflat(row[_SPLIT])
    row[_PARTIES] = tuple(row[_PARTIES])
    if row[_RECORDED_AT] is not None:
        row[_RECORDED_AT] = datetime.fromisoformat(row[_RECORDED_AT])
    if row[_NAMED] is not None:
        named = row[_NAMED]
        row[_NAMED] = {named[i]: tuple(named[i + 1]) for i in range(0, len(named), 2)}
    row[_NAMES] = tuple(row[_NAMES])
    return Move(*row)


_BLANK = Move("", "", date.min, 0)


def state_codec(cls: type[Any]) -> Codec:
    """(pack, unpack) for a fold state: a frozen dataclass of plain values."""
    return _codec(cast(Hashable, cls))


@lru_cache(maxsize=64)
def _codec(tp: Any) -> Codec:
    """(pack, unpack) for a value of this annotation, built once per type."""
    origin, args = get_origin(tp), get_args(tp)
    if tp in (str, int, bool, float, NoneType):
        return _same, _same
    if tp is object:  # a state's date fields (opened_on, formed_on): a ValidTime or None
        return _pack_time, _unpack_time
    if origin in (Union, UnionType):
        (inner,) = [a for a in args if a is not NoneType]
        pack, unpack = _codec(inner)
        if pack is _same and unpack is _same:
            return _same, _same
        return (lambda v: None if v is None else pack(v)), (
            lambda v: None if v is None else unpack(v)
        )
    if origin is frozenset:
        # Sorted: a set's order depends on PYTHONHASHSEED and on how it was built, and a
        # snapshot's bytes (now its parts' names) should depend only on its content.
        return (sorted if args == (str,) else list), frozenset
    if origin is tuple:
        pack, unpack = _codec(args[0])
        if pack is _same and unpack is _same:
            return _same, tuple
        return (lambda v: [pack(x) for x in v]), (lambda v: tuple(unpack(x) for x in v))
    if origin in (dict, MappingProxyType):
        pack, unpack = _codec(args[1])
        wrap = MappingProxyType if origin is MappingProxyType else _same
        return (lambda v: [x for k, i in v.items() for x in (k, pack(i))]), (
            lambda v: wrap({v[i]: unpack(v[i + 1]) for i in range(0, len(v), 2)})
        )
    if is_dataclass(tp):
        return _dataclass_codec(tp)
    raise TypeError(f"a snapshot cannot pack a state field of type {tp!r}")


def _dataclass_codec(cls: Any) -> Codec:
    hints = get_type_hints(cls)
    names = [f.name for f in fields(cls)]
    codecs = [_codec(hints[name]) for name in names]
    values = attrgetter(*names)
    shared = _SHARED.get(cls)

    def pack(value: Any) -> list[Any] | None:
        if shared is not None and value is shared:
            return None
        return [p(v) for (p, _), v in zip(codecs, values(value), strict=True)]

    def unpack(row: list[Any] | None) -> Any:
        if row is None:
            return shared
        return cls(*[u(v) for (_, u), v in zip(codecs, row, strict=True)])

    return pack, unpack


def _same(value: Any) -> Any:
    return value


def _pack_time(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, date):
        raise TypeError(f"a snapshot packs dates and instants here, not {value!r}")
    return value.isoformat()


def _unpack_time(value: str | None) -> ValidTime | None:
    return None if value is None else valid_time(value)
