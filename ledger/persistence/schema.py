"""The ledger's tables, portable to SQLite and PostgreSQL, and their append-only triggers."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from eventsourcing import persistence as es
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Engine,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    inspect,
    text,
)

from ledger.persistence.engine import read_transaction, write_transaction

EVENTS_APPEND_ONLY = "seatledger: events are append-only"
MOVES_APPEND_ONLY = "seatledger: moves are append-only"
_PG_FUNCTION = "seatledger_refuse_change"


def events_table(metadata: MetaData, name: str = "seatledger_events") -> Table:
    """Build the stored events table: the application sequence with a hash chain."""
    return Table(
        name,
        metadata,
        Column(
            "notification_id",
            BigInteger().with_variant(Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        Column("originator_id", Uuid(as_uuid=True), nullable=False),
        Column("originator_version", BigInteger, nullable=False),
        Column("topic", Text, nullable=False),
        Column("state", LargeBinary, nullable=False),
        Column("hash", String(64), nullable=False),
        UniqueConstraint("originator_id", "originator_version", name=f"{name}_version_key"),
    )


def snapshots_table(metadata: MetaData, name: str = "seatledger_snapshots") -> Table:
    """Build the snapshots table, a cache of aggregate state."""
    return Table(
        name,
        metadata,
        Column("originator_id", Uuid(as_uuid=True), nullable=False),
        Column("originator_version", BigInteger, nullable=False),
        Column("topic", Text, nullable=False),
        Column("state", LargeBinary, nullable=False),
        PrimaryKeyConstraint("originator_id", "originator_version", name=f"{name}_pkey"),
    )


def moves_table(metadata: MetaData, name: str = "seatledger_moves") -> Table:
    """Build the global index of move ids, each pointing at the event that made it."""
    return Table(
        name,
        metadata,
        Column("move_id", Text, primary_key=True),
        Column("originator_id", Uuid(as_uuid=True), nullable=False),
        Column("originator_version", BigInteger, nullable=False),
        Index(move_event_index(name), "originator_id", "originator_version", "move_id"),
    )


def move_event_index(moves_name: str) -> str:
    """The name of the move table's index in the log's order (aggregate, version, move id).

    Verify reads the move index in the log's order beside the log: without it the whole
    table is sorted for each verify (28 ms of 470 at 100k events on SQLite, ~10% on
    PostgreSQL). Ledgers made before it get it when their owner next opens them.
    """
    return f"{moves_name}_event"


def tracking_table(metadata: MetaData, name: str = "seatledger_tracking") -> Table:
    """Build the table of positions reached by downstream processes."""
    return Table(
        name,
        metadata,
        Column("application_name", String(100), nullable=False),
        Column("notification_id", BigInteger, nullable=False),
        PrimaryKeyConstraint("application_name", "notification_id", name=f"{name}_pkey"),
    )


@dataclass(frozen=True)
class LedgerTables:
    """The four tables of one ledger, on one MetaData."""

    metadata: MetaData
    events: Table
    snapshots: Table
    moves: Table
    tracking: Table


def ledger_tables(prefix: str = "seatledger", metadata: MetaData | None = None) -> LedgerTables:
    """Build a ledger's tables named <prefix>_events, <prefix>_snapshots and so on."""
    md = MetaData() if metadata is None else metadata
    return LedgerTables(
        metadata=md,
        events=events_table(md, f"{prefix}_events"),
        snapshots=snapshots_table(md, f"{prefix}_snapshots"),
        moves=moves_table(md, f"{prefix}_moves"),
        tracking=tracking_table(md, f"{prefix}_tracking"),
    )


TABLES = ledger_tables()
metadata = TABLES.metadata
events = TABLES.events
snapshots = TABLES.snapshots
moves = TABLES.moves
tracking = TABLES.tracking


def advisory_lock_key(name: str) -> int:
    """Return a stable signed 64-bit key for a PostgreSQL advisory lock on a name."""
    return int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "big", signed=True)


def create_schema(engine: Engine, tables: LedgerTables = TABLES) -> None:
    """Create the tables, their indexes and the append-only triggers unless they exist."""
    append_only = ((tables.events, EVENTS_APPEND_ONLY), (tables.moves, MOVES_APPEND_ONLY))
    with read_transaction(engine) as conn:
        # Every command opens the ledger: a complete schema must cost no write lock
        # (on SQLite the write lock is database-wide and would serialise readers).
        complete = _schema_complete(conn, tables)
        if complete and not _upgrade_wanted(conn, tables):
            return
    if complete:
        _upgrade(engine, tables)
        return
    with write_transaction(engine) as conn:
        is_postgres = conn.dialect.name == "postgresql"
        if is_postgres:
            _lock_schema(conn)
        tables.metadata.create_all(
            conn,
            tables=[tables.events, tables.snapshots, tables.moves, tables.tracking],
        )
        for table, message in append_only:
            if is_postgres:
                _create_postgres_triggers(conn, table, message)
            else:
                _create_sqlite_triggers(conn, table, message)
        if _may_alter(conn, tables.moves):
            # create_all adds a table's indexes only when it creates the table.
            for index in tables.moves.indexes:
                index.create(conn, checkfirst=True)
        if _compression_wanted(conn, tables.snapshots):
            _compress_with_lz4(conn, tables.snapshots)


def _lock_schema(conn: Connection) -> None:
    # Concurrent DDL (two processes starting at once) would otherwise race.
    conn.execute(
        text("SELECT pg_advisory_xact_lock(:key)"),
        {"key": advisory_lock_key("seatledger:create_schema")},
    )


def _schema_complete(conn: Connection, tables: LedgerTables) -> bool:
    wanted = {t.name for t in (tables.events, tables.snapshots, tables.moves, tables.tracking)}
    if not wanted <= set(inspect(conn).get_table_names()):
        return False
    if conn.dialect.name == "postgresql":
        triggers = set(
            conn.execute(
                text(
                    "SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                    "WHERE c.relnamespace = current_schema()::regnamespace"
                )
            ).scalars()
        )
        suffixes = ("_no_change", "_no_truncate")
    else:
        triggers = set(
            conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'").scalars()
        )
        suffixes = ("_no_update", "_no_delete")
    needed = {f"{t.name}{suffix}" for t in (tables.events, tables.moves) for suffix in suffixes}
    return needed <= triggers


def _upgrade_wanted(conn: Connection, tables: LedgerTables) -> bool:
    """Whether a complete schema lacks something `_upgrade` gives it, and may be given it."""
    return _index_wanted(conn, tables.moves) or _compression_wanted(conn, tables.snapshots)


def _index_wanted(conn: Connection, table: Table) -> bool:
    """Whether `table` lacks one of its indexes and this connection may add it."""
    # One catalog lookup each, not the inspector's reflection: every command opens the ledger.
    postgres = conn.dialect.name == "postgresql"
    if postgres:
        query = "SELECT to_regclass(:name) IS NULL"
    else:
        query = "SELECT count(*) = 0 FROM sqlite_master WHERE type = 'index' AND name = :name"
    missing = any(
        conn.execute(text(query), {"name": _quote(conn, name) if postgres else name}).scalar()
        for name in (str(index.name) for index in table.indexes)
    )
    return missing and _may_alter(conn, table)


def _may_alter(conn: Connection, table: Table) -> bool:
    """Whether this connection may alter `table` (add an index, set how a column is
    compressed): on PostgreSQL only its owner may.

    The writer, projector and reader roles (roles.py) own nothing: their ledger, if made
    before an index (or before lz4), is given it when the owner next opens it (`seatledger
    init`, `create-roles`, any command). Without it nothing is wrong, only slower.
    """
    if conn.dialect.name != "postgresql":
        return True
    query = (
        "SELECT pg_has_role(current_user, c.relowner, 'USAGE') FROM pg_class c "
        "WHERE c.oid = to_regclass(:table)"
    )
    owner = conn.execute(text(query), {"table": _quote(conn, table.name)}).scalar()
    return owner is None or bool(owner)  # None: the table is about to be created


def _compression_wanted(conn: Connection, table: Table) -> bool:
    """Whether the snapshots' state should be, and is not yet, compressed with lz4: on a
    PostgreSQL that has it (14 and later, built with lz4), by the table's owner."""
    # Saves PostgreSQL's default compression (pglz) of every snapshot and part an import
    # writes: the tenth file of 1M events writes 44 MB of snapshots, 0.78 s -> 0.13 s
    # (2026-12-08; BENCHMARKS.md, "Snapshots compressed with lz4").
    if conn.dialect.name != "postgresql" or (conn.dialect.server_version_info or (0,)) < (14,):
        return False
    query = (
        "SELECT a.attcompression <> 'l' AND 'lz4' = ANY(s.enumvals) "
        "FROM pg_attribute a, pg_settings s WHERE a.attrelid = to_regclass(:table) "
        "AND a.attname = 'state' AND s.name = 'default_toast_compression'"
    )
    wanted = conn.execute(text(query), {"table": _quote(conn, table.name)}).scalar()
    return bool(wanted) and _may_alter(conn, table)


def _compress_with_lz4(conn: Connection, table: Table) -> None:
    """Compress the state of the table's rows written from now on with lz4 (no rewrite)."""
    conn.exec_driver_sql(
        f"ALTER TABLE {_quote(conn, table.name)} ALTER COLUMN state SET COMPRESSION lz4"
    )


def _upgrade(engine: Engine, tables: LedgerTables) -> None:
    """Give a ledger made before them the moves' indexes and the snapshots' lz4 (once,
    under the write lock)."""
    try:
        with write_transaction(engine) as conn:
            if conn.dialect.name == "postgresql":
                _lock_schema(conn)
            for index in tables.moves.indexes:
                index.create(conn, checkfirst=True)
            if _compression_wanted(conn, tables.snapshots):
                _compress_with_lz4(conn, tables.snapshots)
    except es.OperationalError:
        if engine.dialect.name == "postgresql":
            raise
        # A SQLite file this process may only read: it stays as it is (verify sorts).


def _quote(conn: Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote(name)


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _create_sqlite_triggers(conn: Connection, table: Table, message: str) -> None:
    for operation in ("UPDATE", "DELETE"):
        trigger = _quote(conn, f"{table.name}_no_{operation.lower()}")
        conn.exec_driver_sql(
            f"CREATE TRIGGER IF NOT EXISTS {trigger} BEFORE {operation} "
            f"ON {_quote(conn, table.name)} "
            f"BEGIN SELECT RAISE(ABORT, {_sql_string(message)}); END"
        )


def _create_postgres_triggers(conn: Connection, table: Table, message: str) -> None:
    existing = set(
        conn.execute(
            text("SELECT tgname FROM pg_trigger WHERE tgrelid = to_regclass(:table)"),
            {"table": _quote(conn, table.name)},
        ).scalars()
    )
    wanted = {
        f"{table.name}_no_change": "BEFORE UPDATE OR DELETE ON {table} FOR EACH ROW",
        f"{table.name}_no_truncate": "BEFORE TRUNCATE ON {table} FOR EACH STATEMENT",
    }
    missing = {name: timing for name, timing in wanted.items() if name not in existing}
    if not missing:
        # No DDL on a schema that is complete: the writer and reader roles may
        # run this (every application start does) but own nothing to replace.
        return
    # restrict_violation (SQLSTATE 23001) makes drivers raise an IntegrityError,
    # as SQLite's RAISE(ABORT) does.
    conn.exec_driver_sql(
        f"CREATE OR REPLACE FUNCTION {_PG_FUNCTION}() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN "
        "RAISE EXCEPTION USING MESSAGE = TG_ARGV[0], ERRCODE = 'restrict_violation'; "
        "END $$"
    )
    for name, timing in missing.items():
        conn.exec_driver_sql(
            f"CREATE TRIGGER {_quote(conn, name)} "
            + timing.format(table=_quote(conn, table.name))
            + f" EXECUTE FUNCTION {_PG_FUNCTION}({_sql_string(message)})"
        )
