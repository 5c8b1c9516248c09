"""Killing a process with SIGKILL while it is inside a database write, and knowing it was."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[2]

Probe = Callable[[], bool]


def start(args: Sequence[str]) -> subprocess.Popen[bytes]:
    """Start `python args...` from the repository root, output captured."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, *args], cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip


@contextmanager
def write_probe(url: str, table: str = "seatledger_events") -> Iterator[Probe]:
    """A probe that is True while another connection is inside a write transaction.

    SQLite: the database's write lock is taken (a BEGIN IMMEDIATE of our own fails at
    once). PostgreSQL: another backend holds a lock on `table` (in this URL's schema) that
    only writers take, until its transaction ends: ROW EXCLUSIVE from an INSERT, ROW SHARE
    from a SELECT ... FOR UPDATE; plain readers take ACCESS SHARE only.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        conn = sqlite3.connect(str(parsed.database), timeout=0, isolation_level=None)

        def sqlite_probe() -> bool:
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as error:
                if "locked" in str(error) or "busy" in str(error):
                    return True
                raise
            conn.execute("ROLLBACK")
            return False

        try:
            yield sqlite_probe
        finally:
            conn.close()
        return
    conninfo = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as pg:

        def postgres_probe() -> bool:
            row = pg.execute(
                "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                "WHERE c.relname = %s AND c.relnamespace = current_schema()::regnamespace "
                "AND l.mode <> 'AccessShareLock' AND l.granted AND l.pid <> pg_backend_pid()",
                (table,),
            ).fetchone()
            return bool(row and row[0])

        yield postgres_probe


def wait_for(probe: Probe, process: subprocess.Popen[bytes], timeout: float) -> bool:
    """Poll until the probe holds twice in a row, 5 ms apart; False if the process ended."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        if probe():
            time.sleep(0.005)
            if probe():
                return True
        time.sleep(0.001)
    raise AssertionError(f"no write seen within {timeout}s")


def kill(process: subprocess.Popen[bytes]) -> int | None:
    """SIGKILL the process (if it is still running); return its exit code."""
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)
    process.communicate(timeout=60)
    return process.returncode
