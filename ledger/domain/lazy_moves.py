"""A story's moves as a sequence whose moves from a snapshot are unpacked only when read.

A talks loaded from its snapshot holds its moves as the snapshot's packed rows. Moves
recorded in order need only the final state and the last move's key; a late fact the
moves from the checkpoint before it (and O(log n) keys to find its place); a correction
one move, found by the id read straight from its row. Re-snapshotting writes each row
that was loaded back as it came, unpacked or not. The states the story keeps to re-fold
from (`PackedState`) are likewise unpacked only when a late fact reads them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, MutableMapping, Sequence
from typing import Any, Generic, TypeAlias, TypeVar, Union, cast, overload

from ledger.domain.moves import Move
from ledger.domain.snapshot_parts import PartRows

Item = Move | int
"""A move of the story: itself, or its place among the rows it was loaded from."""

S = TypeVar("S")


class PackedState(Generic[S]):
    """A state the story keeps (a checkpoint), as its snapshot's row: unpacked when read.

    Saves unpacking the ~33 kept states of a talks of 2,000 moves on every load and
    packing them again on every snapshot (only a late fact reads one): the tenth file of
    1M events, 2.4 s of 44 s under cProfile (BENCHMARKS.md, issue 13, kept states).
    """

    __slots__ = ("row", "unpack", "value")

    def __init__(self, row: Any, unpack: Callable[[Any], S]) -> None:
        self.row = row  # never changed: written back as it came
        self.unpack = unpack
        self.value: S | None = None

    def state(self) -> S:
        """The state (the same object at every read)."""
        if self.value is None:
            self.value = self.unpack(self.row)
        return self.value


Kept: TypeAlias = Union[S, PackedState[S]]  # noqa: UP007 (a generic alias)
"""A state the story keeps: itself, or its row until read."""


def read_state(state: Kept[S]) -> S:
    """A kept state, unpacked if it is still its row."""
    return state.state() if type(state) is PackedState else cast(S, state)


class Rows:
    """The packed rows a snapshot held: each unpacked on first read, once, then shared."""

    __slots__ = ("as_written", "id_at", "moves", "rows", "unpack", "unpacked")

    def __init__(
        self,
        rows: list[list[Any]] | PartRows,
        unpack: Callable[[list[Any]], Move],
        id_at: int,
        same: bool,
    ) -> None:
        self.rows = rows
        self.moves: list[Move | None] = [None] * len(rows)
        self.unpack = unpack
        self.id_at = id_at
        self.as_written = same  # in today's field order: a row can be written back as is
        self.unpacked = 0  # how many rows were unpacked so far

    def move(self, at: int) -> Move:
        """The move of row `at` (the same object at every read)."""
        move = self.moves[at]
        if move is None:
            # A copy: the unpacker converts its row in place, and the row is written back.
            move = self.moves[at] = self.unpack(self.rows[at][:])
            self.unpacked += 1
        return move

    def move_id(self, at: int) -> str:
        """The id of row `at`'s move, without unpacking it."""
        return cast(str, self.rows[at][self.id_at])

    def extend(self, rows: list[list[Any]]) -> int:
        """Add rows (recorded moves that no longer stand in the story); their first place."""
        first = len(self.rows)
        self.rows.extend(rows)
        self.moves.extend([None] * len(rows))
        return first


class LazyMoves(Sequence[Move]):
    """A story's moves, each either a Move or the place of its row in `Rows`.

    Saves unpacking every loaded move (~1.5 us each, a frozen dataclass of 22 fields) and
    packing it again: loading and re-snapshotting 500 talks of 2,001 moves, 18.8 s -> 5.7 s
    of CPU (BENCHMARKS.md, issue 13, moves unpacked when read).
    """

    __slots__ = ("items", "rows")

    def __init__(self, items: list[Item] | None = None, rows: Rows | None = None) -> None:
        self.items: list[Item] = [] if items is None else items
        self.rows = rows

    def __len__(self) -> int:
        return len(self.items)

    @overload
    def __getitem__(self, index: int) -> Move: ...

    @overload
    def __getitem__(self, index: slice) -> LazyMoves: ...

    def __getitem__(self, index: int | slice) -> Move | LazyMoves:
        if isinstance(index, slice):
            return LazyMoves(self.items[index], self.rows)
        item = self.items[index]
        if type(item) is int:
            return cast(Rows, self.rows).move(item)
        return cast(Move, item)

    def __iter__(self) -> Iterator[Move]:
        if self.rows is None:
            return iter(cast(list[Move], self.items))
        return self._unpacking()

    def _unpacking(self) -> Iterator[Move]:
        move = cast(Rows, self.rows).move
        for item in self.items:
            yield move(item) if type(item) is int else cast(Move, item)

    def __reversed__(self) -> Iterator[Move]:
        return (self[i] for i in range(len(self.items) - 1, -1, -1))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str | bytes):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"LazyMoves({len(self.items)} moves)"

    def append(self, move: Move) -> None:
        """Add a move at the end."""
        self.items.append(move)

    def extend(self, other: LazyMoves) -> None:
        """Add another sequence's moves (from the same rows, or none) at the end."""
        if other.rows is not None:
            assert self.rows is None or self.rows is other.rows
            self.rows = other.rows
        self.items.extend(other.items)

    def copy(self) -> LazyMoves:
        """A new sequence of the same moves."""
        return LazyMoves(self.items[:], self.rows)

    def __add__(self, other: LazyMoves) -> LazyMoves:
        joined = self.copy()
        joined.extend(other)
        return joined

    def index_of(self, move_id: str) -> int | None:
        """The place of the latest move with this id, read from rows, unpacking none."""
        items, rows = self.items, self.rows
        for index in range(len(items) - 1, -1, -1):
            item = items[index]
            if type(item) is int:
                if cast(Rows, rows).move_id(item) == move_id:
                    return index
            elif cast(Move, item).move_id == move_id:
                return index
        return None

    def same(self, index: int, other: LazyMoves, at: int) -> bool:
        """True if self[index] is the very move other[at], unpacking neither."""
        mine, theirs = _move_or_place(self, index), _move_or_place(other, at)
        if type(mine) is int and type(theirs) is int:
            return mine == theirs
        return mine is theirs

    def append_from(self, other: LazyMoves, at: int) -> None:
        """Add other[at] at the end, as it is held there (a loaded move keeps its row)."""
        if other.rows is not None:
            assert self.rows is None or self.rows is other.rows
            self.rows = other.rows
        self.items.append(other.items[at])


def _move_or_place(moves: LazyMoves, index: int) -> object:
    # The move if it is unpacked (or was never packed), else its row's place (reading no
    # part): one object, or one place, per move.
    item = moves.items[index]
    if type(item) is int:
        return cast(Rows, moves.rows).moves[item] or item
    return item


class RecordedMoves(MutableMapping[str, Move]):
    """Every move as first recorded, by id, as a snapshot loaded them: unpacked when read."""

    __slots__ = ("_items", "_rows")

    def __init__(self, items: dict[str, Item], rows: Rows) -> None:
        self._items = items
        self._rows = rows

    def __getitem__(self, move_id: str) -> Move:
        item = self._items[move_id]
        return self._rows.move(item) if type(item) is int else cast(Move, item)

    def __setitem__(self, move_id: str, move: Move) -> None:
        self._items[move_id] = move

    def __delitem__(self, move_id: str) -> None:
        del self._items[move_id]

    def __contains__(self, move_id: object) -> bool:
        return move_id in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def items_packed(self) -> Iterable[Item]:
        """Each recorded move as a move or the place of its row, in recording order."""
        return self._items.values()
