"""The per-aggregate hash chain that makes the stored events tamper-evident."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from operator import attrgetter
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
    return link_hash(prev_hash, topic, str(as_uuid(originator_id)), originator_version, state)


def link_hash(prev_hash: str, topic: str, aggregate: str, version: int, state: bytes) -> str:
    """The chain's one formula, which writing and verifying both call.

    `aggregate` is the originator id in canonical form (lower-case, hyphenated): the
    hot loops keep it as text once per aggregate rather than parse a UUID per event.
    """
    header = f"{prev_hash}\n{topic}\n{aggregate}\n{version}\n"
    return hashlib.sha256(header.encode("utf-8") + state).hexdigest()


def as_uuid(originator_id: UUID | str) -> UUID:
    """Return the originator id as a UUID (the ledger's aggregates have UUID ids)."""
    return originator_id if isinstance(originator_id, UUID) else UUID(originator_id)


def originator_uuids(stored_events: Sequence[StoredEvent]) -> list[UUID]:
    """Each event's originator id as a UUID (a batch's are UUIDs already, mostly)."""
    return [
        oid if type(oid) is UUID else as_uuid(oid)
        for oid in [e.originator_id for e in stored_events]
    ]


def by_value(uuids: Sequence[UUID]) -> dict[int, UUID]:
    """The distinct UUIDs, first seen first, keyed by their 128-bit value.

    A UUID's own __hash__ and __eq__ are Python code: a batch of 100k events hashed
    its aggregate ids some 600k times. Their `.int` hashes and compares in C.
    """
    distinct: dict[int, UUID] = {}
    for key, uuid in zip(map(_VALUE, uuids), uuids, strict=True):
        if key not in distinct:
            distinct[key] = uuid
    return distinct


_VALUE = attrgetter("int")


def link_events(
    stored_events: Sequence[StoredEvent],
    heads: Mapping[UUID, tuple[int, str]],
    uuids: Sequence[UUID] | None = None,
) -> list[str]:
    """Return each event's chain hash, given each aggregate's stored (version, hash) head.

    `uuids`: the events' originator ids as UUIDs, if the caller has them already.
    """
    # Events of one aggregate are chained in version order. A batch must extend
    # its aggregate's chain: a version at or below the head would fork it.
    if uuids is None:
        uuids = originator_uuids(stored_events)
    by_originator: dict[int, list[int]] = {}
    originators: dict[int, UUID] = {}
    for index, (key, uuid) in enumerate(zip(map(_VALUE, uuids), uuids, strict=True)):
        indexes = by_originator.get(key)
        if indexes is None:
            indexes = by_originator[key] = []
            originators[key] = uuid
        indexes.append(index)
    head_of = {as_uuid(u).int: head for u, head in heads.items()}
    hashes = [""] * len(stored_events)
    for key, indexes in by_originator.items():
        originator_id = originators[key]
        indexes.sort(key=lambda i: stored_events[i].originator_version)
        prev_version, prev_hash = head_of.get(key, (None, GENESIS_HASH))
        uuid_text = str(originator_id)  # once per aggregate, not per event
        for index in indexes:
            stored_event = stored_events[index]
            version = stored_event.originator_version
            if prev_version is not None and version <= prev_version:
                msg = (
                    f"Version {version} of aggregate {originator_id} conflicts with "
                    f"version {prev_version} already recorded or in the same batch"
                )
                raise IntegrityError(msg)
            prev_hash = hashes[index] = link_hash(
                prev_hash, stored_event.topic, uuid_text, version, stored_event.state
            )
            prev_version = version
    return hashes
