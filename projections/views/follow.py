"""The follower: keeps the views caught up as events arrive, until it is told to stop.

On PostgreSQL a trigger on the events table NOTIFYs a channel when a transaction that
appended events commits; the follower LISTENs and catches up at once (and also every
`interval` seconds, in case a notification was missed or the trigger is absent). On
SQLite, which has no notifications, it polls every `interval` seconds.

Each catch-up commits the view rows and the position together, page by page
(`projections.views.catchup`), so a follower killed at any point, even with kill -9, resumes
from the last committed page: nothing is lost and nothing applied twice.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError
from sqlalchemy import Connection, Engine, text
from sqlalchemy import exc as sa_exc

from ledger.persistence.engine import read_transaction, write_transaction
from ledger.persistence.schema import TABLES, advisory_lock_key
from projections.api import LedgerViews

CHANNEL = "seatledger_events"
_TRIGGER = "seatledger_events_notify"
_FUNCTION = "seatledger_notify_events"
SLICE = 0.25
"""Seconds: the longest the follower waits before it looks at its stop flag again."""
LOG_EVERY = 5.0
"""Seconds between progress lines while a long backlog is being applied."""
RETRY_MAX = 30.0
"""Seconds: the longest wait between attempts while the database cannot be reached."""

Log = Callable[[str], None]


def _unreachable() -> tuple[type[Exception], ...]:
    """The errors that mean the server cannot be reached, for the retrying loop.

    psycopg is imported here and in `_listening`, not at the top: every command imports
    this module, and only following PostgreSQL needs the driver: `seatledger split` on
    SQLite took ~100 ms less CPU (920 -> 820 ms) without it.
    """
    import psycopg

    return (OperationalError, InterfaceError, psycopg.OperationalError, sa_exc.OperationalError)


class _Stopped(Exception):
    """Raised from the progress callback to end a catch-up between two committed pages."""


def install_notify(engine: Engine) -> bool:
    """Make each commit that appends events notify followers (PostgreSQL; idempotent).

    Returns False on SQLite (no notifications: followers poll). Needs the owner's rights
    the first time; an up-to-date schema costs one read, so any role may call it.
    """
    if engine.dialect.name != "postgresql":
        return False
    with read_transaction(engine) as conn:
        if notify_installed(conn):
            return True
    with write_transaction(engine) as conn:
        key = advisory_lock_key("seatledger:install_notify")
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
        if notify_installed(conn):
            return True
        quote = conn.dialect.identifier_preparer.quote
        # One notification per statement, delivered on commit (never for a rollback);
        # the payload names the schema, so followers of other ledgers can tell.
        conn.exec_driver_sql(
            f"CREATE OR REPLACE FUNCTION {quote(_FUNCTION)}() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN "
            f"PERFORM pg_notify('{CHANNEL}', TG_TABLE_SCHEMA); RETURN NULL; END $$"
        )
        conn.exec_driver_sql(
            f"CREATE TRIGGER {quote(_TRIGGER)} AFTER INSERT ON {quote(TABLES.events.name)} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {quote(_FUNCTION)}()"
        )
    return True


def notify_installed(conn: Connection) -> bool:
    """Whether the events table of this schema notifies followers (PostgreSQL)."""
    query = text("SELECT 1 FROM pg_trigger WHERE tgrelid = to_regclass(:t) AND tgname = :n")
    quoted = conn.dialect.identifier_preparer.quote(TABLES.events.name)
    return conn.execute(query, {"t": quoted, "n": _TRIGGER}).first() is not None


class Follower:
    """Catches the views up whenever events arrive, until `stop` is set."""

    def __init__(self, views: LedgerViews, *, interval: float, log: Log) -> None:
        self.views = views
        self.interval = interval
        self.log = log
        self.stop = threading.Event()
        self.applied = 0  # events applied since start

    def run(self) -> int:
        """Follow until stopped; return how many events were applied."""
        retry = self.interval
        while not self.stop.is_set():
            try:
                with self._listening() as wait:
                    self._announce()
                    retry = self.interval
                    while not self.stop.is_set():
                        self._catch_up()
                        wait(self.interval)
            except _unreachable() as error:
                # The server went away (restart, network): keep trying, say so, lose nothing.
                first = str(error).strip().splitlines()[0] if str(error).strip() else error
                self.log(f"database unavailable ({first}); retrying in {retry:.0f} s")
                self.stop.wait(retry)
                retry = min(retry * 2 if retry > 0 else 1.0, RETRY_MAX)
        self.log(f"stopped; applied {self.applied} event(s) while following")
        return self.applied

    def _announce(self) -> None:
        status = self.views.status()
        how = "notifications" if self._notifies() else f"polling every {self.interval:g} s"
        self.log(
            f"following ({how}); position {status.position}, head {status.head}, lag {status.lag}"
        )

    def _notifies(self) -> bool:
        if self.views.engine.dialect.name != "postgresql":
            return False
        with read_transaction(self.views.engine) as conn:
            return notify_installed(conn)

    def _catch_up(self) -> None:
        started = last_log = time.monotonic()

        def progress(done: int, total: int) -> None:
            nonlocal last_log
            if self.stop.is_set():
                raise _Stopped  # between pages: what was applied is committed
            now = time.monotonic()
            if now - last_log >= LOG_EVERY:
                last_log = now
                self.log(f"catching up: {done} of about {total} event(s) applied")

        try:
            applied = self.views.catch_up(progress)
        except _Stopped:
            return
        if applied:
            self.applied += applied
            status = self.views.status()
            took = (time.monotonic() - started) * 1000
            self.log(
                f"applied {applied} event(s) in {took:.0f} ms; position {status.position}, "
                f"head {status.head}, lag {status.lag}"
            )

    @contextmanager
    def _listening(self) -> Iterator[Callable[[float], None]]:
        """A wait(seconds) that returns early when events commit (or stop is set)."""
        engine = self.views.engine
        if engine.dialect.name != "postgresql":
            yield self._sleep
            return
        import psycopg

        conninfo = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(conninfo, autocommit=True) as listener:
            listener.execute(f"LISTEN {CHANNEL}")  # before the first catch-up: no wake-up lost

            def wait(seconds: float) -> None:
                deadline = time.monotonic() + seconds
                while not self.stop.is_set():
                    left = deadline - time.monotonic()
                    if left <= 0:
                        return
                    # Short slices: a signal handler only sets the stop flag.
                    woken: list[Any] = list(
                        listener.notifies(timeout=min(left, SLICE), stop_after=1)
                    )
                    if woken:
                        return

            yield wait

    def _sleep(self, seconds: float) -> None:
        self.stop.wait(seconds)
