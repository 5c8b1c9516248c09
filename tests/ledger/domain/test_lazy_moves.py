"""A story loaded from a packed snapshot unpacks a move only when the fold reads it, and
writes the rows it loaded back into the next snapshot as they came."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson

from ledger.domain.events import Changes, NoteRecorded, ProposalMade
from ledger.domain.lazy_moves import Rows
from ledger.domain.negotiation import Negotiation
from ledger.domain.packing import pack_move
from ledger.domain.snapshot import StorySnapshot
from ledger.domain.story import CHECKPOINT_EVERY
from tests.ledger.domain.test_snapshot_formats import START, _assert_same, _talks, _through_storage

AT = {"timestamp": datetime(2024, 6, 1, tzinfo=UTC)}


def _rows(talks: Negotiation) -> Rows:
    rows = talks.story.moves.rows
    assert rows is not None
    return rows


def _in_order(aggregate: Negotiation, count: int) -> None:
    last = aggregate.story.moves[-1].on
    for i in range(count):
        on = last + timedelta(days=1 + i)
        if i % 2:
            aggregate.record(NoteRecorded, move_id=f"new-{i}", occurred_on=on, by="SP",
                             note="more", recorded_by="analyst", **AT)  # fmt: skip
        else:
            aggregate.record(ProposalMade, move_id=f"new-{i}", occurred_on=on, by="SP",
                             split={"SP": 55, "INC": 20, "RLD": 5}, recorded_by="analyst",
                             **AT)  # fmt: skip
    aggregate.collect_events()


def test_moves_recorded_in_order_after_a_load_unpack_no_old_move_but_the_last() -> None:
    talks = _talks(5 * CHECKPOINT_EVERY)
    snapshot = StorySnapshot.take(talks)
    loaded = _through_storage(snapshot)
    assert _rows(loaded).unpacked == 0
    assert loaded.knows("p12") and not loaded.knows("nope")
    _in_order(loaded, 30)
    assert _rows(loaded).unpacked == 1  # the last loaded move, for its date
    _in_order(talks, 30)
    _assert_same(loaded, talks)
    assert loaded.story.kept_states() == talks.story.kept_states()


def test_late_facts_and_corrections_after_a_load_give_the_unpacked_story_and_states() -> None:
    talks = _talks(5 * CHECKPOINT_EVERY)
    loaded = _through_storage(StorySnapshot.take(talks))
    count = len(talks.story.moves)
    for aggregate in (talks, loaded):
        late = START + timedelta(days=250)
        aggregate.record(NoteRecorded, move_id="late-fact", occurred_on=late, by="INC",
                         note="said then", recorded_by="analyst", **AT)  # fmt: skip
        aggregate.correct(move_id="fix-9", of="p288", recorded_by="a",
                          changes=Changes(note="reworded"), **AT)  # fmt: skip
        aggregate.correct(move_id="fix-10", of="n201", retract=True, recorded_by="a", **AT)
        aggregate.collect_events()
    # A late fact re-folds from the checkpoint before it: the moves before that stay packed.
    assert _rows(loaded).unpacked < count - 2 * CHECKPOINT_EVERY
    _assert_same(loaded, talks)
    assert loaded.story.kept_states() == talks.story.kept_states()
    for index in range(0, count, 37):
        assert loaded.story.state_before(index) == talks.story.state_before(index)
    again = _through_storage(StorySnapshot.take(loaded))
    _assert_same(again, talks)


def test_a_reloaded_story_writes_its_rows_back_as_they_came() -> None:
    talks = _talks(3 * CHECKPOINT_EVERY)
    first = orjson.loads(orjson.dumps(StorySnapshot.take(talks).state))  # as stored
    loaded = _through_storage(StorySnapshot.take(talks))
    loaded.story.find("p12")  # unpacked, not changed: still written as loaded
    loaded.story.state_before(len(loaded.story.moves) // 2)
    _in_order(loaded, 3)
    second = orjson.loads(orjson.dumps(StorySnapshot.take(loaded).state))
    old = len(first["story"])
    assert second["story"][:old] == first["story"]
    added = [pack_move(m) for m in loaded.story.moves[old:]]
    assert second["story"][old:] == orjson.loads(orjson.dumps(added))
    assert second["recorded"][: len(first["recorded"])] == first["recorded"]
    assert second["states"][second["final"]] != first["states"][first["final"]]
