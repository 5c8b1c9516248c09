"""Pydantic events to stored rows and back: canonical JSON, upcasts, the move index."""

from __future__ import annotations

import sys
from datetime import date, datetime, timezone
from typing import Any, Final, cast
from uuid import UUID

import orjson
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Mapper, MapperDeserialisationError, Notification, StoredEvent
from eventsourcing.utils import get_topic, resolve_topic
from pydantic import AwareDatetime, BaseModel, ValidationError
from pydantic_core import TzInfo

from ledger.domain.errors import UnreadableEventError
from ledger.domain.event_building import builds_without_pydantic
from ledger.domain.events import (
    AllianceMembershipMirrored,
    LedgerEvent,
    MoveCorrected,
    MoveEvent,
)
from ledger.domain.snapshot_parts import Frame, decode_frame
from ledger.domain.values import ValidTime
from ledger.persistence.recorders import IndexedStoredEvent
from ledger.wording import problem

_KEYS_IN_COLUMNS = {"originator_id", "originator_version"}
_DIRECT: Final = (
    orjson.OPT_SORT_KEYS
    | orjson.OPT_UTC_Z
    | orjson.OPT_PASSTHROUGH_SUBCLASS
    | orjson.OPT_PASSTHROUGH_DATACLASS
)
"""orjson straight from an event's fields: dates and datetimes as pydantic's JSON mode
writes them (a zero offset as Z), and anything orjson would write in its own way
(subclasses of str, int, dict or list; dataclasses) refused, so that the event takes
the model_dump path instead."""


def canonical_json(state: dict[str, Any]) -> bytes:
    """Sorted-key, compact UTF-8 JSON: the bytes that are stored and hashed."""
    # A copy of exactly the right size: orjson (3.12 on) hands back its 4 KiB working
    # buffer untrimmed, so an import holding 100k encoded events held 400 MB, not 35.
    return bytes(memoryview(orjson.dumps(state, option=orjson.OPT_SORT_KEYS)))


_UNKNOWN: Final[Any] = object()
_ENCODINGS: dict[type[Any], tuple[tuple[str, ...], int, bool] | None] = {}
_ALIGNED: dict[Any, bool] = {}
_PLAIN_FIELDS = (UUID, int, str, AwareDatetime)
_TIME_TYPES = (datetime, date)
"""Exactly these (read through a tuple: freezegun swaps module attributes that are the
classes themselves for subclasses of its own, which orjson does not write)."""
_FREE_FORM = dict[str, Any]
_DIRECT_FREE: Final = _DIRECT | orjson.OPT_PASSTHROUGH_DATETIME


def _encoding(cls: type[Any]) -> tuple[tuple[str, ...], int, bool] | None:
    """How the class's events may be written straight from their fields, if they may:
    (the fields that may hold a datetime, the class_version, whether a field is a
    free-form dict); else None (always model_dump)."""
    if not (isinstance(cls, type) and issubclass(cls, BaseModel)):
        return None
    fields = cls.model_fields
    if issubclass(cls, LedgerEvent):
        if not builds_without_pydantic(cls):
            return None  # a field of a type not known to be plain (e.g. a nested model)
        free = False
    else:
        # Other models (snapshots): scalar fields and free-form JSON dicts, no
        # configuration or decorator that changes how they are written.
        decorators = cls.__pydantic_decorators__
        if (
            set(cls.model_config) - {"frozen", "extra"}
            or decorators.field_serializers
            or decorators.model_serializers
            or any(
                info.metadata
                or (info.annotation not in _PLAIN_FIELDS and info.annotation != _FREE_FORM)
                for info in fields.values()
            )
        ):
            return None
        free = any(info.annotation == _FREE_FORM for info in fields.values())
    if cls.__pydantic_computed_fields__ or any(
        info.exclude is not None or info.serialization_alias is not None for info in fields.values()
    ):
        return None
    times = tuple(
        name for name, info in fields.items() if info.annotation in (AwareDatetime, ValidTime)
    )
    return times, getattr(cls, "class_version", 1), free


def _direct_json(model: BaseModel, encoding: tuple[tuple[str, ...], int, bool]) -> bytes | None:
    """The bytes `canonical_json` gives for the model's JSON dump, from its fields; None
    if a value might be written otherwise (orjson then refuses it, or it is a datetime
    whose offset is not whole minutes: pydantic and orjson round those differently)."""
    state = dict(model.__dict__)
    del state["originator_id"], state["originator_version"]
    times, class_version, free = encoding
    try:
        for name in times:
            value = state[name]
            if type(value) is _TIME_TYPES[0]:
                if not _whole_minutes(value):
                    return None
            elif type(value) is not _TIME_TYPES[1]:
                return None  # e.g. a subclass (orjson refuses those: so do we)
            if free:
                # Free-form dicts may hold anything: datetimes nested in them are refused
                # (passed through), so the fields' own are written here, as pydantic would.
                state[name] = orjson.dumps(value, option=orjson.OPT_UTC_Z)[1:-1].decode()
        if class_version > 1:
            state["class_version"] = class_version
        return bytes(memoryview(orjson.dumps(state, option=_DIRECT_FREE if free else _DIRECT)))
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return None


def _whole_minutes(value: datetime) -> bool:
    zone = value.tzinfo
    if zone is None:
        return False  # naive (never an event's): leave it to pydantic
    fixed = type(zone) is timezone or type(zone) is TzInfo
    if fixed and zone in _ALIGNED:
        return _ALIGNED[zone]
    offset = value.utcoffset()
    aligned = offset is not None and offset.seconds % 60 == 0 and not offset.microseconds
    if fixed and len(_ALIGNED) < 4096:
        _ALIGNED[zone] = aligned
    return aligned


def indexed_move_id(event: object) -> str | None:
    """The move id to put in the ledger-wide move index (mirrors are not indexed)."""
    if isinstance(event, AllianceMembershipMirrored):
        return None
    if isinstance(event, MoveCorrected):
        return None if event.mirror else event.move_id
    if isinstance(event, MoveEvent):
        return event.move_id
    return None


def upcast(cls: type[Any], state: dict[str, Any]) -> dict[str, Any]:
    """Bring a stored state from its class_version to the class's current version."""
    current = getattr(cls, "class_version", 1)
    version = state.pop("class_version", 1)
    while version < current:
        getattr(cls, f"upcast_v{version}_v{version + 1}")(state)
        version += 1
    return state


class PydanticMapper(Mapper[UUID]):
    """Maps pydantic events (`model_dump(mode="json")` in, `cls(**state)` out), with upcasts."""

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        """Encode an event as canonical JSON, tagging it with its class_version."""
        model = cast(BaseModel, domain_event)
        encoding = _ENCODINGS.get(type(model), _UNKNOWN)
        if encoding is _UNKNOWN:
            encoding = _ENCODINGS[type(model)] = _encoding(type(model))
        data = _direct_json(model, encoding) if encoding is not None else None
        if data is None:
            state = model.model_dump(mode="json", exclude=_KEYS_IN_COLUMNS)
            class_version = getattr(type(model), "class_version", 1)
            if class_version > 1:
                state["class_version"] = class_version
            data = canonical_json(state)
        if self.compressor:
            data = self.compressor.compress(data)
        if self.cipher:
            data = self.cipher.encrypt(data)
        parts = getattr(model, "parts", None)
        if type(parts) is Frame and parts.names:
            # A snapshot in parts: the recorder stores its new parts and the frame apart.
            data = Frame(parts.names, parts.bodies, data).encode()
        return IndexedStoredEvent(
            originator_id=domain_event.originator_id,
            originator_version=domain_event.originator_version,
            topic=get_topic(type(model)),
            state=data,
            move_id=indexed_move_id(domain_event),
        )

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        """Decode a stored row, upcasting older class versions first."""
        data = stored_event.state
        try:
            frame = decode_frame(data)
            if frame is not None:
                data = frame.data
            if self.cipher:
                data = self.cipher.decrypt(data)
            if self.compressor:
                data = self.compressor.decompress(data)
            cls = event_class(stored_event.topic)
            state = orjson.loads(data)
            state = upcast(cls, state)
            state["originator_id"] = stored_event.originator_id
            state["originator_version"] = stored_event.originator_version
            event = cls(**state)
            if frame is not None:
                with_parts = getattr(event, "with_parts", None)
                if with_parts is None:
                    raise ValueError("only a snapshot is stored in parts")
                event = with_parts(frame)
            return cast(DomainEventProtocol[UUID], event)
        except Exception as error:
            raise UnreadableEvent(unreadable(stored_event, error)) from error


class UnreadableEvent(MapperDeserialisationError, UnreadableEventError):
    """A stored row the mapper cannot decode: the library's error, and a user's (exit 2)."""


TOPIC_PACKAGE: Final = "ledger"


def event_class(topic: str) -> type[BaseModel]:
    """The pydantic event class a stored topic names, never by importing a foreign module.

    eventsourcing's `resolve_topic` imports whatever module a topic names; a row forged by
    someone who may only append would otherwise run any installed module's import-time
    code, or call any function with the row's JSON as keyword arguments. Our own modules
    may be imported (an event class's module is loaded on first use); others only if loaded.
    """
    module = topic.partition(":")[0]
    ours = module == TOPIC_PACKAGE or module.startswith(TOPIC_PACKAGE + ".")
    if not ours and module not in sys.modules:
        raise ValueError("not a seatledger event topic")
    cls = resolve_topic(topic)
    if not (isinstance(cls, type) and issubclass(cls, BaseModel)):
        raise ValueError("not a seatledger event class")
    return cls


def unreadable(stored: StoredEvent, error: BaseException) -> str:
    """One line naming the row (aggregate, version, notification id) and why it is unreadable."""
    where = f", notification {stored.id}" if isinstance(stored, Notification) else ""
    topic = str(stored.topic)
    topic = topic if len(topic) <= 80 else topic[:80] + "…"
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        field = ".".join(str(part) for part in first.get("loc", ())) or "its content"
        count = error.error_count()
        reason = f"{count} field(s) do not fit {error.title} (first: {field}: {problem(first)})"
    else:
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
    reason = reason[:200]
    return (
        f"stored event of aggregate {stored.originator_id}, version "
        f"{stored.originator_version}{where} (topic {topic!r}) cannot be read: {reason}; "
        "the ledger was written to outside seatledger: run `seatledger verify`"
    )
