"""A snapshot loads to the story its events fold to: packed (no re-fold), or in the first
format (every move as a dict), and either way takes late moves and corrections alike."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson
from eventsourcing.persistence import JSONTranscoder

from ledger.domain import moves as k
from ledger.domain.events import (
    Changes,
    NoteRecorded,
    PartyJoined,
    ProposalAccepted,
    ProposalMade,
)
from ledger.domain.negotiation import Negotiation
from ledger.domain.snapshot import StorySnapshot, move_to_json
from ledger.domain.state import NO_SEATING
from ledger.domain.story import CHECKPOINT_EVERY
from ledger.persistence.mapper import PydanticMapper
from tests.support import snapshots as parts

START = date(2024, 1, 9)


def _talks(moves: int) -> Negotiation:
    """Talks with proposals, notes, late notes, a walk-in and corrections, of `moves` moves."""
    talks = Negotiation.open(
        negotiation="up", title="UP", region="Uttar Pradesh", seats=80, parties=["SP", "INC"],
        move_id="up/opened", occurred_on=START, recorded_by="analyst",
    )  # fmt: skip
    talks.record(
        PartyJoined, move_id="rld-in", occurred_on=START + timedelta(days=1), party="RLD",
        recorded_by="analyst",
    )  # fmt: skip
    for i in range(moves):
        on = START + timedelta(days=2 + i)
        if i % 7 == 3:  # a late note, dated back into the story
            back = on - timedelta(days=min(i, 20))
            talks.record(NoteRecorded, move_id=f"late-{i}", occurred_on=back,
                         note="said earlier", recorded_by="analyst")  # fmt: skip
        elif i % 2:
            talks.record(NoteRecorded, move_id=f"n{i}", occurred_on=on, by="SP",
                         note=f"{i}", recorded_by="analyst")  # fmt: skip
        else:
            split = {"SP": 60 - i % 5, "INC": 15, "RLD": 3}
            talks.record(ProposalMade, move_id=f"p{i}", occurred_on=on, by="SP",
                         split=split, recorded_by="analyst")  # fmt: skip
    talks.correct(move_id="fix-1", of="n1", changes=Changes(note="reworded"), recorded_by="a")
    talks.correct(move_id="fix-2", of="n5", retract=True, recorded_by="a")
    talks.collect_events()
    return talks


def _through_storage(snapshot: StorySnapshot) -> Negotiation:
    """Encoded as the snapshot store encodes it, decoded and loaded."""
    mapper = PydanticMapper(transcoder=JSONTranscoder())
    loaded = parts.loaded(mapper, parts.stored(mapper, snapshot)).mutate(None)
    assert isinstance(loaded, Negotiation)
    return loaded


def _assert_same(loaded: Negotiation, talks: Negotiation) -> None:
    assert loaded.version == talks.version
    assert loaded.story.moves == talks.story.moves
    assert loaded.recorded == talks.recorded
    assert loaded.corrections == talks.corrections
    assert loaded.retracted == talks.retracted
    assert loaded.state == talks.state


def _first_format(talks: Negotiation) -> StorySnapshot:
    """A snapshot as written before packing: every move as a dict, no states."""
    packed = StorySnapshot.take(talks)
    state: dict[str, Any] = {
        "slug": talks.slug,
        "story": [move_to_json(m) for m in talks.story.moves],
        "recorded": [move_to_json(m) for m in talks.recorded.values()],
        "corrections": talks.corrections,
        "retracted": sorted(talks.retracted),
        "created_on": None,
        "extra": {},
    }
    return packed.model_copy(update={"state": state})


def _second_format(talks: Negotiation) -> StorySnapshot:
    """A snapshot as written before parts (format 2): every row of the story in it, the
    recorded moves by their place in the story or by a row of their own."""
    packed = StorySnapshot.take(talks)  # new talks: its rows are its parts' and its tail
    assert packed.parts is not None
    state = dict(packed.state)
    rows = [row for name in state["parts"] for row in orjson.loads(packed.parts.bodies[name])]
    rows += state["tail"]
    place = {n: i for i, n in reversed(list(enumerate(state["story"])))}
    state["story"] = [rows[n] for n in state["story"]]
    state["recorded"] = [place[n] if n in place else rows[n] for n in state["recorded"]]
    for name in ("parts", "tail", "recorded_ids"):
        del state[name]
    state["format"] = 2
    return packed.model_copy(update={"state": state})


def test_second_format_snapshot_loads_unpacked_and_is_written_again_in_parts() -> None:
    talks = _talks(5 * CHECKPOINT_EVERY)
    loaded = _through_storage(_second_format(talks))
    _assert_same(loaded, talks)
    assert loaded.story.kept_states() == talks.story.kept_states()
    again = StorySnapshot.take(loaded)
    assert again.state["format"] == 3 and again.state["parts"]
    _assert_same(_through_storage(again), talks)


def test_packed_snapshot_loads_the_story_and_its_kept_states_without_folding() -> None:
    talks = _talks(3 * CHECKPOINT_EVERY)
    loaded = _through_storage(StorySnapshot.take(talks))
    _assert_same(loaded, talks)
    assert loaded.story.kept_states() == talks.story.kept_states()
    assert len(loaded.story.kept_states()[0]) > 1  # checkpoints carried, not rebuilt
    assert loaded.state.seating is NO_SEATING  # the rules test it by identity
    # Moves that stand in the story as recorded are one object, as after a fold.
    assert loaded.recorded["p0"] is loaded.story.find("p0")


def test_first_format_snapshot_still_loads_by_folding_its_moves() -> None:
    talks = _talks(2 * CHECKPOINT_EVERY)
    _assert_same(_through_storage(_first_format(talks)), talks)


def test_late_moves_and_corrections_after_a_packed_load_decide_as_on_the_original() -> None:
    for take in (StorySnapshot.take, _second_format, _first_format):
        talks = _talks(3 * CHECKPOINT_EVERY)
        loaded = _through_storage(take(talks))
        for aggregate in (talks, loaded):
            early, at = START + timedelta(days=40), {"timestamp": datetime(2024, 6, 1, tzinfo=UTC)}
            split = {"SP": 50, "INC": 27, "RLD": 3}
            aggregate.record(ProposalMade, move_id="late-offer", occurred_on=early, by="INC",
                             split=split, recorded_by="analyst", **at)  # fmt: skip
            aggregate.record(ProposalAccepted, move_id="yes", occurred_on=early, by="SP",
                             recorded_by="analyst", **at)  # fmt: skip
            moved = Changes(on=START + timedelta(days=3))
            aggregate.correct(move_id="fix-3", of="p12", changes=moved, recorded_by="a", **at)
            aggregate.collect_events()
        _assert_same(loaded, talks)
        assert loaded.story.find("yes") is not None
        assert loaded.story.state_before(len(talks.story.moves) // 2) == talks.story.state_before(
            len(talks.story.moves) // 2
        )
        assert talks.recorded["yes"].kind == k.ACCEPTANCE
