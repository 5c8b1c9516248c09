"""Late moves in a valid-time story: what they cost, and that the story stays the fold."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from itertools import count

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.domain import moves as k
from ledger.domain import rules
from ledger.domain.errors import RuleError
from ledger.domain.moves import Move
from ledger.domain.state import NegotiationState
from ledger.domain.story import CHECKPOINT_EVERY, Story, _identical

OPENED_ON = date(2024, 1, 9)
_seq = count(1)


def _opening() -> Move:
    return Move(
        "up/opened", k.OPENED, OPENED_ON, next(_seq), parties=("SP", "INC"), title="UP",
        region="Uttar Pradesh", seats=80, alliance="india",
    )  # fmt: skip


def _membership(party: str, joined: bool, on: date) -> Move:
    kind = k.PARTY_JOINED_ALLIANCE if joined else k.PARTY_LEFT_ALLIANCE
    return Move(f"m{next(_seq)}", kind, on, next(_seq), party=party)


def _proposal(by: str, on: date, seats: int) -> Move:
    other = "INC" if by == "SP" else "SP"
    return Move(f"m{next(_seq)}", k.PROPOSAL, on, next(_seq), by=by, split={by: seats, other: 10})


def _note(on: date) -> Move:
    return Move(f"m{next(_seq)}", k.NOTE, on, next(_seq), by="SP", note="talked")


class _Counted:
    """The rules function, counting how often a story calls it."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, state: NegotiationState, move: Move) -> NegotiationState:
        self.calls += 1
        return rules.apply(state, move)


def _add(story: Story[NegotiationState], move: Move) -> None:
    story.commit(story.plan_add(move, rules.resolve))


def test_own_moves_before_mirrored_alliance_moves_fold_only_those_moves() -> None:
    # Talks opened late in a season receive the alliance's membership moves at opening,
    # dated across the season: every later move of their own lands before some of them.
    counted = _Counted()
    story: Story[NegotiationState] = Story(NegotiationState(negotiation="up"), counted)
    _add(story, _opening())
    tail = [_membership("RLD", i % 2 == 0, date(2024, 6, 1) + timedelta(days=i)) for i in range(8)]
    for move in tail:
        _add(story, move)
    counted.calls = 0
    own = 5 * CHECKPOINT_EVERY
    for i in range(own):
        on = OPENED_ON + timedelta(days=1 + i // 4)  # all before June
        _add(story, _proposal("SP", on, 40 + i % 20) if i % 3 else _note(on))
    # Each own move is checked once and the mirrored moves after it folded again: no
    # re-fold from the last checkpoint before it.
    assert counted.calls <= own * (1 + len(tail))
    assert story.moves[-len(tail) :] == tail


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["note", "proposal", "join", "leave"]), st.integers(1, 120)),
        min_size=1,
        max_size=150,
    )
)
def test_story_states_are_the_fold_of_its_moves_when_moves_arrive_late(
    plan: list[tuple[str, int]],
) -> None:
    story: Story[NegotiationState] = Story(NegotiationState(negotiation="up"), rules.apply)
    _add(story, _opening())
    for what, days in plan:
        on = OPENED_ON + timedelta(days=days)
        if what == "note":
            move = _note(on)
        elif what == "proposal":
            move = _proposal("SP" if days % 2 else "INC", on, 30 + days % 30)
        else:
            move = _membership("INC", what == "join", on)
        try:
            _add(story, move)
        except RuleError:
            continue  # refused: the story is as it was
    state = story.initial
    for index, move in enumerate(story.moves):
        assert story.state_before(index) == state
        state = rules.apply(state, move)
    assert story.final == state


def test_find_follows_moves_placed_late_corrected_and_retracted() -> None:
    # find() looks a move up by its key once the story has placed it; a move moved by a
    # correction, or retracted, or a story restored from its moves, must still be found right.
    story: Story[NegotiationState] = Story(NegotiationState(), rules.apply)
    _add(story, _opening())
    notes = [_note(OPENED_ON + timedelta(days=d)) for d in range(1, 200, 2)]
    for note in notes:
        _add(story, note)
    late = _note(OPENED_ON + timedelta(days=50))
    _add(story, late)
    moved = replace(notes[10], on=OPENED_ON + timedelta(days=150))
    story.commit(story.plan_replace(notes[10].move_id, moved))
    story.commit(story.plan_replace(notes[20].move_id, None))
    assert story.find(late.move_id) is late
    assert story.find(moved.move_id) is moved
    assert story.find(notes[20].move_id) is None
    for note in notes[:10] + notes[11:20] + notes[21:]:
        assert story.find(note.move_id) is note
    restored: Story[NegotiationState] = Story(NegotiationState(), rules.apply)
    restored.restore(story.moves.copy(), story.final, {}, {})
    assert restored.find(moved.move_id) is moved and restored.find(late.move_id) is late
    after = _note(OPENED_ON + timedelta(days=300))
    _add(restored, after)
    assert restored.find(after.move_id) is after


def test_moves_never_refused_after_a_late_move_fold_once_and_the_same() -> None:
    # The mirrored joins and leaves after each own move of late-opened talks are folded
    # once, when a state after them is read; every state the story keeps is the fold's.
    mirrored = [
        _membership(
            "AD" if i % 4 < 2 else "RLD", i % 2 == 1, date(2024, 3, 1) + timedelta(days=9 * i)
        )
        for i in range(12)
    ]
    own = [
        _proposal("INC", on, 40 + i % 20) if i % 3 else _note(on)
        for i in range(3 * CHECKPOINT_EVERY)
        for on in [OPENED_ON + timedelta(days=1 + i // 2)]
    ]
    opening = _opening()

    def season(never_refused: bool) -> tuple[Story[NegotiationState], _Counted]:
        counted = _Counted()
        never = rules.never_refused if never_refused else None
        story: Story[NegotiationState] = Story(NegotiationState(negotiation="up"), counted, never)
        for move in [opening, *mirrored, *own]:
            _add(story, move)
        return story, counted

    deferred, folds = season(True)
    eager, every = season(False)
    assert folds.calls < every.calls / 3
    assert _identical(deferred.final, eager.final)
    assert _identical(deferred.kept_states(), eager.kept_states())
    for index in (0, 70, 150, len(eager) - 5, len(eager)):
        assert _identical(deferred.state_before(index), eager.state_before(index))
    assert list(deferred.moves) == list(eager.moves)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["note", "proposal", "late", "fix", "drop"]), st.integers(1, 90)),
        min_size=1,
        max_size=120,
    )
)
def test_a_story_keeping_denser_checkpoints_is_the_same_story(plan: list[tuple[str, int]]) -> None:
    # The views fold a talks alone with a state kept every few moves (`story.every`):
    # late moves and corrections re-fold less, to the very same moves and states.
    sparse: Story[NegotiationState] = Story(NegotiationState(negotiation="up"), rules.apply)
    dense: Story[NegotiationState] = Story(NegotiationState(negotiation="up"), rules.apply)
    dense.every = 4
    opening = _opening()
    for story in (sparse, dense):
        _add(story, opening)
    for step, (what, days) in enumerate(plan):
        on = OPENED_ON + timedelta(days=days if what == "late" else 100 + step)
        target = sparse.moves[days % len(sparse.moves)]
        fixing = what in ("fix", "drop") and target.kind == k.PROPOSAL
        move = _note(on) if what == "note" else _proposal("SP", on, 30 + days % 30)
        fixed = None if what == "drop" else _proposal("SP", target.on, days)
        for story in (sparse, dense):
            try:
                if fixing:
                    story.commit(story.plan_replace(target.move_id, fixed))
                elif what not in ("fix", "drop"):
                    _add(story, move)
            except RuleError:
                pass
        assert list(dense.moves) == list(sparse.moves)
        assert dense.final == sparse.final
    for index in range(len(sparse.moves) + 1):
        assert dense.state_before(index) == sparse.state_before(index)
