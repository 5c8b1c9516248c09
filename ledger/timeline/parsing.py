"""Reading a timeline file safely: size-capped, alias-free YAML or duplicate-free JSON, then
validated into a `TimelineFile`, with every error explained in the user's words."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, get_args

import orjson
import yaml
from pydantic import (
    ValidationError,
)

from ledger.domain.errors import InputError
from ledger.timeline.checks import check_references
from ledger.timeline.document import (
    FORMAT,
    FORMAT_2,
    FORMATS,
    MAX_FILE_BYTES,
    AllianceSpec,
    NegotiationSpec,
    PartySpec,
    Spec,
    TimelineFile,
)
from ledger.wording import problem


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
    "partial_agreement", "constituencies_added",
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
