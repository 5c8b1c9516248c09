"""Snapshots of story-keeping aggregates, so long negotiations load fast."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import fields
from datetime import datetime
from operator import attrgetter
from typing import Any, ClassVar, cast
from uuid import UUID

from eventsourcing.utils import get_topic, resolve_topic
from pydantic import AwareDatetime, BaseModel, ConfigDict, PrivateAttr

from ledger.domain import aggregate as transaction_time  # its `now`, which tests pin
from ledger.domain.lazy_moves import Item, LazyMoves, PackedState, RecordedMoves, Rows
from ledger.domain.moves import Move
from ledger.domain.packing import (
    MOVE_FIELDS,
    flat,
    move_unpacker,
    pack_move,
    state_codec,
    unflat,
    valid_time,
)
from ledger.domain.snapshot_parts import PART_ROWS, Frame, PartRows, cut_parts
from ledger.domain.story_aggregate import Storied

_MOVE_FIELDS = [f.name for f in fields(Move)]
_MOVE_VALUES = attrgetter(*_MOVE_FIELDS)
_REPEATED = ("kind", "confidence", "recorded_by", "by", "party")


def move_to_json(move: Move) -> dict[str, Any]:
    """A move as the first snapshot format wrote it (still read; tests write such snapshots)."""
    # Field by field, not dataclasses.asdict: asdict deep-copies every value (ten
    # times slower), and a snapshot holds every move of the story.
    data = dict(zip(_MOVE_FIELDS, _MOVE_VALUES(move), strict=True))
    if move.split is not None:
        data["split"] = dict(move.split)
    data["on"] = move.on.isoformat()
    data["recorded_at"] = move.recorded_at.isoformat() if move.recorded_at else None
    data["parties"] = list(move.parties)
    data["names"] = list(move.names)
    if move.named is not None:
        data["named"] = {party: list(names) for party, names in move.named.items()}
    return {k: v for k, v in data.items() if v is not None and v != []}


def move_from_json(data: dict[str, Any]) -> Move:
    """The inverse of move_to_json."""
    values = {k: data[k] for k in _MOVE_FIELDS if k in data}
    # A loaded story holds every move in memory: one string object for each kind,
    # party code or recorder, and one date object for each day, not one per move.
    for name in _REPEATED:
        if name in values:
            values[name] = sys.intern(values[name])
    values["on"] = valid_time(data["on"])
    if data.get("recorded_at"):
        values["recorded_at"] = datetime.fromisoformat(data["recorded_at"])
    values["parties"] = tuple(data.get("parties", ()))
    values["names"] = tuple(data.get("names", ()))
    if "named" in values:
        values["named"] = {party: tuple(names) for party, names in values["named"].items()}
    return Move(**values)


class StorySnapshot(BaseModel):
    """The state of a Negotiation or Alliance at one version."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    class_version: ClassVar[int] = 1

    originator_id: UUID
    originator_version: int
    timestamp: AwareDatetime
    topic: str
    state: dict[str, Any]
    _parts: Frame | None = PrivateAttr(default=None)

    @classmethod
    def take(cls, aggregate: Storied[Any]) -> StorySnapshot:
        """Capture the aggregate's moves and the states its story keeps, packed."""
        state, new_parts = packed_story(aggregate)
        snapshot = cls(
            originator_id=aggregate.id,
            originator_version=aggregate.version,
            timestamp=transaction_time.now(),
            topic=get_topic(type(aggregate)),
            state=state,
        )
        snapshot._parts = Frame(tuple(state["parts"]), new_parts, b"")
        return snapshot

    @property
    def parts(self) -> Frame | None:
        """The parts this snapshot names, with the bodies it carries (new, or loaded)."""
        return self._parts

    def with_parts(self, parts: Frame) -> StorySnapshot:
        """This snapshot, given the parts its stored frame carried."""
        self._parts = parts
        return self

    def mutate(self, _: Any) -> Storied[Any]:
        """The aggregate as it was: unpacked, or (a snapshot written before packing, which
        has no "format") by folding its stored story once."""
        cls = resolve_topic(self.topic)
        state = self.state
        aggregate: Storied[Any] = cls(self.originator_id, state["slug"])
        if state.get("format") == PARTED:
            unpack_parted(aggregate, state, self._parts)
        elif state.get("format") == PACKED:
            unpack_story(aggregate, state)
        else:
            self._refold(aggregate)
        aggregate.version = self.originator_version
        aggregate.snapshot_version = self.originator_version
        created = state.get("created_on")
        aggregate.created_on = datetime.fromisoformat(created) if created else None
        aggregate.modified_on = self.timestamp
        aggregate.restore_extra(state.get("extra") or {})
        return aggregate

    def _refold(self, aggregate: Storied[Any]) -> None:
        """Load a snapshot of the first format: every move as a dict, no states."""
        state = self.state
        in_story: dict[str, tuple[dict[str, Any], Move]] = {}
        for data in state["story"]:
            move = move_from_json(data)
            aggregate.story.commit(aggregate.story.plan_add(move))
            in_story[move.move_id] = (data, move)
        recorded: dict[str, Move] = {}
        for data in state["recorded"]:
            # Most moves stand in the story as first recorded: share that object, as an
            # aggregate built from its events does (half the memory of a loaded story).
            same = in_story.get(data["move_id"])
            recorded[data["move_id"]] = (
                same[1] if same is not None and same[0] == data else move_from_json(data)
            )
        aggregate.recorded = recorded
        aggregate.corrections = dict(state["corrections"])
        aggregate.retracted = set(state["retracted"])


PACKED = 2
"""The snapshot format that carries the fold's states (`ledger.domain.packing`)."""


PARTED = 3
"""The snapshot format whose rows are in parts (`ledger.domain.snapshot_parts`)."""


def packed_story(aggregate: Storied[Any]) -> tuple[dict[str, Any], dict[str, bytes]]:
    """What the aggregate's story needs to load without a re-fold, as plain JSON, and
    the bodies of the parts it names that were not loaded with it (new parts)."""
    # Saves re-folding every move on load, and the per-move dicts of the first format:
    # 100k events as ten files cut by time on SQLite, the tenth file 8.5 s -> 5.3 s (with
    # worth_a_snapshot; the ten files' CPU 22.9-25.2 s -> 19.1-19.6 s).
    story = aggregate.story
    rows = story.moves.rows
    numbered = _RowNumbers(rows)
    story_rows = numbered.rows_of(story.moves.items)
    recorded_rows = numbered.rows_of(_recorded_items(aggregate))
    names, new_parts, tail = cut_parts(numbered.names, numbered.tail)
    pack_state = state_codec(type(story.initial))[0]
    states: list[Any] = []
    refs: dict[int, int] = {}

    def ref(state: Any) -> int:
        found = refs.get(id(state))
        if found is None:
            found = refs[id(state)] = len(states)
            # A state loaded and kept (read or not) is written back as its row.
            states.append(state.row if type(state) is PackedState else pack_state(state))
        return found

    checkpoints, around = story.held_states()
    state = {
        "format": PARTED,
        "slug": aggregate.slug,
        "fields": MOVE_FIELDS,
        "parts": names,
        "tail": tail,
        # Each move of the story, and each as first recorded, by its row's number.
        "story": story_rows,
        "recorded": recorded_rows,
        "recorded_ids": list(aggregate.recorded),
        "corrections": flat(aggregate.corrections),
        "retracted": sorted(aggregate.retracted),
        "created_on": aggregate.created_on.isoformat() if aggregate.created_on else None,
        "extra": aggregate.snapshot_extra(),
        "final": ref(story.final),
        "checkpoints": [x for c, s in checkpoints.items() if c for x in (c, ref(s))],
        "around": [x for c, s in around.items() for x in (c, ref(s))],
        "states": states,
    }
    return state, new_parts


class _RowNumbers:
    """Numbers the story's rows: loaded from parts, a row keeps its number and its part;
    any other move (new, or loaded from an older format) gets the next number."""

    def __init__(self, rows: Rows | None) -> None:
        self.rows = rows
        store = rows.rows if rows is not None else None
        # Saves packing, encoding, sealing and writing a talks' whole story again on every
        # import (see the module docstring of ledger.domain.snapshot_parts).
        self.kept = type(store) is PartRows and cast(Rows, rows).as_written
        if self.kept:
            parted = cast(PartRows, store)
            self.names, self.tail = list(parted.names), list(parted.tail)
        else:
            self.names, self.tail = [], []
        self.places: dict[int, int] = {}  # a loaded row's place -> its number
        self.moves: dict[int, int] = {}  # id(move) -> its number

    def rows_of(self, items: Iterable[Item]) -> list[int]:
        """The numbers of the items' rows."""
        row = self.row
        if self.kept:
            # A loaded row is its own number: saves a call per move (2M calls a file at
            # 1M events, 0.7 of the tenth file's 18 s under cProfile).
            return [x if type(x) is int else row(x) for x in items]
        return [row(x) for x in items]

    def row(self, item: Item) -> int:
        """The number of the item's row, adding the row if it has none yet."""
        if type(item) is int:
            if self.kept:
                return item
            found = self.places.get(item)
            if found is None:
                found = self.places[item] = self._add(_row(self.rows, item))
            return found
        found = self.moves.get(id(item))
        if found is None:
            found = self.moves[id(item)] = self._add(pack_move(cast(Move, item)))
        return found

    def _add(self, row: list[Any]) -> int:
        self.tail.append(row)
        return len(self.names) * PART_ROWS + len(self.tail) - 1


def _row(rows: Rows | None, item: Item) -> list[Any]:
    """A story item's packed row: a loaded row as it came (unpacked or not), else packed."""
    if type(item) is int:
        rows = cast(Rows, rows)
        return rows.rows[item] if rows.as_written else pack_move(rows.move(item))
    return pack_move(cast(Move, item))


def _recorded_items(aggregate: Storied[Any]) -> Iterable[Item]:
    recorded = aggregate.recorded
    if isinstance(recorded, RecordedMoves):
        return recorded.items_packed()
    return recorded.values()


def unpack_story(aggregate: Storied[Any], state: dict[str, Any]) -> None:
    """Give a new aggregate the story `packed_story` packed (its moves unpacked when read)."""
    names = state["fields"]
    story_rows = state["story"]
    rows = Rows(  # a copy of the rows: recorded moves not in the story are added to it
        list(story_rows), move_unpacker(names), names.index("move_id"), tuple(names) == MOVE_FIELDS
    )
    moves = LazyMoves(list(range(len(story_rows))), rows)
    # Recorded moves by the id in their rows: a place in the story, or a row of their own.
    places = [x if type(x) is int else rows.extend([x]) for x in state["recorded"]]
    raw, id_at = rows.rows, rows.id_at
    aggregate.recorded = RecordedMoves({raw[x][id_at]: x for x in places}, rows)
    _restore(aggregate, state, moves)


def unpack_parted(aggregate: Storied[Any], state: dict[str, Any], parts: Frame | None) -> None:
    """Give a new aggregate the story a parted snapshot holds (moves unpacked when read,
    each part parsed when one of its rows is first read)."""
    names = state["parts"]
    given = parts if parts is not None and list(parts.names) == names else None
    bodies = given.bodies if given is not None else {}
    carried = [bodies[name] for name in names] if all(n in bodies for n in names) else None
    load = given.load if given is not None else None
    order = state["fields"]
    store = PartRows(names, carried, list(state["tail"]), load)
    rows = Rows(store, move_unpacker(order), order.index("move_id"), tuple(order) == MOVE_FIELDS)
    named = (state["story"], state["recorded"])
    if any(x and (min(x) < 0 or max(x) >= len(store)) for x in named):
        raise ValueError("the snapshot names a row it does not hold")
    moves = LazyMoves(list(state["story"]), rows)
    aggregate.recorded = RecordedMoves(
        dict(zip(state["recorded_ids"], state["recorded"], strict=True)), rows
    )
    _restore(aggregate, state, moves)


def _restore(aggregate: Storied[Any], state: dict[str, Any], moves: LazyMoves) -> None:
    """Give the aggregate its corrections, retractions, and story of `moves` with the
    states a packed snapshot keeps (formats 2 and 3 alike)."""
    story = aggregate.story
    unpack_state = state_codec(type(story.initial))[1]
    # Only the final state is unpacked now; the others when a late fact reads them.
    final = state["final"]
    states = [
        unpack_state(row) if i == final else PackedState(row, unpack_state)
        for i, row in enumerate(state["states"])
    ]
    aggregate.corrections = unflat(state["corrections"])
    aggregate.retracted = set(state["retracted"])
    checkpoints, around = state["checkpoints"], state["around"]
    story.restore(
        moves,
        states[final],
        {checkpoints[i]: states[checkpoints[i + 1]] for i in range(0, len(checkpoints), 2)},
        {around[i]: states[around[i + 1]] for i in range(0, len(around), 2)},
    )
