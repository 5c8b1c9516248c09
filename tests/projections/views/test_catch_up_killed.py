"""A catch-up killed with SIGKILL mid-way resumes without losing or repeating anything."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select

from ledger.persistence.engine import get_engine, read_transaction, write_transaction
from projections.api import LedgerViews
from projections.views.tables import metadata
from projections.views.writes import lock_position
from tests.support.example import record_example

ROOT = Path(__file__).resolve().parents[3]
EVENTS = 68

# Pages of one event; each page sleeps after writing its rows and before writing its
# position and committing, so that the kill lands inside a transaction.
CHILD = """
import sys, time
from projections.views import writes
from projections.api import LedgerViews

write_rows = writes.PageWrites.flush

def slow_write_rows(self, conn):
    write_rows(self, conn)
    time.sleep(0.03)

writes.PageWrites.flush = slow_write_rows
print(LedgerViews(sys.argv[1], page_size=1).catch_up(), flush=True)
"""


def dump(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every view table, in primary-key order."""
    with read_transaction(get_engine(url)) as conn:
        return {
            table.name: [
                tuple(row)
                for row in conn.execute(select(table).order_by(*table.primary_key.columns))
            ]
            for table in metadata.sorted_tables
        }


def _start_catch_up(url: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, url],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip


def _wait_for_position(views: LedgerViews, child: subprocess.Popen[bytes], at_least: int) -> None:
    deadline = time.monotonic() + 60
    while views.status().position < at_least:
        if child.poll() is not None:
            _, err = child.communicate()
            raise AssertionError(f"catch-up ended before it was killed: {err.decode()[-2000:]}")
        if time.monotonic() > deadline:
            raise AssertionError("the catch-up made no progress within 60 s")
        time.sleep(0.005)


def test_killed_catch_up_resumes_without_loss_or_repeat_when_run_again(db_url: str) -> None:
    record_example(db_url)
    views = LedgerViews(db_url)
    child = _start_catch_up(db_url)
    try:
        _wait_for_position(views, child, at_least=10)
        time.sleep(0.015)  # into the next page's transaction
    finally:
        if child.poll() is None:
            os.kill(child.pid, signal.SIGKILL)
        child.communicate(timeout=60)
    assert child.returncode == -signal.SIGKILL
    # Take the projection's lock: it is free once the killed transaction is gone.
    with write_transaction(get_engine(db_url)) as conn:
        stopped = lock_position(conn)
    assert 10 <= stopped < EVENTS
    assert views.catch_up() == EVENTS - stopped
    resumed = dump(db_url)
    assert views.rebuild() == EVENTS
    assert dump(db_url) == resumed
