"""Hostile timeline files: each case is a file that must be refused, and what the refusal names.

Every case starts from one small, valid timeline and breaks one thing. The ids carry a
prefix so that a case can be imported next to the others without colliding.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
import yaml

TOO_MUCH = b"x" * 10_000_001  # a 10 MB note


def base(prefix: str = "t") -> dict[str, Any]:
    """A valid timeline: SP offers Congress 11 seats in Uttar Pradesh, they meet, INC accepts."""
    up = f"{prefix}-up"
    return {
        "format": "seatledger/timeline@1",
        "parties": [
            {"code": "SP", "name": "Samajwadi Party"},
            {"code": "INC", "name": "Indian National Congress"},
            {"code": "BSP", "name": "Bahujan Samaj Party"},
        ],
        "negotiations": [
            {
                "id": up,
                "title": "Uttar Pradesh seat sharing",
                "region": "Uttar Pradesh",
                "seats": 80,
                "parties": ["SP", "INC"],
                "opened_on": "2024-01-09",
            }
        ],
        "moves": [
            {
                "id": f"{prefix}-sp-offers-11",
                "negotiation": up,
                "type": "proposal",
                "on": "2024-01-27",
                "by": "SP",
                "split": {"SP": 69, "INC": 11},
                "source": "https://example.org/sp-offer",
                "note": "SP offers Congress 11 seats",
            },
            {
                "id": f"{prefix}-they-meet",
                "negotiation": up,
                "type": "meeting",
                "on": "2024-02-02",
                "parties": ["SP", "INC"],
                "venue": "Lucknow",
            },
            {
                "id": f"{prefix}-inc-accepts",
                "negotiation": up,
                "type": "acceptance",
                "on": "2024-02-19",
                "by": "INC",
                "of": f"{prefix}-sp-offers-11",
            },
        ],
    }


def as_yaml(timeline: dict[str, Any]) -> bytes:
    """A timeline dictionary as YAML."""
    return yaml.safe_dump(timeline, allow_unicode=True, sort_keys=False, width=1 << 30).encode()


def as_json(timeline: dict[str, Any]) -> bytes:
    """A timeline dictionary as JSON."""
    return orjson.dumps(timeline)


@dataclass(frozen=True)
class Case:
    """A hostile file and the patterns its refusal message must contain."""

    name: str
    content: bytes
    names: tuple[str, ...]


Build = Callable[[str], tuple[bytes, tuple[str, ...]]]
Encode = Callable[[dict[str, Any]], bytes]


def _changed(prefix: str, change: Callable[[dict[str, Any]], None], encode: Encode) -> bytes:
    timeline = base(prefix)
    change(timeline)
    return encode(timeline)


def _move(field: str, value: Any, *names: str, index: int = 0, encode: Encode = as_yaml) -> Build:
    def build(p: str) -> tuple[bytes, tuple[str, ...]]:
        def change(t: dict[str, Any]) -> None:
            t["moves"][index][field] = value

        return _changed(p, change, encode), tuple(n.format(move=_label(p, index)) for n in names)

    return build


def _drop(field: str, *names: str) -> Build:
    def build(p: str) -> tuple[bytes, tuple[str, ...]]:
        def change(t: dict[str, Any]) -> None:
            del t["moves"][0][field]

        return _changed(p, change, as_yaml), tuple(n.format(move=_label(p, 0)) for n in names)

    return build


def _talks(field: str, value: Any, *names: str) -> Build:
    def build(p: str) -> tuple[bytes, tuple[str, ...]]:
        def change(t: dict[str, Any]) -> None:
            t["negotiations"][0][field] = value

        return _changed(p, change, as_yaml), names

    return build


def _with(change: Callable[[dict[str, Any]], None], *names: str, encode: Encode = as_yaml) -> Build:
    def build(p: str) -> tuple[bytes, tuple[str, ...]]:
        return _changed(p, change, encode), tuple(n.format(prefix=p) for n in names)

    return build


def _text(content: bytes, *names: str) -> Build:
    return lambda p: (content, names)


def _label(prefix: str, index: int) -> str:
    moves = base(prefix)["moves"]
    return re.escape(f"move {moves[index]['id']!r} (#{index + 1})")


def _on(value: Any, encode: Encode = as_yaml) -> tuple[str, Build]:
    return f"date {value!r}", _move("on", value, "{move}", r": on\b", index=1, encode=encode)


def _swap(build: Build, old: bytes, new: bytes) -> Build:
    """Edit the encoded file: for what no encoder writes (raw control bytes, huge JSON ints)."""

    def swapped(p: str) -> tuple[bytes, tuple[str, ...]]:
        content, names = build(p)
        assert old in content
        return content.replace(old, new), names

    return swapped


def _big_note(encode: Encode) -> Build:
    # Encoders are slow on 10 MB strings (PyYAML takes seconds): splice the note in.
    return _swap(_move("note", "TOO-MUCH", "{move}", "note", encode=encode), b"TOO-MUCH", TOO_MUCH)


def _same_id(t: dict[str, Any]) -> None:
    t["moves"][1]["id"] = t["moves"][0]["id"]


def _shared(t: dict[str, Any]) -> None:
    t["negotiations"].append(copy.deepcopy(t["negotiations"][0]))


BOMB = b"""format: seatledger/timeline@1
a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
moves: *i
"""
DEEP_FLOW = b"[" * 100_000 + b"]" * 100_000
DEEP_BLOCK = b"a:\n" + b"".join(b" " * i + b"- \n" for i in range(1, 3000))
DEEP_JSON = b'{"format": "seatledger/timeline@1", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
LATIN_1 = "format: seatledger/timeline@1\nnote: café\n".encode("latin-1")

BUILDS: tuple[tuple[str, Build], ...] = (
    # wrong types
    ("a list for a date", _move("on", ["2024-01-27"], "{move}", r": on\b")),
    ("text for a split", _move("split", "SP=69,INC=11", "{move}", "split")),
    ("a word for the seats", _talks("seats", "eighty", r"negotiation #1 \([^)]*\): seats")),
    ("a string for the parties", _talks("parties", "SP,INC", r"negotiation #1 \([^)]*\): parties")),
    ("a number for a party", _move("by", 7, "{move}", "by")),
    ("fractional seats", _move("split", {"SP": 68.5, "INC": 11}, "{move}", r"split\.SP")),
    ("a boolean for seats", _move("split", {"SP": True, "INC": 11}, "{move}", r"split\.SP")),
    ("a list for a move", _with(lambda t: t["moves"].append([1, 2]), "move #4")),
    # missing fields
    ("no date", _drop("on", "{move}", r": on\b", "missing")),
    ("no type", _drop("type", "{move}", "type")),
    ("a proposal by nobody", _drop("by", "{move}", "by", "missing")),
    ("a proposal without a split", _drop("split", "{move}", "split", "missing")),
    ("talks without seats", _with(lambda t: t["negotiations"][0].pop("seats"), "seats")),
    ("no format", _with(lambda t: t.pop("format"), "format")),
    ("another format", _with(lambda t: t.update(format="seatledger/timeline@3"), "timeline@3")),
    # unknown fields
    ("an unknown move field", _move("colour", "red", "{move}", "colour", "unknown field")),
    ("an unknown top-level field", _with(lambda t: t.update(comments=["hi"]), "comments")),
    ("an unknown talks field", _talks("budget", 5, "budget", "unknown field")),
    # huge and negative numbers, seats over the total
    ("10^30 seats in a split", _move("split", {"SP": 10**30}, "{move}", r"split\.SP")),
    ("10^30 seats in the pool", _talks("seats", 10**30, "seats")),
    (
        "10^30 seats in JSON",
        _swap(_with(lambda t: None, encode=as_json), b'"seats":80', b'"seats":' + b"9" * 30),
    ),
    ("a negative pool", _talks("seats", -80, "seats", "greater than or equal to 0")),
    ("negative seats", _move("split", {"SP": -1, "INC": 11}, "{move}", r"split\.SP")),
    ("seats over the total", _move("split", {"SP": 70, "INC": 11}, "{move}", "81", "80")),
    # unknown parties
    ("an unlisted party", _move("split", {"SP": 69, "BJP": 11}, "{move}", "BJP", "parties")),
    (
        "a party not at the table",
        _move("parties", ["SP", "BSP"], "{move}", "BSP", "not at the", index=1),
    ),
    # duplicate ids
    ("a move id twice", _with(_same_id, "#2", "twice")),
    ("talks listed twice", _with(_shared, "{prefix}-up", "listed twice")),
    # dates out of range, in other formats, naive
    _on("2024-13-01"),
    _on("2024-02-30"),
    _on("01/02/2024"),
    _on("27 Jan 2024"),
    _on("0000-01-01"),
    _on("10000-01-01"),
    _on(20240127),
    _on(1706313600),
    _on(1706313600.5, encode=as_json),
    _on("9999-12-31T23:00:00-05:00"),
    _on("0001-01-01T00:00:00+05:00"),
    _on("2024-02-02T10:00"),
    _on("2024-02-02T00:00:00"),
    _on("2024-02-02 10:00:00"),
    ("a move before the talks opened", _move("on", "2024-01-01", "{move}", "before the talks")),
    # Unicode, control characters, SQL
    ("a Devanagari id", _move("id", "प्रस्ताव", "not a valid id")),
    (
        "an emoji party code",
        _with(
            lambda t: t["parties"].append({"code": "S🙂P"}),
            r"party #4 \([^)]*\): code",
            "party code",
        ),
    ),
    ("an escape sequence in an id", _move("id", "x\x1b[31m", "valid id", encode=as_json)),
    ("a raw control character", _swap(_move("note", "ring\x07", "#x0007"), b"\\a", b"\x07")),
    ("a NUL in a note", _move("note", "a\x00b", "{move}", "note", "NUL", encode=as_json)),
    ("SQL in an id", _move("id", "x'; DROP TABLE seatledger_events; --", "not a valid id")),
    (
        "SQL in a party code",
        _move("split", {"SP' OR '1'='1": 1}, "{move}", "not a valid party code"),
    ),
    # sizes and shapes
    ("a 10 MB note", _big_note(as_yaml)),
    ("a 10 MB note in JSON", _big_note(as_json)),
    ("deeply nested YAML", _swap(_move("note", "DEEP", "not valid YAML"), b"DEEP", DEEP_FLOW)),
    ("deeply nested block YAML", _text(DEEP_BLOCK, "not valid YAML")),
    ("deeply nested JSON", _text(DEEP_JSON, "not valid YAML or JSON")),
    ("a YAML bomb", _text(BOMB, "aliases")),
    ("a YAML merge key", _text(b"x: &x {format: seatledger/timeline@1}\n<<: *x\n", "aliases")),
    ("a Python tag", _text(b"format: !!python/object/apply:os.system ['echo owned']\n", "tag")),
    ("an empty file", _text(b"", "mapping")),
    ("a scalar", _text(b"42\n", "mapping")),
    ("a list", _text(b"[1, 2, 3]", "mapping")),
    # not text at all
    ("a binary file", _text(bytes(range(256)) * 64, "binary")),
    ("Latin-1 text", _text(LATIN_1, "UTF-8")),
    ("UTF-16 text", _text("format: seatledger/timeline@1\n".encode("utf-16"), "binary")),
)  # fmt: skip

CASE_NAMES = tuple(name for name, _ in BUILDS)


def case(index: int, prefix: str) -> Case:
    """Hostile case number `index`, its ids prefixed so it collides with no other case."""
    name, build = BUILDS[index]
    content, names = build(prefix)
    return Case(name, content, names)


CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def check_message(case: Case, message: str) -> None:
    """The refusal names the problem, in a few plain lines a terminal shows as they are."""
    for pattern in case.names:
        assert re.search(pattern, message), f"{case.name}: {pattern!r} not in {message!r}"
    assert "Traceback" not in message, message
    assert not CONTROL.search(message), f"{case.name}: raw control characters in {message!r}"
    assert message.count("\n") <= 8 and len(message) < 4000, f"{case.name}: {message[:500]!r}"
