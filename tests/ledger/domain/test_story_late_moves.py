"""Late moves in a valid-time story: what they cost, and that the story stays the fold."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import count

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.domain import moves as k
from ledger.domain import rules
from ledger.domain.errors import RuleError
from ledger.domain.moves import Move
from ledger.domain.state import NegotiationState
from ledger.domain.story import CHECKPOINT_EVERY, Story

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
