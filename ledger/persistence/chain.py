"""The per-aggregate hash chain that makes the stored events tamper-evident."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from uuid import UUID

from eventsourcing.persistence import IntegrityError, StoredEvent

GENESIS_HASH = "0" * 64


def chain_hash(
    prev_hash: str,
    topic: str,
    originator_id: UUID | str,
    originator_version: int,
    state: bytes,
) -> str:
    """Return the SHA-256 hex digest that links one stored event to the previous one."""
    header = f"{prev_hash}\n{topic}\n{as_uuid(originator_id)}\n{originator_version}\n"
    return hashlib.sha256(header.encode("utf-8") + state).hexdigest()


def as_uuid(originator_id: UUID | str) -> UUID:
    """Return the originator id as a UUID (the ledger's aggregates have UUID ids)."""
    return originator_id if isinstance(originator_id, UUID) else UUID(originator_id)


def link_events(
    stored_events: Sequence[StoredEvent],
    heads: Mapping[UUID, tuple[int, str]],
) -> list[str]:
    """Return each event's chain hash, given each aggregate's stored (version, hash) head."""
    # Events of one aggregate are chained in version order. A batch must extend
    # its aggregate's chain: a version at or below the head would fork it.
    by_originator: dict[UUID, list[int]] = {}
    for index, stored_event in enumerate(stored_events):
        by_originator.setdefault(as_uuid(stored_event.originator_id), []).append(index)
    hashes = [""] * len(stored_events)
    for originator_id, indexes in by_originator.items():
        indexes.sort(key=lambda i: stored_events[i].originator_version)
        prev_version, prev_hash = heads.get(originator_id, (None, GENESIS_HASH))
        for index in indexes:
            stored_event = stored_events[index]
            version = stored_event.originator_version
            if prev_version is not None and version <= prev_version:
                msg = (
                    f"Version {version} of aggregate {originator_id} conflicts with "
                    f"version {prev_version} already recorded or in the same batch"
                )
                raise IntegrityError(msg)
            prev_hash = chain_hash(
                prev_hash, stored_event.topic, originator_id, version, stored_event.state
            )
            hashes[index] = prev_hash
            prev_version = version
    return hashes
