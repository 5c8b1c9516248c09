"""The bitemporal split history of one negotiation: which rows an event closes and opens.

After each event the negotiation's valid-time story is cut into runs by
`ledger.domain.folding.intervals`. Only the runs from the earliest instant the event changed
are recomputed (an in-order append recomputes just the last one), starting from the
story's own checkpointed state before that instant.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import NamedTuple

from ledger.domain.folding import intervals
from ledger.domain.lazy_moves import LazyMoves
from ledger.domain.moves import Move
from ledger.domain.state import UNOPENED, NegotiationState
from ledger.domain.story import Story
from projections.views.derive import SplitRow, split_row
from projections.views.timeaxis import END_OF_TIME, micros


class CurrentRow(NamedTuple):
    """A row of the split history that is still current on the recorded axis."""

    valid_from: int
    valid_to: int
    content: SplitRow
    recorded_from: int


class RowChanges(NamedTuple):
    """Rows to close (recorded_to = K) and rows to open (recorded_from = K)."""

    closed: list[CurrentRow]
    opened: list[CurrentRow]
    current: list[CurrentRow]  # every current row afterwards, by valid_from


class StoryMark:
    """The story as it stood before an event: enough to find what the event changed."""

    def __init__(self, story: Story[NegotiationState] | None = None) -> None:
        # An append extends this very list; a refold replaces it with a new one.
        self.moves = story.moves if story is not None else LazyMoves()
        self.length = len(self.moves)
        self.final = story.final if story is not None else NegotiationState()


def first_change(mark: StoryMark, after: LazyMoves) -> int:
    """The index of the first move that is not the very move it was before the event."""
    if after is mark.moves:
        return mark.length
    end = min(mark.length, len(after))
    index = 0
    while index < end and mark.moves.same(index, after, index):
        index += 1
    return index


CONVERGE_WITHIN = 32
"""How many moves into the unchanged end of a story a refold looks for its old states."""

Run = tuple[datetime, NegotiationState, Move]


def _tail_runs(
    mark: StoryMark, story: Story[NegotiationState], start: int, initial: NegotiationState
) -> tuple[list[Run], datetime | None]:
    """Runs of moves[start:], stopping early where the story is as it was.

    A late fact or a correction changes a few moves; the story ends with the same Move
    objects as before. Once the fold reaches that common end at the start of an instant
    with the very state the old story had there, every later run is the old one again:
    return the runs before that instant and the instant itself (else the runs to the end
    and None). The old states come from folding the old moves alongside, only over the
    changed region and at most CONVERGE_WITHIN moves into the common end.
    """
    after = story.moves
    new_len = len(after)
    old = mark.moves
    old_len = mark.length
    limit = min(old_len, new_len) - start
    same = 0
    while same < limit and after.same(new_len - 1 - same, old, old_len - 1 - same):
        same += 1
    converge_from = new_len - same
    check_until = converge_from + CONVERGE_WITHIN if same else -1
    delta = new_len - old_len
    apply = story.apply
    runs: list[Run] = []
    state = old_state = initial
    folded = start  # old_state is the old story's state before old[folded]
    for index in range(start, new_len):
        move = after[index]
        begin = move.key[0]
        if converge_from <= index < check_until:
            at = index - delta
            while folded < at:
                old_state = apply(old_state, old[folded])
                folded += 1
            if (
                (state is old_state or state == old_state)
                and (index == 0 or after[index - 1].key[0] < begin)
                and (at == 0 or old[at - 1].key[0] < begin)
            ):
                return runs, begin
        state = apply(state, move)
        if runs and runs[-1][0] == begin:
            runs[-1] = (begin, state, move)
        else:
            runs.append((begin, state, move))
    return runs, None


def changed_runs(
    mark: StoryMark, story: Story[NegotiationState]
) -> tuple[datetime, list[Run], datetime | None] | None:
    """The earliest changed instant T, the story's runs from T on, and where they stop.

    The runs end before the instant returned last (None: they run to the end); from that
    instant on the story's runs are the ones it had before. None if nothing changed.
    """
    after = story.moves
    if after is mark.moves and len(after) == mark.length + 1:
        # One move appended in valid-time order: the run at its instant ends with it,
        # in the story's final state. No fold needed.
        last = after[-1]
        return last.key[0], [(last.key[0], story.final, last)], None
    first = first_change(mark, after)
    candidates = []
    if first < mark.length:
        candidates.append(mark.moves[first].key[0])
    if first < len(after):
        candidates.append(after[first].key[0])
    if not candidates:
        return None
    since = min(candidates)
    start = min(first, len(after))
    while start > 0 and after[start - 1].key[0] >= since:
        start -= 1
    if after is mark.moves and start == mark.length:
        return since, intervals(story, start, mark.final), None
    runs, until = _tail_runs(mark, story, start, story.state_before(start))
    return since, runs, until


_GENERAL = RowChanges([], [], [])
"""What `_appended` returns when a change needs the general way."""

INCOMPLETE = RowChanges([], [], [])
"""What `advance` returns, having changed nothing, when a change reaches back before the
first row of a partial `current` (a suffix of the current rows): call again with all."""

_MICROS_MEMO = 65_536


@lru_cache(maxsize=_MICROS_MEMO)
def instant_micros(instant: datetime) -> int:
    """`micros` of a valid instant, memoised: a story has a few thousand distinct ones."""
    return micros(instant)


def _appended(
    current: list[CurrentRow],
    mark: StoryMark,
    story: Story[NegotiationState],
    known_from: int,
) -> RowChanges | None:
    """`advance` for one move appended in valid-time order; _GENERAL: take the general way.

    The last row is the only one that can change: it is replaced if the move shares its
    instant, else cut at the move's instant and followed by a new row. Anything unusual
    (no rows yet, a gap before the last row) goes the general way.
    """
    state = story.final
    tail = current[-1]
    if state.status == UNOPENED or tail.valid_to != END_OF_TIME or len(current) < 2:
        return _GENERAL
    last = story.moves[-1]
    cut = instant_micros(last.key[0])
    if tail.valid_from > cut:
        return _GENERAL
    if state is mark.final:  # the move left the state as it was (a note, a meeting)
        content = _last_moved_by(tail.content, last.move_id)
    else:
        content = split_row(state, last)
    if tail.valid_from == cut:
        if current[-2].valid_to != cut:
            return _GENERAL
        if tail.content == content:
            return None
        row = CurrentRow(cut, END_OF_TIME, content, known_from)
        current[-1] = row
        return RowChanges([tail], [row], current)
    renewed = CurrentRow(tail.valid_from, cut, tail.content, known_from)
    row = CurrentRow(cut, END_OF_TIME, content, known_from)
    current[-1] = renewed
    current.append(row)
    return RowChanges([tail], [renewed, row], current)


def advance(
    current: list[CurrentRow],
    mark: StoryMark,
    story: Story[NegotiationState],
    known_from: int,
    *,
    complete: bool = True,
) -> RowChanges | None:
    """The row changes an event makes, recorded at `known_from`; None if none.

    `current` is updated in place (and returned as `RowChanges.current`): only its tail
    from the changed instant is looked at, so an in-order append costs the same however
    long the negotiation's history is. `complete=False`: `current` holds only the latest
    of the current rows; INCOMPLETE if the change needs an earlier one.
    """
    if current and story.moves is mark.moves and len(story.moves) == mark.length + 1:
        fast = _appended(current, mark, story, known_from)
        if fast is not _GENERAL:
            return fast
    changed = changed_runs(mark, story)
    if changed is None:
        return None
    since, runs, until = changed
    cut = instant_micros(since)
    end = END_OF_TIME if until is None else instant_micros(until)
    closed: list[CurrentRow] = []
    opened: list[CurrentRow] = []
    split_at = len(current)
    while split_at > 0 and current[split_at - 1].valid_from >= cut:
        split_at -= 1  # from the end: an in-order append looks at the last row only
    if split_at == 0 and not complete:
        return INCOMPLETE
    keep = max(split_at - 1, 0)
    tail: list[CurrentRow] = []
    starts = [instant_micros(run[0]) for run in runs]
    if split_at:
        before = current[split_at - 1]
        valid_to = starts[0] if runs else end
        if before.valid_to == valid_to:
            tail.append(before)
        else:
            renewed = CurrentRow(before.valid_from, valid_to, before.content, known_from)
            closed.append(before)
            opened.append(renewed)
            tail.append(renewed)
    kept = len(current)
    while kept > split_at and current[kept - 1].valid_from >= end:
        kept -= 1  # rows from `until` on are the story's runs as they were
    old = {row.valid_from: row for row in current[split_at:kept]}
    last_index = len(runs) - 1
    # The last row shows the story's final state before the event; a move that leaves the
    # state as it was (a note, a meeting) only changes which move ends the run.
    unchanged = mark.final if current and mark.final.status != UNOPENED else None
    for index, (_, state, last) in enumerate(runs):
        if state.status == UNOPENED:
            continue  # moves dated before the talks opened (alliance membership) show nothing
        valid_from = starts[index]
        valid_to = starts[index + 1] if index < last_index else end
        if state is unchanged:
            content = _last_moved_by(current[-1].content, last.move_id)
        else:
            content = split_row(state, last)
        previous = old.pop(valid_from, None)
        if previous is not None and previous.valid_to == valid_to and previous.content == content:
            tail.append(previous)
            continue
        if previous is not None:
            closed.append(previous)
        row = CurrentRow(valid_from, valid_to, content, known_from)
        opened.append(row)
        tail.append(row)
    closed.extend(old.values())
    if not closed and not opened:
        return None
    tail.extend(current[kept:])
    current[keep:] = tail
    return RowChanges(closed, opened, current)


def full_rows(story: Story[NegotiationState], recorded_from: int) -> list[CurrentRow]:
    """Every run of a whole story as rows, the slow way: what `advance` must keep equal to."""
    runs = intervals(story)
    rows: list[CurrentRow] = []
    for index, (start, state, last) in enumerate(runs):
        if state.status == UNOPENED:
            continue
        valid_to = micros(runs[index + 1][0]) if index + 1 < len(runs) else END_OF_TIME
        rows.append(CurrentRow(micros(start), valid_to, split_row(state, last), recorded_from))
    return rows


def _last_moved_by(shown: SplitRow, move_id: str) -> SplitRow:
    """The same row, last changed by another move (one that left the state as it was).

    Built directly: NamedTuple._replace costs several times as much on this hot path.
    """
    return SplitRow(
        shown.status,
        shown.maker,
        shown.split,
        shown.positions,
        shown.seats,
        shown.region,
        shown.title,
        move_id,
        shown.election,
        shown.alliance,
        shown.named,
        shown.settled,
        shown.holders,
    )
