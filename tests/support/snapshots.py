"""Snapshots through the mapper and a store of parts in memory, as the recorder keeps them."""

from __future__ import annotations

from eventsourcing.persistence import StoredEvent

from ledger.domain.snapshot import StorySnapshot
from ledger.domain.snapshot_parts import Frame, decode_frame
from ledger.persistence.mapper import PydanticMapper
from ledger.persistence.parts import split_parts

PARTS: dict[str, bytes] = {}
"""Every part stored so far, by name (a part's name is its content's hash: shared safely)."""


def stored(mapper: PydanticMapper, snapshot: StorySnapshot) -> StoredEvent:
    """The snapshot as the recorder stores it (its new parts kept in PARTS)."""
    [kept], bodies = split_parts([mapper.to_stored_event(snapshot)])
    PARTS.update(bodies)
    return kept


def loaded(mapper: PydanticMapper, kept: StoredEvent) -> StorySnapshot:
    """A stored snapshot decoded as the recorder returns it: with its parts' bodies."""
    frame = decode_frame(kept.state)
    state = kept.state
    if frame is not None:
        state = Frame(frame.names, {name: PARTS[name] for name in frame.names}, frame.data).encode()
    decoded = mapper.to_domain_event(
        StoredEvent(kept.originator_id, kept.originator_version, kept.topic, state)
    )
    assert isinstance(decoded, StorySnapshot)
    return decoded
