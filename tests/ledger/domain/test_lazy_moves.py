"""A story loaded from a packed snapshot unpacks a move only when the fold reads it, and
writes the rows it loaded back into the next snapshot as they came."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest

from ledger.domain.events import Changes, NoteRecorded, ProposalMade
from ledger.domain.lazy_moves import Rows
from ledger.domain.negotiation import Negotiation
from ledger.domain.packing import pack_move
from ledger.domain.snapshot import StorySnapshot
from ledger.domain.snapshot_parts import PART_ROWS, PartRows
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


def test_a_reloaded_story_keeps_its_parts_and_writes_only_the_rows_after_them() -> None:
    talks = _talks(2 * PART_ROWS + 40)
    taken = StorySnapshot.take(talks)
    first = orjson.loads(orjson.dumps(taken.state))  # as stored
    assert len(first["parts"]) == 2 and taken.parts is not None
    assert set(taken.parts.bodies) == set(first["parts"])  # a new story: every part is new
    loaded = _through_storage(taken)
    store = _rows(loaded).rows
    assert isinstance(store, PartRows)
    _in_order(loaded, PART_ROWS)
    assert store.parts_parsed() == 0  # moves in order read no part
    loaded.story.find("p12")  # unpacked, not changed: still written as loaded
    loaded.story.state_before(len(loaded.story.moves) // 2)
    again = StorySnapshot.take(loaded)
    second = orjson.loads(orjson.dumps(again.state))
    # The two parts are kept as they are; only the part cut from the longer tail is new.
    assert second["parts"][:2] == first["parts"] and len(second["parts"]) == 3
    assert again.parts is not None and list(again.parts.bodies) == second["parts"][2:]
    old = len(first["story"])
    assert second["story"][:old] == first["story"]
    assert second["recorded"][: len(first["recorded"])] == first["recorded"]
    rows = orjson.loads(again.parts.bodies[second["parts"][2]]) + second["tail"]
    written = [rows[n - 2 * PART_ROWS] for n in second["story"][old:]]
    added = [pack_move(m) for m in loaded.story.moves[old:]]
    assert written == orjson.loads(orjson.dumps(added))
    assert second["states"][second["final"]] != first["states"][first["final"]]
    _in_order(talks, PART_ROWS)
    _assert_same(_through_storage(again), talks)


def test_a_part_whose_rows_do_not_fit_is_refused_when_read() -> None:
    store = PartRows(["x" * 64], [orjson.dumps([[1]])], [])
    with pytest.raises(ValueError, match="holds 1 rows"):
        store[0]
