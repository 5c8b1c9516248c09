"""PostgreSQL roles for least privilege: a writer that appends, a projector, a reader."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from eventsourcing.persistence import PersistenceError
from sqlalchemy import Connection, Table, text

from ledger.domain.errors import InputError
from ledger.persistence.engine import get_engine, mask_url, write_transaction
from ledger.persistence.schema import TABLES, advisory_lock_key, create_schema

VIEW_PREFIX = "seatledger_view_"
"""Projection tables (read models, rebuilt at will) are named with this prefix."""

ROLES: Final = ("writer", "projector", "reader")
READ: Final = ("SELECT",)
APPEND: Final = ("SELECT", "INSERT")
KEEP: Final = ("SELECT", "INSERT", "UPDATE", "DELETE")
GRANTS: Final[Mapping[str, Mapping[str, tuple[str, ...]]]] = {
    # table kind -> role -> privileges. Nobody but the owner may TRUNCATE anything.
    "events": {"writer": APPEND, "projector": READ, "reader": READ},
    "moves": {"writer": APPEND, "projector": READ, "reader": READ},
    # The writer snapshots the talks it records; an older snapshot is superseded by a
    # trigger that runs as the owner (_SUPERSEDE), so the writer needs no DELETE.
    "snapshots": {"writer": APPEND, "projector": KEEP, "reader": READ},
    "tracking": {"writer": READ, "projector": KEEP, "reader": READ},
    "views": {"writer": READ, "projector": KEEP, "reader": READ},
}
"""Who may do what, by kind of table: docs/guarantees.md shows this as its grants table."""

_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_SUPERSEDE = "seatledger_snapshots_supersede"


@dataclass(frozen=True)
class RoleGrants:
    """What create_roles did: the three roles, which it created now, and the tables granted."""

    writer: str
    reader: str
    projector: str
    created: tuple[str, ...]
    tables: tuple[str, ...]


def create_roles(
    url: str,
    *,
    writer: str = "seatledger_writer",
    reader: str = "seatledger_reader",
    projector: str = "seatledger_projector",
    password: str | None = None,
) -> RoleGrants:
    """Create (or bring up to date) the writer, projector and reader login roles (PostgreSQL).

    Each gets what GRANTS says and nothing else: the writer appends events and moves
    (and snapshots), the projector keeps the views, snapshots and tracking and only
    reads the log, the reader only reads. The ledger's tables are created first if
    they are missing. Safe to run again: it also takes back anything granted by hand.
    """
    names = {"writer": writer, "projector": projector, "reader": reader}
    for name in names.values():
        if not _ROLE_NAME.match(name):
            msg = f"role name {name!r} is not allowed: use lowercase letters, digits and _"
            raise InputError(msg)
    if len(set(names.values())) < len(names):
        raise InputError("the writer, the projector and the reader must be different roles")
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
            created = tuple(n for n in names.values() if _ensure_role(conn, n, password))
            tables = _grant(conn, names)
            _supersede_snapshots(conn)
    except PersistenceError as error:
        # The driver's message names the object refused, never the password:
        # the password only ever travels as a SCRAM verifier (below).
        msg = f"cannot set up roles on {mask_url(url)}: {error}"
        raise InputError(msg) from None
    return RoleGrants(writer, reader, projector, created, tables)


def may_delete(conn: Connection, table: Table) -> bool:
    """Whether this connection's role may DELETE rows of `table` (always, on SQLite)."""
    if conn.dialect.name != "postgresql":
        return True
    query = text("SELECT has_table_privilege(CAST(:t AS regclass), 'DELETE')")
    return bool(conn.execute(query, {"t": _q(conn, table.name)}).scalar())


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


def _grant(conn: Connection, names: Mapping[str, str]) -> tuple[str, ...]:
    quoted = {role: _q(conn, name) for role, name in names.items()}
    everyone = ", ".join(quoted.values())
    schema = _q(conn, str(conn.execute(text("SELECT current_schema()")).scalar_one()))
    kinds = {
        "events": [TABLES.events.name],
        "moves": [TABLES.moves.name],
        "snapshots": [TABLES.snapshots.name],
        "tracking": [TABLES.tracking.name],
        "views": _views(conn),
    }
    sql = conn.exec_driver_sql
    sql(f"GRANT USAGE ON SCHEMA {schema} TO {everyone}")
    for kind, tables in kinds.items():
        for table in tables:
            # Revoke first, so that running this again takes away anything granted by hand.
            sql(f"REVOKE ALL ON {_q(conn, table)} FROM {everyone}")
            for role, privileges in GRANTS[kind].items():
                sql(f"GRANT {', '.join(privileges)} ON {_q(conn, table)} TO {quoted[role]}")
                inserts = "INSERT" in privileges
                for sequence in _sequences(conn, [table]):
                    sql(f"REVOKE ALL ON SEQUENCE {sequence} FROM {quoted[role]}")
                    if inserts:
                        sql(f"GRANT USAGE, SELECT ON SEQUENCE {sequence} TO {quoted[role]}")
    # Tables the owner adds later (new projections) become readable by all three at
    # once; writing to them waits for the next create_roles, so that a future
    # append-only table is never writable by default.
    sql(f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT SELECT ON TABLES TO {everyone}")
    return tuple(table for tables in kinds.values() for table in tables)


def _supersede_snapshots(conn: Connection) -> None:
    """A trigger, run as the owner, that drops the snapshots a newer one supersedes.

    Only the latest snapshot of an aggregate is ever loaded; the writer, which may not
    DELETE, thereby keeps the table at one snapshot per aggregate as the owner does.
    """
    schema = str(conn.execute(text("SELECT current_schema()")).scalar_one())
    table = f"{_q(conn, schema)}.{_q(conn, TABLES.snapshots.name)}"
    function = f"{_q(conn, schema)}.{_q(conn, _SUPERSEDE)}"
    # SECURITY DEFINER with a fixed search_path and a qualified table: nothing the
    # inserting role controls changes what the function touches.
    conn.exec_driver_sql(
        f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql "
        "SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$ BEGIN "
        f"DELETE FROM {table} WHERE originator_id = NEW.originator_id "
        "AND originator_version < NEW.originator_version; RETURN NULL; END $$"
    )
    conn.exec_driver_sql(f"REVOKE ALL ON FUNCTION {function}() FROM PUBLIC")
    exists = conn.execute(
        text("SELECT 1 FROM pg_trigger WHERE tgrelid = to_regclass(:t) AND tgname = :n"),
        {"t": table, "n": _SUPERSEDE},
    ).first()
    if exists is None:
        conn.exec_driver_sql(
            f"CREATE TRIGGER {_q(conn, _SUPERSEDE)} AFTER INSERT ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {function}()"
        )


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
