"""Building events without pydantic's validation, where nothing needs validating.

Recording a move validates its event, and pydantic's validation was the largest single cost
of recording one. `build_checked` gives the very object validation would (same values,
copied containers, same fields set) when every value is already of its field's exact type
and passes its field's checks; otherwise None, and the caller validates with pydantic.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING, Any, Final, Literal, get_args
from uuid import UUID

from pydantic import AfterValidator, AwareDatetime, ConfigDict, Field
from pydantic_core import PydanticUndefined, TzInfo

from ledger.domain.values import (
    CONSTITUENCY_FORBIDDEN,
    MAX_CONSTITUENCY,
    MAX_SEATS,
    PARTY_RE,
    SLUG_RE,
    Constituency,
    NamedSeats,
    PartyCode,
    Slug,
    Split,
    ValidTime,
    check_party,
    check_slug,
)

if TYPE_CHECKING:
    from ledger.domain.events import LedgerEvent

EVENT_CONFIG: Final = ConfigDict(frozen=True, extra="forbid")
"""Every event class's configuration; a class with any other is always validated."""

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


def built(cls: type[LedgerEvent], data: dict[str, Any], fields_set: set[str]) -> LedgerEvent:
    # What pydantic's validation leaves on a model of this configuration (extra
    # "forbid", no private attributes): as model_construct, without its per-field work.
    event = cls.__new__(cls)
    _SET(event, "__dict__", data)
    _SET(event, "__pydantic_fields_set__", fields_set)
    _SET(event, "__pydantic_extra__", None)
    _SET(event, "__pydantic_private__", None)
    return event


def build_checked(cls: type[LedgerEvent], values: dict[str, Any]) -> LedgerEvent | None:
    """The event `cls(**values)` would build, built without pydantic; None if it cannot be."""
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
    return built(cls, data, set(values))


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


def _names(value: Any) -> Any:
    if type(value) is not list and type(value) is not tuple:
        return _SLOW
    for name in value:
        if type(name) is not str or name != name.strip() or not name:
            return _SLOW
        if len(name) > MAX_CONSTITUENCY or CONSTITUENCY_FORBIDDEN.search(name):
            return _SLOW
    return list(value)


def _named(value: Any) -> Any:
    if type(value) is not dict:
        return _SLOW
    named = {}
    for party, names in value.items():
        if _party(party) is _SLOW:
            return _SLOW
        listed = _names(names)
        if listed is _SLOW:
            return _SLOW
        named[party] = listed
    return named


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
    (NamedSeats, [], _named),
    (list[Constituency], [], _names),
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
        cls.model_config != EVENT_CONFIG
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
        elif default == {} and type(default) is dict:
            default = dict
        elif default is not None and type(default) not in (str, int, bool):
            return ()
        plan.append((name, check, default))
    return tuple(plan)
