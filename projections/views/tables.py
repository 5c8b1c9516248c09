"""The view tables, in the events' database, and their idempotent creation.

Times are BigInteger microseconds since the epoch (see `timeaxis`); JSON is stored as
text so that both databases keep it byte for byte.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Engine,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    bindparam,
    delete,
    insert,
    inspect,
    select,
    text,
)

from ledger.persistence.engine import read_transaction, write_transaction
from ledger.persistence.schema import advisory_lock_key

POSITION_NAME: Final = "seatledger-views"


def _key(length: int | None = None) -> String:
    # Keys sort in code-point order everywhere (as Python's sorted does): SQLite's BINARY
    # collation already does; PostgreSQL's default follows the server's locale.
    return String(length).with_variant(String(length, collation="C"), "postgresql")


metadata = MetaData()

splits = Table(
    "seatledger_view_splits",
    metadata,
    Column("negotiation", _key(128), nullable=False),
    Column("valid_from", BigInteger, nullable=False),
    Column("valid_to", BigInteger, nullable=False),
    Column("recorded_from", BigInteger, nullable=False),
    Column("recorded_to", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),
    Column("maker", String(32)),
    Column("split", Text, nullable=False),
    Column("positions", Text, nullable=False),
    Column("seats", Integer, nullable=False),
    Column("region", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("last_move_id", Text, nullable=False),
    Column("election", Text),
    Column("alliance", Text),
    Column("named", Text, nullable=False),
    Column("settled", Text, nullable=False),
    Column("holders", Text, nullable=False),
    PrimaryKeyConstraint(
        "negotiation", "valid_from", "recorded_from", name="seatledger_view_splits_pkey"
    ),
    Index("seatledger_view_splits_asof", "negotiation", "recorded_to", "valid_from"),
    Index("seatledger_view_splits_all", "recorded_to", "valid_from"),
)
"""Split history: one row per (valid interval x recorded interval) of each negotiation."""

moves = Table(
    "seatledger_view_moves",
    metadata,
    Column("move_id", _key(), primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("negotiation", _key(128)),
    Column("type", String(32), nullable=False),
    Column("on_text", String(40), nullable=False),
    Column("on_at", BigInteger, nullable=False),
    Column("recorded_at", String(40), nullable=False),
    Column("known_from", BigInteger, nullable=False),
    Column("recorded_by", Text, nullable=False),
    Column("by", String(32)),
    Column("split", Text),
    Column("source", Text),
    Column("note", Text),
    Column("confidence", String(16), nullable=False),
    Column("corrects", Text),
    Column("retract", Boolean, nullable=False),
    Column("named", Text),
    Index("seatledger_view_moves_history", "negotiation", "on_at"),
    Index("seatledger_view_moves_corrects", "corrects"),
)
"""Audit history: one row per move, alliance move and correction, as recorded."""

moved = Table(
    "seatledger_view_moved",
    metadata,
    Column("move_id", _key(), nullable=False),
    Column("recorded_from", BigInteger, nullable=False),
    Column("recorded_to", BigInteger, nullable=False),
    Column("negotiation", _key(128)),
    Column("seats_moved", Text, nullable=False),
    Column("seats_given", Text),
    PrimaryKeyConstraint("move_id", "recorded_from", name="seatledger_view_moved_pkey"),
    Index("seatledger_view_moved_current", "negotiation", "recorded_to"),
)
"""Seats moved by each move of the history, per recorded interval: a correction or a late
fact re-derives them for the later moves (closing the row, recorded_to = K, and opening
the new one). No row while a move moved no seats (None). `seats_given` lists the named seats
that changed hands, [[constituency, from, to], ...] (null: none)."""

seat_changes = Table(
    "seatledger_view_seat_changes",
    metadata,
    Column("negotiation", _key(128), nullable=False),
    Column("constituency", _key(), nullable=False),  # constituency_key of the name
    Column("valid_from", BigInteger, nullable=False),
    Column("recorded_from", BigInteger, nullable=False),
    Column("recorded_to", BigInteger, nullable=False),
    Column("name", Text, nullable=False),
    Column("holder", String(32)),
    Column("status", String(16), nullable=False),
    Column("move_id", Text, nullable=False),
    PrimaryKeyConstraint(
        "negotiation",
        "constituency",
        "valid_from",
        "recorded_from",
        name="seatledger_view_seat_changes_pkey",
    ),
)
"""Each change of one listed seat's (holder, status) in the valid-time story, per recorded
interval: the run where it starts (valid_from), the run's last move, and the seat as that
run has it. A seat's history as of D, known on K, is its rows known on K from before D, read
through the primary key; `seat` no longer reads every run of the talks. No other index: the
current rows of a talks (read when the fold resumes it) come from the key's prefix."""

position = Table(
    "seatledger_view_position",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("notification_id", BigInteger, nullable=False),
)
"""The last notification id applied; written in the same transaction as the rows."""

VIEW_TABLES: Final = (splits, moves, moved, seat_changes)


def create_view_tables(engine: Engine) -> None:
    """Create the view tables and the position row unless they exist."""
    with read_transaction(engine) as conn:
        if _views_ready(conn):
            return
    with write_transaction(engine) as conn:
        if conn.dialect.name == "postgresql":
            # Two processes starting at once would otherwise race on CREATE TABLE.
            key = advisory_lock_key("seatledger:create_view_tables")
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
        outdated = _outdated(conn)
        if outdated:
            # Views built by an older version (seats moved fixed when recorded, no
            # election): derive them all again, from the first event. Only views go.
            for table in outdated:
                table.drop(conn)
            conn.execute(delete(position))
        metadata.create_all(conn)
        found = conn.execute(
            select(position.c.name).where(position.c.name == POSITION_NAME)
        ).first()
        if found is None:
            conn.execute(insert(position).values(name=POSITION_NAME, notification_id=0))


# Every read command opens the views: when they are ready this is one catalog query in a
# read transaction, not a write lock, reflection of each table and create_all's checks.
# saves ~85 ms of `seatledger split` start-up on PostgreSQL (2026-12-07, 10k; ~5 ms on SQLite).
_COLUMNS_SQL = {
    "postgresql": (
        "SELECT c.relname, a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
        "WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p') "
        "AND c.relname IN :names AND a.attnum > 0 AND NOT a.attisdropped"
    ),
    "sqlite": (
        "SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p "
        "WHERE m.type = 'table' AND m.name IN :names"
    ),
}


def _views_ready(conn: Connection) -> bool:
    """Whether the write path of create_view_tables would find nothing to do: every table
    there with exactly its columns, and the position row written."""
    query = _COLUMNS_SQL.get(conn.dialect.name)
    if query is None:
        return False
    wanted = {table.name: {column.name for column in table.c} for table in (*VIEW_TABLES, position)}
    found: dict[str, set[str]] = {}
    rows = conn.execute(
        text(query).bindparams(bindparam("names", expanding=True)), {"names": list(wanted)}
    )
    for table, column in rows:
        found.setdefault(table, set()).add(column)
    if found != wanted:
        return False
    row = conn.execute(select(position.c.name).where(position.c.name == POSITION_NAME)).first()
    return row is not None


def _outdated(conn: Connection) -> list[Table]:
    """The view tables to drop: all that exist, if any lacks a column (or is missing)."""
    inspector = inspect(conn)
    names = set(inspector.get_table_names())
    present = [table for table in VIEW_TABLES if table.name in names]
    for table in VIEW_TABLES:
        if table.name not in names:
            return present
        columns = {column["name"] for column in inspector.get_columns(table.name)}
        if columns != {column.name for column in table.c}:
            return present
    return []
