"""Fold the event log itself to any (as of D, as known on K): the reference for projections.

"As known on K" is the longest prefix of an aggregate's events (in version order) recorded
at or before K; "as of D" folds the resulting valid-time story up to the end of D. Both use
the aggregates' own code, so the rules cannot disagree.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any, NamedTuple

from ledger.domain.events import LedgerEvent
from ledger.domain.moves import Move
from ledger.domain.state import AGREED, NegotiationState
from ledger.domain.story import Story
from ledger.domain.story_aggregate import Storied
from ledger.domain.values import Split


def as_known(events: Iterable[LedgerEvent], known_on: datetime | None) -> Any | None:
    """The aggregate built from its events recorded by `known_on` (None: everything)."""
    aggregate: Any = None
    for event in events:
        if known_on is not None and event.timestamp > known_on:
            break
        aggregate = event.mutate(aggregate)
    return aggregate


def state_on(story: Story[Any], as_of: datetime | None) -> Any:
    """The state after every move of the story dated up to `as_of` (None: all of them)."""
    if as_of is None:
        return story.final
    # O(log n) keys, not all n: a story loaded from a snapshot unpacks only those moves.
    index = bisect_right(story.moves, (as_of, 1 << 62), key=_key)
    return story.state_before(index)


def intervals(
    story: Story[NegotiationState], start: int = 0, initial: NegotiationState | None = None
) -> list[tuple[datetime, NegotiationState, Move]]:
    """The valid-time story as (valid_from, state, last move) runs; same-instant moves collapse.

    From `start` on, only the runs of moves[start:] (a changed tail), folded from `initial`:
    the state before moves[start] (default: the story's own, from its nearest checkpoint).
    """
    runs: list[tuple[datetime, NegotiationState, Move]] = []
    if initial is not None:
        state = initial
    else:
        state = story.initial if start == 0 else story.state_before(start)
    apply = story.apply
    moves = story.moves
    for index in range(start, len(moves)):
        move = moves[index]
        state = apply(state, move)
        begin = move.key[0]
        if runs and runs[-1][0] == begin:
            runs[-1] = (begin, state, move)
        else:
            runs.append((begin, state, move))
    return runs


def negotiation_state(
    events: Iterable[LedgerEvent], as_of: datetime | None, known_on: datetime | None
) -> NegotiationState | None:
    """Where a negotiation stood on `as_of`, as the ledger knew it on `known_on`."""
    aggregate = as_known(events, known_on)
    if not isinstance(aggregate, Storied):
        return None
    state = state_on(aggregate.story, as_of)
    return state if isinstance(state, NegotiationState) else None


def seats_moved(split: Split, before: Split) -> dict[str, int]:
    """Seats gained (+) or lost (-) per party; parties whose seats did not change are left out."""
    moved: dict[str, int] = {}
    for party in [*split, *(p for p in before if p not in split)]:
        delta = split.get(party, 0) - before.get(party, 0)
        if delta:
            moved[party] = delta
    return moved


Handover = tuple[str, str | None, str | None]
"""A listed constituency whose holder a move changed: (name, holder before, holder after)."""


class Moved(NamedTuple):
    """What one move moved: seats per party, and the named seats that changed hands."""

    seats: dict[str, int]  # gained (+) or lost (-) per party
    given: tuple[Handover, ...] = ()  # in the negotiation's list order; None: unassigned


def seats_given(before: NegotiationState, after: NegotiationState) -> tuple[Handover, ...]:
    """The listed constituencies whose holder differs after a move (a change of status alone,
    say from settled to agreed, is not a handover)."""
    if not after.seating.listed and not before.seating.listed:
        return ()
    old = {name: holder for name, holder, _ in before.holders()}
    return tuple(
        (name, old.get(name), holder)
        for name, holder, _ in after.holders()
        if old.get(name) != holder
    )


def moved_by(move: Move, before: NegotiationState, after: NegotiationState) -> Moved | None:
    """The seats one move moved: the split on the table after it against the one it replaced.

    None for a move that puts no split on the table (an acceptance, a meeting), unless it
    changes an agreed split (a party that walks out after an agreement gives seats back).
    """
    if move.split is not None or (before.status == AGREED and after.split is not before.split):
        return Moved(seats_moved(after.split, before.split), seats_given(before, after))
    return None


def story_moved(
    story: Story[NegotiationState], start: int = 0
) -> Iterator[tuple[str, Moved | None]]:
    """(move id, seats moved) for each move of the story from `start` on, in story order."""
    state = story.initial if start == 0 else story.state_before(start)
    apply = story.apply
    for move in story.moves[start:]:
        after = apply(state, move)
        yield move.move_id, moved_by(move, state, after)
        state = after


def _key(move: Move) -> tuple[datetime, int]:
    return move.key
