"""Copy a ledger to another database with nothing lost: every event exactly as stored.

Each event row goes across as it is: its notification id (its position in the log), its
aggregate, version, topic, payload bytes (which hold the recorded time and recorder)
and its chain hash; the move index with it. Nothing is re-encoded, so the chains and the
digest are the same bytes on the target. The source is read in one snapshot; the target
is written in one transaction, so a copy that fails leaves it empty. Snapshots, the
views and consumers' tracking positions are not copied: they are derived or local, and
the caller rebuilds the views on the target.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table, inspect, select, text
from sqlalchemy.engine import make_url

from ledger.domain.errors import InputError
from ledger.integrity.digest import Digest, digest_in
from ledger.integrity.log_reader import count_rows, ledger_snapshot
from ledger.persistence.base import insert_many
from ledger.persistence.engine import get_engine, mask_url, normalize_url, write_transaction
from ledger.persistence.schema import TABLES, create_schema

Progress = Callable[[int, int], None]
PAGE = 5_000
"""Rows read and written at a time: memory stays bounded however long the log is."""

_EVENT_COLUMNS = tuple(c.name for c in TABLES.events.c)  # every column, as stored
_MOVE_COLUMNS = tuple(c.name for c in TABLES.moves.c)


@dataclass(frozen=True)
class CopyReport:
    """What a copy moved, and the digest of the source as it was read."""

    events: int
    moves: int
    digest: Digest


def copy_ledger(source: str, target: str, progress: Progress | None = None) -> CopyReport:
    """Copy every stored event and the move index from `source` into an empty `target`.

    Raises InputError (nothing written) if the target is the source or holds anything.
    """
    if _same_database(source, target):
        raise InputError("--from and --to name the same database: copy to another one")
    engine = get_engine(normalize_url(target))
    with ledger_snapshot(source) as src:  # a missing source is refused before the target
        _refuse_filled(target)
        create_schema(engine)
        with write_transaction(engine) as dst:
            _refuse_filled_in(dst, target)  # again, inside the transaction that writes
            digest = digest_in(src)
            total = count_rows(src, TABLES.events.name)
            events = _copy(src, dst, TABLES.events, _EVENT_COLUMNS, "notification_id", total,
                           progress)  # fmt: skip
            moves = _copy(src, dst, TABLES.moves, _MOVE_COLUMNS, "move_id", None, None)
            if dst.dialect.name == "postgresql" and events:
                # New appends draw ids from the column's sequence: start it after the copy's.
                dst.execute(
                    text("SELECT setval(pg_get_serial_sequence(:table, 'notification_id'), :n)"),
                    {"table": TABLES.events.name, "n": digest.position},
                )
    return CopyReport(events, moves, digest)


def _copy(
    src: Connection,
    dst: Connection,
    table: Table,
    columns: Sequence[str],
    key: str,
    total: int | None,
    progress: Progress | None,
) -> int:
    copied = 0
    for rows in _pages(src, table, columns, key):
        insert_many(dst, table, columns, rows)
        copied += len(rows)
        if progress is not None and total is not None:
            progress(copied, total)
    return copied


def _pages(
    conn: Connection, table: Table, columns: Sequence[str], key: str
) -> Iterator[list[tuple[Any, ...]]]:
    """Yield a table's rows as tuples of `columns`, by `key`, a keyset page at a time."""
    chosen = [table.c[name] for name in columns]
    order = table.c[key]
    after: Any = None
    while True:
        query = select(*chosen).order_by(order).limit(PAGE)
        if after is not None:
            query = query.where(order > after)
        rows = [tuple(row) for row in conn.execute(query)]
        if not rows:
            return
        yield [_as_stored(row) for row in rows]
        after = rows[-1][columns.index(key)]


def _as_stored(row: tuple[Any, ...]) -> tuple[Any, ...]:
    # PostgreSQL hands bytea back as memoryview; the target's driver wants bytes.
    return tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)


def _same_database(source: str, target: str) -> bool:
    a, b = make_url(normalize_url(source)), make_url(normalize_url(target))
    return a.render_as_string(hide_password=False) == b.render_as_string(hide_password=False)


_FILLED = ("events", "snapshots", "moves", "tracking")


def _refuse_filled(target: str) -> None:
    """Refuse a target that holds any ledger data, before anything is created there."""
    engine = get_engine(normalize_url(target))
    with engine.connect() as conn:
        _refuse_filled_in(conn, target)


def _refuse_filled_in(conn: Connection, target: str) -> None:
    present = set(inspect(conn).get_table_names())
    names = [getattr(TABLES, name).name for name in _FILLED]
    names += sorted(n for n in present if n.startswith("seatledger_view_") and "position" not in n)
    for name in names:
        if name in present and count_rows(conn, name):
            raise InputError(
                f"{mask_url(target)} is not empty ({name} holds rows): copy into an empty "
                "database, so that nothing already there is mixed with the copy"
            )
