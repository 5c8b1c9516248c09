"""A long story's snapshot in parts: its moves' rows in immutable blocks, written once.

A talks' snapshot used to hold every row of its story, so each import rewrote (and
re-read, re-parsed, re-sealed) the whole history of every talks it extended, though a file
changes only its last weeks: at 900k events, 232 MB of the 250 MB of snapshots an import
read and wrote again. Now a story's rows are numbered in the order they were first
written, and every full block of PART_ROWS rows is a part: its JSON bytes, named by their
SHA-256 and stored once. A snapshot lists the parts it builds on and carries only what
changes: the rows after the last full part, the story's order as row numbers, the states.
A part is parsed only when the fold reads one of its rows (a late fact, a correction).

In flight (from the mapper to the recorder, and from the recorder back) a snapshot is a
frame: the parts it names, the bodies that travel with it, then the mapper's bytes. The
recorder stores the frame without bodies (that is what the seal covers) and each new
body as a part; on load it puts the bodies back, each checked against its name.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

PART_ROWS = 64
"""Rows in one part: ~8 KB of JSON; a talks of 2,000 moves is 31 parts and its tail.
Smaller parts leave less in the snapshot itself and less to parse when a late fact's
search reads a row here and there (at 256, half the parts of the tenth 1M file were)."""

MAGIC = b"seatledger-parts@1\n"


def part_name(body: bytes) -> str:
    """A part's name: the SHA-256 of its bytes, in hex."""
    return hashlib.sha256(body).hexdigest()


def part_body(rows: list[list[Any]]) -> bytes:
    """A part's bytes: its rows as one JSON array."""
    return orjson.dumps(rows)


@dataclass(frozen=True)
class Frame:
    """A snapshot in flight: the parts it names, the bodies carried with it, its bytes."""

    names: tuple[str, ...]
    bodies: dict[str, bytes]
    data: bytes
    load: Callable[[], list[bytes]] | None = field(default=None, compare=False)
    """If set, reads every named part's body (in `names` order) when the story first reads
    a row of one: a talks extended only after its last move never reads its parts."""

    def encode(self) -> bytes:
        """The frame as bytes (the bodies in the order they are named)."""
        named = dict.fromkeys(self.names)
        sent = [(name, self.bodies[name]) for name in named if name in self.bodies]
        return b"".join([
            MAGIC,
            " ".join(self.names).encode(),
            b"\n",
            " ".join(f"{name}:{len(body)}" for name, body in sent).encode(),
            b"\n",
            *(body for _, body in sent),
            self.data,
        ])  # fmt: skip

    def without_bodies(self) -> Frame:
        """The frame as stored: its names and bytes (what the seal covers)."""
        return Frame(self.names, {}, self.data)

    def missing(self) -> list[str]:
        """The parts named whose bodies are not carried."""
        return [name for name in dict.fromkeys(self.names) if name not in self.bodies]


def decode_frame(state: bytes) -> Frame | None:
    """The frame in a snapshot's bytes; None if they are not framed (a whole snapshot)."""
    if not state.startswith(MAGIC):
        return None
    at = len(MAGIC)
    end = state.index(b"\n", at)
    names = tuple(state[at:end].decode("ascii").split())
    at, end = end + 1, state.index(b"\n", end + 1)
    bodies: dict[str, bytes] = {}
    offset = end + 1
    for entry in state[at:end].decode("ascii").split():
        name, _, size = entry.partition(":")
        length = int(size)
        bodies[name] = state[offset : offset + length]
        offset += length
    return Frame(names, bodies, state[offset:])


class PartsUnavailable(Exception):
    """The parts a snapshot names, read late, are missing or not what it named: the
    aggregate must be folded from its events instead (a load from the snapshot says why)."""


class PartRows:
    """A story's rows: those in parts, each part parsed on its first read, then the tail.

    Row `n` is row `n % PART_ROWS` of part `n // PART_ROWS`, or, after the last part, of
    the tail. Rows are only ever added to the tail, so the parts never change. Without
    `bodies`, `load` reads them all when a row of a part is first read.
    """

    __slots__ = ("bodies", "load", "names", "parsed", "tail")

    def __init__(
        self,
        names: list[str],
        bodies: list[bytes] | None,
        tail: list[list[Any]],
        load: Callable[[], list[bytes]] | None = None,
    ) -> None:
        if bodies is None and load is None:
            raise ValueError("the snapshot's parts were not loaded with it")
        self.names = names
        self.bodies = bodies
        self.load = load
        self.parsed: list[list[list[Any]] | None] = [None] * len(names)
        self.tail = tail

    def __len__(self) -> int:
        return len(self.names) * PART_ROWS + len(self.tail)

    def __getitem__(self, at: int) -> list[Any]:
        part, row = divmod(at, PART_ROWS)
        if part >= len(self.names):
            return self.tail[at - len(self.names) * PART_ROWS]
        rows = self.parsed[part]
        if rows is None:
            if self.bodies is None:
                self.bodies = self._loaded()
            rows = self.parsed[part] = orjson.loads(self.bodies[part])
            if len(rows) != PART_ROWS:
                raise ValueError(f"snapshot part {self.names[part]} holds {len(rows)} rows")
        return rows[row]

    def _loaded(self) -> list[bytes]:
        # Saves reading every part of every talks an import extends (a file of 1,000 moves
        # in order into 346 talks of a 900k-event ledger read 160 MB of parts; see
        # BENCHMARKS.md, "Small files into a grown ledger").
        assert self.load is not None
        bodies = self.load()
        if len(bodies) != len(self.names):
            raise PartsUnavailable(f"{len(bodies)} parts read for {len(self.names)} named")
        return bodies

    def extend(self, rows: Iterable[list[Any]]) -> None:
        """Add rows after the last."""
        self.tail.extend(rows)

    def parts_parsed(self) -> int:
        """How many parts were parsed so far."""
        return sum(rows is not None for rows in self.parsed)


def cut_parts(
    names: list[str], tail: list[list[Any]]
) -> tuple[list[str], dict[str, bytes], list[list[Any]]]:
    """Cut every full block of PART_ROWS off the tail into a new part.

    Returns all the part names (the given ones, then the new), the new parts' bodies by
    name, and the rows left in the tail.
    """
    names = list(names)
    new: dict[str, bytes] = {}
    full = len(tail) - len(tail) % PART_ROWS
    for start in range(0, full, PART_ROWS):
        body = part_body(tail[start : start + PART_ROWS])
        name = part_name(body)
        names.append(name)
        new[name] = body
    return names, new, tail[full:]
