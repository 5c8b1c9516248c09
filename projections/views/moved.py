"""Seats moved, re-derived like the split history: which moves an event changed them for.

A move's seats moved (counts, and the named seats that changed hands) depend on the split
it replaced in the valid-time story, so a late fact or a correction can change them for
every later move. Only the moves from the first
changed one on are folded again (an in-order append derives just its own), and the fold
stops where the story is back to the states it had before the event.
"""

from __future__ import annotations

from ledger.domain.folding import Moved, moved_by
from ledger.domain.state import NegotiationState
from ledger.domain.story import Story
from projections.views.intervals import CONVERGE_WITHIN, StoryMark, first_change


def moved_changes(
    mark: StoryMark, story: Story[NegotiationState]
) -> list[tuple[str, Moved | None]]:
    """(move id, seats moved) for each move whose value the event may have changed.

    Moves the event took out of the story (a retraction) come with None; moves after the
    point where the new story is in the very state the old one was are left out.
    """
    after = story.moves
    if after is mark.moves and len(after) == mark.length + 1:
        last = after[-1]
        return [(last.move_id, moved_by(last, mark.final, story.final))]
    first = first_change(mark, after)
    old, old_len, new_len = mark.moves, mark.length, len(after)
    if first >= old_len and first >= new_len:
        return []
    same = 0  # the old and new stories end with this many identical moves
    while same < min(old_len, new_len) - first and after.same(
        new_len - 1 - same, old, old_len - 1 - same
    ):
        same += 1
    converge_from, delta = new_len - same, new_len - old_len
    check_until = converge_from + CONVERGE_WITHIN
    apply = story.apply
    state = old_state = story.state_before(first)
    folded = first  # old_state is the old story's state before old[folded]
    changes: list[tuple[str, Moved | None]] = []
    index = first
    while index < new_len:
        move = after[index]
        if converge_from <= index < check_until:
            at = index - delta
            while folded < at:
                old_state = apply(old_state, old[folded])
                folded += 1
            if state is old_state or state == old_state:
                break  # the same moves from the same state: the rest moved what they did
        following = apply(state, move)
        changes.append((move.move_id, moved_by(move, state, following)))
        state = following
        index += 1
    kept = {move.move_id for move in after[first:index]}
    gone = [m.move_id for m in old[first : old_len - same] if m.move_id not in kept]
    changes.extend((move_id, None) for move_id in gone)
    return changes
