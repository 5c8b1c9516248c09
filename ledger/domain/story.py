"""A valid-time story: moves in (date, recording order) with the state after each.

In-order moves cost one `apply`. A late fact or a correction re-folds only from the
nearest checkpoint before its date (or from the states kept around the previous late
move, when it lands after those), and is refused if any later move no longer holds.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass, fields, is_dataclass, replace
from datetime import datetime
from types import MappingProxyType
from typing import Generic, TypeVar

from ledger.domain.errors import LateMoveConflictError, RuleError
from ledger.domain.lazy_moves import Kept, LazyMoves, read_state
from ledger.domain.moves import Move

S = TypeVar("S")
CHECKPOINT_EVERY = 64

Resolver = Callable[[S, Move], Move]


@dataclass(frozen=True)
class Plan(Generic[S]):
    """The outcome of admitting a move, checked but not yet committed."""

    move: Move | None
    final: S
    moves: LazyMoves | None = None  # None: a plain append of `move`
    checkpoints: dict[int, Kept[S]] | None = None
    around: dict[int, Kept[S]] | None = None  # states just before and after the change, by index
    dropped: str | None = None  # the id of a move the plan retracts
    key: tuple[datetime, int] | None = None  # the key of `move`, when known already
    pending: tuple[int, S] | None = None  # moves from this place on not folded yet (_defer)


class Story(Generic[S]):
    """Moves ordered on the valid-time axis, folded by one rules function."""

    def __init__(
        self,
        initial: S,
        apply: Callable[[S, Move], S],
        never_refused: Callable[[Move], bool] | None = None,
    ) -> None:
        self.initial = initial
        self.apply = apply
        self.never_refused = never_refused  # moves `apply` takes in any state (see _defer)
        self.moves = LazyMoves()  # unpacked only when read (a story loaded from a snapshot)
        self._final: S = initial
        self._pending: tuple[int, S] | None = None
        self._checkpoints: dict[int, Kept[S]] = {0: initial}
        self._around: dict[int, Kept[S]] = {}
        self._last: Move | None = None
        self._last_key_value: tuple[datetime, int] = (datetime.min, 0)
        self._keys: dict[str, tuple[datetime, int]] = {}  # see _index_of
        self.every = CHECKPOINT_EVERY  # moves between checkpoints (the views keep more)

    def __len__(self) -> int:
        return len(self.moves)

    @property
    def final(self) -> S:
        """The state after every move."""
        if self._pending is not None:
            self._fold_pending()
        return self._final

    def _fold_pending(self) -> None:
        """Fold the moves a late move left unfolded (see _defer), as its plan would have."""
        assert self._pending is not None
        at, state = self._pending
        self._pending = None
        moves = self.moves
        for i in range(at, len(moves)):
            state = self.apply(state, moves[i])
            if (i + 1) % self.every == 0:
                self._checkpoints[i + 1] = state
        self._final = state

    def find(self, move_id: str) -> Move | None:
        """The move with this id in the current story, if any."""
        index = self._index_of(move_id)
        return None if index is None else self.moves[index]

    def _index_of(self, move_id: str) -> int | None:
        """The place of the move with this id: by its key (O(log n)) if the story placed it
        since it was created or restored, else by a scan of every move's id.

        Saves the scan's growth with a talks' length: each correction looked its move up
        twice by scanning. A file of 20 talks of ~2,000 moves (one process, CPU): 92.1/89.5
        -> 87.2/82.5 us an event.
        """
        key = self._keys.get(move_id)
        if key is not None:
            moves = self.moves
            index = bisect_left(moves, key, key=_key)
            if index < len(moves) and moves[index].move_id == move_id:
                return index
        return self.moves.index_of(move_id)

    def plan_add(self, move: Move, resolve: Resolver[S] | None = None) -> Plan[S]:
        """Check a new move, in order or late; raise a RuleError naming what it breaks."""
        moves = self.moves
        key = move.key
        if not moves or key >= self._last_key(moves[-1]):
            resolved = resolve(self.final, move) if resolve else move
            return Plan(resolved, self.apply(self.final, resolved), key=key)
        index = bisect_right(moves, key, key=_key)
        return self._refold(
            self.moves[:index], move, self.moves[index:], resolve, index, (index + 1, 1)
        )

    def _last_key(self, last: Move) -> tuple[datetime, int]:
        # The last move's key, computed once: in-order moves compare with it every time.
        if self._last is not last:
            self._last, self._last_key_value = last, last.key
        return self._last_key_value

    def plan_replace(self, move_id: str, replacement: Move | None) -> Plan[S]:
        """Check a story where one move is retracted (None) or replaced."""
        index = self._index_of(move_id)
        if index is None:
            raise RuleError(f"move {move_id} is not in this story")
        rest = self.moves[:index] + self.moves[index + 1 :]
        if replacement is None:
            plan = self._refold(rest[:index], None, rest[index:], None, index, (index, -1))
            return replace(plan, dropped=move_id)
        new_index = bisect_right(rest, replacement.key, key=_key)
        start = min(index, new_index)
        same = (max(index, new_index) + 1, 0)
        return self._refold(rest[:new_index], replacement, rest[new_index:], None, start, same)

    def commit(self, plan: Plan[S]) -> None:
        """Make a checked plan the current story."""
        if plan.moves is None:
            if plan.move is not None:
                self.moves.append(plan.move)
                if len(self.moves) % self.every == 0:
                    self._checkpoints[len(self.moves)] = plan.final
        else:
            self.moves = plan.moves
            self._checkpoints = plan.checkpoints or {0: self.initial}
            self._around = plan.around or {}
        self._pending = plan.pending
        if plan.move is not None:
            key = plan.move.key if plan.key is None else plan.key
            self._keys[plan.move.move_id] = key
            if plan.moves is None:
                self._last, self._last_key_value = plan.move, key
        if plan.dropped is not None:
            self._keys.pop(plan.dropped, None)
        self._final = plan.final

    def kept_states(self) -> tuple[dict[int, S], dict[int, S]]:
        """The states the story keeps to re-fold from: its checkpoints, and those around
        its latest late move (by the index of the move they stand before)."""
        if self._pending is not None:
            self._fold_pending()
        return (
            {at: read_state(s) for at, s in self._checkpoints.items()},
            {at: read_state(s) for at, s in self._around.items()},
        )

    def held_states(self) -> tuple[dict[int, Kept[S]], dict[int, Kept[S]]]:
        """kept_states as held: a state loaded from a snapshot and not read is its row."""
        if self._pending is not None:
            self._fold_pending()
        return self._checkpoints, self._around

    def restore(
        self,
        moves: LazyMoves,
        final: S,
        checkpoints: dict[int, Kept[S]],
        around: dict[int, Kept[S]],
    ) -> None:
        """Take moves and the states kept from them as they were (a snapshot), unfolded."""
        self.moves = moves
        self._final = final
        self._pending = None
        self._keys = {}
        self._checkpoints = {0: self.initial, **checkpoints}
        self._around = around

    def state_before(self, index: int) -> S:
        """The state before moves[index], from the nearest checkpoint."""
        start, state = self._nearest(index)
        for move in self.moves[start:index]:
            state = self.apply(state, move)
        return state

    def _refold(
        self,
        before: LazyMoves,
        new: Move | None,
        after: LazyMoves,
        resolve: Resolver[S] | None,
        changed_from: int,
        same: tuple[int, int],
    ) -> Plan[S]:
        """Fold `before`, `new` and `after` from the last checkpoint before the change.

        `before` is the caller's own copy of the moves before the change: the plan's
        moves are `before` extended, not a copy of it.

        `same` is (position, shift): from that many moves on, the new story holds the
        old story's moves, each `shift` places later. Where the state there is the very
        state the old story had (at one of its checkpoints), the same moves from the
        same state give the same states and break no rule: the old rest is kept as is.
        """
        same_from, shift = same
        if self._pending is not None and changed_from < self._pending[0]:
            self._fold_pending()  # the change reaches moves not folded yet: fold them first
        old = self._checkpoints
        start, state = self._nearest(min(changed_from, len(before)))
        checkpoints = {c: s for c, s in old.items() if c <= start}
        for i in range(start, len(before)):
            state = self.apply(state, before[i])
            if (i + 1) % self.every == 0:
                checkpoints[i + 1] = state
        # The new story grows from `before` itself, and its length is counted here: a
        # second copy of the moves and a call of len() at each step grew with a talks'
        # length (every own move of talks opened late in a season is a late move).
        moves, size = before, len(before)
        around: dict[int, Kept[S]] = {size: state}
        if new is not None:
            new = resolve(state, new) if resolve else new
            state = self.apply(state, new)
            moves.append(new)
            size += 1
            if size % self.every == 0:
                checkpoints[size] = state
        around[size] = state
        if self._defer(after, size - shift):
            moves.extend(after)
            return Plan(new, state, moves, checkpoints, around, pending=(size, state))
        for k, later in enumerate(after):
            at = size - shift  # where the old story was at this point
            if size >= same_from and at in old and _identical(state, read_state(old[at])):
                moves.extend(after[k:])
                checkpoints.update({c + shift: s for c, s in old.items() if c > at})
                return Plan(new, self.final, moves, checkpoints, around)
            try:
                state = self.apply(state, later)
            except RuleError as error:
                cause = f"{new.move_id} (dated {new.on})" if new else "that change"
                raise LateMoveConflictError(
                    f"{cause} would break later move {later.move_id}: {error}",
                    broken_move=later.move_id,
                ) from error
            moves.append_from(after, k)  # a loaded move keeps its row for the next snapshot
            size += 1
            if size % self.every == 0:
                checkpoints[size] = state
        return Plan(new, state, moves, checkpoints, around)

    def _defer(self, after: LazyMoves, old_at: int) -> bool:
        """True if the moves after a change may be left unfolded until a state after them
        is read: `apply` takes each of them in any state, and the old story keeps no state
        among them that the re-fold could meet (so it would have folded them all).

        Saves re-folding, for every own move of talks opened late in a season, each of the
        alliance's joins and leaves mirrored after it. The second of two files of 20
        talks of ~2,000 moves cut by talks, with 10 joins and 10 leaves (one process,
        CPU): 11.4 -> 2.8 rule applications a move, 105 -> 72-79 us an event.
        """
        never_refused = self.never_refused
        if never_refused is None or not after:
            return False
        if any(c >= old_at for c in self._checkpoints):
            return False
        return all(never_refused(move) for move in after)

    def _nearest(self, index: int) -> tuple[int, S]:
        """The latest known state at or before moves[index]: a checkpoint, or one of the
        states just before and just after the latest late move or correction.

        Talks opened late in a season hold the alliance's membership moves mirrored at
        opening, dated across the season, so each of their own moves lands before those
        and is late: the next one lands just after the previous, and the views ask for
        the state just before it.
        """
        # Saves re-folding up to CHECKPOINT_EVERY moves per late move: 100k events cut by
        # talks into 10 files on SQLite, 3.3 rule applications a move (was ~39), import
        # 0.07 -> 0.11 of raw inserts (51 s -> 31 s); rebuilding its views 59 s -> 12-27 s.
        start = max((c for c in self._checkpoints if c <= index), default=0)
        state = read_state(self._checkpoints.get(start, self.initial))
        for at, known in self._around.items():
            if start < at <= index:
                start, state = at, read_state(known)
        return start, state


def _key(move: Move) -> tuple[datetime, int]:
    # For bisect's key=: it computes O(log n) keys, not a list of all n.
    return move.key


def _identical(a: object, b: object) -> bool:
    """Equal, and alike in every order a caller could see (dict keys, set iteration)."""
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, dict | MappingProxyType):
        assert isinstance(b, dict | MappingProxyType)
        return list(a) == list(b) and all(_identical(a[k], b[k]) for k in a)
    if isinstance(a, frozenset | set):
        return a == b and list(a) == list(b)
    if isinstance(a, tuple | list):
        assert isinstance(b, tuple | list)
        return len(a) == len(b) and all(map(_identical, a, b))
    if is_dataclass(a):
        return all(_identical(getattr(a, f.name), getattr(b, f.name)) for f in fields(a))
    return a == b
