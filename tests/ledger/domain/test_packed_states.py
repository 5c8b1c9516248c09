"""A story loaded from a packed snapshot unpacks the states it keeps (its checkpoints) only
when a late fact reads one, writes them back into the next snapshot as they came, and
verify still compares every one with the fold."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import orjson

from ledger.domain.events import NoteRecorded
from ledger.domain.lazy_moves import PackedState
from ledger.domain.negotiation import Negotiation
from ledger.domain.snapshot import StorySnapshot
from ledger.domain.story import CHECKPOINT_EVERY
from projections.views.verify_snapshots import _differing
from tests.ledger.domain.test_lazy_moves import AT, _in_order
from tests.ledger.domain.test_snapshot_formats import START, _assert_same, _talks, _through_storage


def _as_stored(snapshot: StorySnapshot) -> dict[str, Any]:
    state: dict[str, Any] = orjson.loads(orjson.dumps(snapshot.state))
    return state


def _packed(talks: Negotiation) -> list[PackedState[Any]]:
    checkpoints, around = talks.story.held_states()
    held = [*checkpoints.values(), *around.values()]
    return [s for s in held if type(s) is PackedState]


def test_a_loaded_story_unpacks_no_kept_state_until_a_late_fact_reads_one() -> None:
    talks = _talks(5 * CHECKPOINT_EVERY)
    loaded = _through_storage(StorySnapshot.take(talks))
    packed = _packed(loaded)
    assert len(packed) >= 4 and all(s.value is None for s in packed)
    _in_order(loaded, 10)
    _in_order(talks, 10)
    assert all(s.value is None for s in packed)  # moves in order read the final state only
    late = START + timedelta(days=250)
    for aggregate in (talks, loaded):
        aggregate.record(NoteRecorded, move_id="late-fact", occurred_on=late, by="INC",
                         note="said then", recorded_by="analyst", **AT)  # fmt: skip
        aggregate.collect_events()
    assert any(s.value is not None for s in packed)  # read from the checkpoint before it
    _assert_same(loaded, talks)
    assert loaded.story.kept_states() == talks.story.kept_states()
    _assert_same(_through_storage(StorySnapshot.take(loaded)), talks)


def test_a_reloaded_story_writes_its_kept_states_back_as_they_came() -> None:
    talks = _talks(4 * CHECKPOINT_EVERY + 7)
    first = _as_stored(StorySnapshot.take(talks))
    loaded = _through_storage(StorySnapshot.take(talks))
    assert _as_stored(StorySnapshot.take(loaded)) == first  # unchanged: the very same state
    loaded.story.state_before(CHECKPOINT_EVERY + 3)  # a state read, not changed
    _in_order(loaded, 3)
    second = _as_stored(StorySnapshot.take(loaded))
    for name in ("checkpoints", "around"):
        old, new = first[name], second[name]
        kept = {old[i]: first["states"][old[i + 1]] for i in range(0, len(old), 2)}
        now = {new[i]: second["states"][new[i + 1]] for i in range(0, len(new), 2)}
        assert kept and all(now[at] == row for at, row in kept.items())


def test_verify_finds_a_kept_state_that_is_not_the_folds() -> None:
    talks = _talks(3 * CHECKPOINT_EVERY)
    snapshot = StorySnapshot.take(talks)
    assert _differing(_through_storage(snapshot), talks) == []
    state = _as_stored(snapshot)
    checkpoint = state["states"][state["checkpoints"][1]]
    assert checkpoint != state["states"][state["final"]]
    state["states"][state["checkpoints"][1]] = state["states"][state["final"]]
    forged = snapshot.model_copy(update={"state": state})
    assert _differing(_through_storage(forged), talks) == ["states"]
