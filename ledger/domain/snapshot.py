"""Snapshots of story-keeping aggregates, so long negotiations load fast."""

from __future__ import annotations

import sys
from dataclasses import fields
from datetime import datetime
from functools import lru_cache
from operator import attrgetter
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.utils import get_topic, resolve_topic
from pydantic import AwareDatetime, BaseModel, ConfigDict, TypeAdapter

from ledger.domain.aggregate import now
from ledger.domain.moves import Move
from ledger.domain.story_aggregate import Storied
from ledger.domain.values import ValidTime

_VALID_TIME: TypeAdapter[ValidTime] = TypeAdapter(ValidTime)
_MOVE_FIELDS = [f.name for f in fields(Move)]
_MOVE_VALUES = attrgetter(*_MOVE_FIELDS)
_REPEATED = ("kind", "confidence", "recorded_by", "by", "party")


@lru_cache(maxsize=8192)
def _valid_time(text: str) -> ValidTime:
    return _VALID_TIME.validate_python(text)


def move_to_json(move: Move) -> dict[str, Any]:
    """A move as plain JSON values."""
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
    values["on"] = _valid_time(data["on"])
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

    @classmethod
    def take(cls, aggregate: Storied[Any]) -> StorySnapshot:
        """Capture the aggregate's moves; checkpoints are rebuilt on load."""
        # Most recorded moves are the very objects in the story: encode each object once.
        encoded: dict[int, dict[str, Any]] = {}

        def as_json(move: Move) -> dict[str, Any]:
            data = encoded.get(id(move))
            if data is None:
                data = encoded[id(move)] = move_to_json(move)
            return data

        state = {
            "slug": aggregate.slug,
            "story": [as_json(m) for m in aggregate.story.moves],
            "recorded": [as_json(m) for m in aggregate.recorded.values()],
            "corrections": aggregate.corrections,
            "retracted": sorted(aggregate.retracted),
            "created_on": aggregate.created_on.isoformat() if aggregate.created_on else None,
            "extra": aggregate.snapshot_extra(),
        }
        return cls(
            originator_id=aggregate.id,
            originator_version=aggregate.version,
            timestamp=now(),
            topic=get_topic(type(aggregate)),
            state=state,
        )

    def mutate(self, _: Any) -> Storied[Any]:
        """Rebuild the aggregate by folding its stored story once."""
        cls = resolve_topic(self.topic)
        state = self.state
        aggregate: Storied[Any] = cls(self.originator_id, state["slug"])
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
        aggregate.version = self.originator_version
        created = state.get("created_on")
        aggregate.created_on = datetime.fromisoformat(created) if created else None
        aggregate.modified_on = self.timestamp
        aggregate.restore_extra(state.get("extra") or {})
        return aggregate
