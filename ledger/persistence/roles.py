"""PostgreSQL roles for least privilege: a writer that can only append events, a reader."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from eventsourcing.persistence import PersistenceError
from sqlalchemy import Connection, text

from ledger.domain.errors import InputError
from ledger.persistence.engine import get_engine, mask_url, write_transaction
from ledger.persistence.schema import TABLES, advisory_lock_key, create_schema

VIEW_PREFIX = "seatledger_view_"
"""Projection tables (read models, rebuilt at will) are named with this prefix."""

_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


@dataclass(frozen=True)
class RoleGrants:
    """What create_roles did: the two roles, which it created now, and the tables granted."""

    writer: str
    reader: str
    created: tuple[str, ...]
    tables: tuple[str, ...]


def create_roles(
    url: str,
    *,
    writer: str = "seatledger_writer",
    reader: str = "seatledger_reader",
    password: str | None = None,
) -> RoleGrants:
    """Create (or bring up to date) the writer and reader login roles of a PostgreSQL ledger.

    The writer may append events and moves (INSERT, SELECT) and keep snapshots,
    tracking and projection tables; the reader may only SELECT. The ledger's
    tables are created first if they are missing. Safe to run again.
    """
    for name in (writer, reader):
        if not _ROLE_NAME.match(name):
            msg = f"role name {name!r} is not allowed: use lowercase letters, digits and _"
            raise InputError(msg)
    if writer == reader:
        raise InputError("the writer and the reader must be different roles")
    engine = get_engine(url)
    if engine.dialect.name != "postgresql":
        msg = (
            "SQLite has no roles or grants: anyone who can open the file can write it. "
            "There the append-only triggers refuse UPDATE and DELETE of events, "
            "`seatledger verify` detects tampering, and file permissions decide who writes."
        )
        raise InputError(msg)
    try:
        create_schema(engine)
        with write_transaction(engine) as conn:
            conn.execute(
                text("SELECT pg_advisory_xact_lock(:key)"),
                {"key": advisory_lock_key("seatledger:create_roles")},
            )
            created = tuple(name for name in (writer, reader) if _ensure_role(conn, name, password))
            tables = _grant(conn, writer, reader)
    except PersistenceError as error:
        # The driver's message names the object refused, never the password:
        # the password only ever travels as a SCRAM verifier (below).
        msg = f"cannot set up roles on {mask_url(url)}: {error}"
        raise InputError(msg) from None
    return RoleGrants(writer, reader, created, tables)


def _q(conn: Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote(name)


def _ensure_role(conn: Connection, name: str, password: str | None) -> bool:
    exists = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :n"), {"n": name}).first()
    verb = "ALTER" if exists else "CREATE"
    clause = ""
    if password is not None:
        clause = f" PASSWORD '{_scram_verifier(conn, name, password)}'"
    conn.exec_driver_sql(f"{verb} ROLE {_q(conn, name)} LOGIN NOSUPERUSER{clause}")
    return exists is None


def _scram_verifier(conn: Connection, role: str, password: str) -> str:
    # libpq computes the SCRAM-SHA-256 verifier on the client, as psql's \password
    # does: the clear password never reaches the server, its logs or an error.
    pgconn = conn.connection.dbapi_connection.pgconn  # type: ignore[union-attr]
    verifier = pgconn.encrypt_password(password.encode(), role.encode(), b"scram-sha-256")
    return bytes(verifier).decode("ascii").replace("'", "''")


def _grant(conn: Connection, writer: str, reader: str) -> tuple[str, ...]:
    w, r = _q(conn, writer), _q(conn, reader)
    schema = _q(conn, str(conn.execute(text("SELECT current_schema()")).scalar_one()))
    appended = [TABLES.events.name, TABLES.moves.name]
    kept = [TABLES.snapshots.name, TABLES.tracking.name, *_views(conn)]
    sql = conn.exec_driver_sql
    sql(f"GRANT USAGE ON SCHEMA {schema} TO {w}, {r}")
    for table in [*appended, *kept]:
        # Revoke first, so that running this again takes away anything granted by hand.
        sql(f"REVOKE ALL ON {_q(conn, table)} FROM {w}, {r}")
        sql(f"GRANT SELECT ON {_q(conn, table)} TO {r}")
    for table in appended:
        sql(f"GRANT SELECT, INSERT ON {_q(conn, table)} TO {w}")
    for table in kept:
        sql(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {_q(conn, table)} TO {w}")
    for sequence in _sequences(conn, [*appended, *kept]):
        sql(f"GRANT USAGE, SELECT ON SEQUENCE {sequence} TO {w}")
    # Tables the owner adds later (new projections) become readable by both at
    # once; writing to them waits for the next create_roles, so that a future
    # append-only table is never writable by default.
    sql(f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT SELECT ON TABLES TO {w}, {r}")
    return tuple([*appended, *kept])


def _views(conn: Connection) -> list[str]:
    query = text(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') "
        "AND starts_with(c.relname, :prefix) ORDER BY c.relname"
    )
    return [str(name) for name in conn.execute(query, {"prefix": VIEW_PREFIX}).scalars()]


def _sequences(conn: Connection, tables: Iterable[str]) -> list[str]:
    """Return the sequences owned by the tables' columns (serial and identity ids)."""
    query = text(
        "SELECT s.oid::regclass::text FROM pg_class s "
        "JOIN pg_depend d ON d.objid = s.oid AND d.classid = 'pg_class'::regclass "
        "AND d.refclassid = 'pg_class'::regclass "
        "JOIN pg_class t ON t.oid = d.refobjid "
        "JOIN pg_namespace n ON n.oid = t.relnamespace "
        "WHERE s.relkind = 'S' AND n.nspname = current_schema() AND t.relname = ANY(:tables)"
    )
    return [str(name) for name in conn.execute(query, {"tables": list(tables)}).scalars()]
