"""Verify the ledger: recompute every hash chain, check the move index and an earlier digest."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import closing
from dataclasses import replace
from typing import Any

import orjson
from sqlalchemy import Connection

from ledger.integrity.chains import (
    NOTHING,
    ChainChecker,
    MoveIndex,
    as_bytes,
    by_move_id,
    parse_state,
)
from ledger.integrity.digest import (
    Digest,
    Head,
    compute_digest,
    leaf_hash,
    merkle_root,
    read_digest,
    write_digest,
)
from ledger.integrity.findings import (
    BAD_VERSION,
    DIGEST,
    HASH_MISMATCH,
    MISSING_VERSIONS,
    MOVE_INDEX,
    NOTIFICATION_ORDER,
    Problem,
    VerifyReport,
)
from ledger.integrity.log_reader import (
    LogReader,
    count_rows,
    first_events,
    ledger_snapshot,
    log_reader,
)
from ledger.integrity.worker import Tick, Worker, ticker, worth_splitting
from ledger.persistence.chain import GENESIS_HASH, link_hash
from ledger.persistence.schema import TABLES

__all__ = [
    "BAD_VERSION",
    "DIGEST",
    "HASH_MISMATCH",
    "MISSING_VERSIONS",
    "MOVE_INDEX",
    "NOTIFICATION_ORDER",
    "Digest",
    "Head",
    "Problem",
    "VerifyReport",
    "compute_digest",
    "leaf_hash",
    "merkle_root",
    "read_digest",
    "verify",
    "write_digest",
]

Progress = Callable[[int, int], None]


Derived = Callable[[Connection], list[Problem]]
"""Checks the data derived from the log (views, snapshots) in verify's read snapshot."""


def verify(
    url: str,
    *,
    digest: Digest | None = None,
    progress: Progress | None = None,
    derived: Derived | None = None,
) -> VerifyReport:
    """Recompute every hash chain of the ledger at `url` and report every problem.

    `derived` (from the read side: `projections.views.verify.DerivedChecker`) also
    checks what is derived from the log, in the same snapshot, after the chains.
    """
    with ledger_snapshot(url) as conn:
        total = 0 if progress is None else count_rows(conn, TABLES.events.name)
        check = ChainChecker(digest)
        reader = log_reader(conn)
        worker = Worker.start(url, conn, reader, digest, _walk) if worth_splitting(conn) else None
        try:
            if worker is None:
                _walk(check, reader, ticker(progress, total, None))
            else:
                _walk(check, reader.part(None, worker.split_at), ticker(progress, total, worker))
                part = worker.result()
                if part is None:  # it failed, or SQLite's log moved: check its half here
                    _walk(check, reader.part(worker.split_at, None), ticker(progress, total, None))
                else:
                    check.absorb(part)
                    if progress is not None:
                        progress(check.events, total)
        finally:
            if worker is not None:
                worker.stop()
        problems = check.problems + sorted(check.move_problems, key=by_move_id)
        problems += check.digest_problems()
        if derived is not None:
            problems += derived(conn)
        problems = _name_aggregates(conn, problems)
    return VerifyReport(
        not problems, check.events, check.aggregates, problems, digest, derived is not None
    )


def _walk(check: ChainChecker, reader: LogReader, tick: Tick) -> None:
    """Check every event's link, and the move index along the way, in one ordered scan.

    The loop is the hot path of verify: a healthy event costs one SHA-256, a few
    comparisons and a dictionary lookup; anything else goes through the checker.
    """
    digest = check.digest is not None
    check.canonical = reader.canonical
    current: Any = NOTHING
    loads, JSONDecodeError = orjson.loads, orjson.JSONDecodeError
    prev_hash, prev_version, prev_nid = GENESIS_HASH, 0, -1
    with closing(reader.moves()) as index_batches, closing(reader.events()) as batches:
        index = MoveIndex(reader.canonical, index_batches)
        moves = index.entries
        matched = index.matched.add
        for rows in batches:
            for row in rows:
                raw, version, nid, topic, state, stored = row
                if raw != current:
                    check.close_aggregate(prev_version)
                    aggregate = check.open_aggregate(raw)
                    moves = index.at(raw)
                    matched = index.matched.add
                    current = raw
                    prev_hash, prev_version, prev_nid = GENESIS_HASH, 0, -1
                if type(state) is not bytes:
                    state = as_bytes(state)
                    row = (raw, version, nid, topic, state, stored)
                move_ids = moves.get(version)
                if move_ids is not None:
                    matched(version)
                    try:
                        payload = loads(state)
                    except JSONDecodeError:
                        payload = None  # encrypted or compressed: the chain covers it
                    if type(payload) is not dict or payload.get("move_id") != move_ids:
                        index.check(move_ids, aggregate, version, nid, payload)
                linked = link_hash(prev_hash, topic, aggregate, version, state) == stored
                if move_ids is None and linked and b'"move_id":' in state:
                    # A move of the chain with no index entry: the entry was deleted. (An
                    # event that does not link is named for that; its entry is no news.)
                    index.unindexed(aggregate, version, nid, topic, state)
                if not (linked and version == prev_version + 1 and nid > prev_nid):
                    check.prev_version, check.prev_nid = prev_version, prev_nid
                    if not check.explain(row, linked):
                        continue  # not a link of the chain: the next links to the one before
                if digest:
                    check.check_coverage(row)
                prev_hash, prev_version, prev_nid = stored, version, nid
            check.events += len(rows)
            tick(check.events)
        check.close_aggregate(prev_version)
        index.finish()
    check.move_problems += index.problems


def _name_aggregates(conn: Connection, problems: list[Problem]) -> list[Problem]:
    """Add each problem's negotiation (or alliance) slug, read from its aggregate's first event."""
    ids = sorted({p.aggregate_id for p in problems if p.aggregate_id is not None})
    names: dict[str, tuple[str, str]] = {}
    for aggregate, state in first_events(conn, ids).items():
        parsed = parse_state(as_bytes(state)) or {}
        for key in ("negotiation", "alliance"):
            if isinstance(parsed.get(key), str):
                names[aggregate] = (key, parsed[key])
                break
    named = []
    for problem in problems:
        found = names.get(problem.aggregate_id or "")
        named.append(
            problem if found is None else replace(problem, aggregate_type=found[0], slug=found[1])
        )
    return named
