"""`seatledger projections follow` as a real process: woken by commits, stopped, killed."""

from __future__ import annotations

import random
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

from ledger.persistence.engine import get_engine, read_transaction
from projections.views.tables import position as view_position
from projections.views.writes import read_position
from tests.scripts.conftest import Team
from tests.scripts.test_subprocess import EXAMPLE, seatledger
from tests.support.killing import kill, start, write_probe
from tests.support.ledgers import big_timeline, timeline_json, view_tables

PICK_UP = 1.0
"""Seconds from a move's commit to the views holding it (the follower is already running)."""
STARTED = 60.0
"""Seconds a follower may take to start and apply a backlog (a loaded CI machine)."""
BACKLOG_MOVES = 3000
KILLS = 3
SEED = 16


def _follow(url: str, *options: str) -> subprocess.Popen[bytes]:
    return start(["-m", "scripts.cli", "--db", url, "projections", "follow", *options])


def _lag(url: str) -> int:
    with read_transaction(get_engine(url)) as conn:
        position = read_position(conn)
        head = conn.exec_driver_sql("SELECT max(notification_id) FROM seatledger_events")
        return int(head.scalar() or 0) - position


def _poll(until: Callable[[], bool], deadline: float, what: str) -> None:
    """Poll until `until()` holds; fail naming `what` if it does not by `deadline` seconds."""
    end = time.monotonic() + deadline
    while not until():
        assert time.monotonic() < end, f"{what}: not within {deadline} s"
        time.sleep(0.01)


class _Following:
    """A follower process whose log is read as it runs."""

    def __init__(self, url: str, *options: str) -> None:
        self.process = _follow(url, *options)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line.decode())

    def stop(self, sig: signal.Signals) -> str:
        """Once it follows (signals handled), send `sig`; expect exit 0; return its log."""
        _poll(
            lambda: (
                any("following (" in line for line in self.lines) or self.process.poll() is not None
            ),
            STARTED,
            "the follower started",
        )
        self.process.send_signal(sig)
        self.process.wait(timeout=30)
        self._reader.join(timeout=30)
        log = "".join(self.lines)
        assert self.process.returncode == 0, log
        return log


def test_follower_applies_a_new_move_within_a_second_when_it_is_notified(
    team: Team,
) -> None:
    # A long interval: only the commit's notification can wake the follower in time.
    follower = _Following(team.projector, "--interval", "60")
    try:
        _poll(lambda: _lag(team.reader) == 0, STARTED, "the follower's first catch-up")
        team.run("writer", "note", "delhi", "--on", "2024-04-06", "--note", "followed")
        _poll(lambda: _lag(team.reader) == 0, PICK_UP, "the new move in the views")
        seen = team.run("reader", "history", "delhi", "-f", "json")
        assert "followed" in seen.stdout and "views lag" not in seen.stderr
    finally:
        logged = follower.stop(signal.SIGTERM)
    assert "following (notifications)" in logged
    assert "applied 1 event(s)" in logged and "lag 0" in logged
    assert "SIGTERM received" in logged and "stopped" in logged


def test_follower_polls_and_stops_on_ctrl_c_when_the_ledger_is_sqlite(
    sqlite_url: str, tmp_path: Path
) -> None:
    assert seatledger("--db", sqlite_url, "init", cwd=tmp_path).returncode == 0
    follower = _Following(sqlite_url, "--interval", "0.1")
    try:
        time.sleep(0.5)  # let it start idle: what follows must be picked up by polling
        done = seatledger("--db", sqlite_url, "import", str(EXAMPLE), cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        _poll(lambda: _lag(sqlite_url) == 0, STARTED, "the imported moves in the views")
    finally:
        logged = follower.stop(signal.SIGINT)
    assert "polling every 0.1 s" in logged and "applied 68 event(s)" in logged


def test_follower_resumes_without_loss_or_repeat_when_killed_with_sigkill(
    team: Team,
    tmp_path: Path,
) -> None:
    rng = random.Random(SEED)
    backlog = tmp_path / "backlog.json"
    backlog.write_text(timeline_json(big_timeline(BACKLOG_MOVES, prefix="follow")))
    team.run("writer", "import", str(backlog))
    head = _lag(team.owner) + _position(team)
    positions, open_at_kill = [_position(team)], []
    while positions[-1] < head and len(positions) <= KILLS:
        with write_probe(team.owner, table=view_position.name) as probe:
            follower = _follow(team.projector)
            _poll(
                lambda: _position(team) > positions[-1] or follower.poll() is not None,  # noqa: B023
                STARTED,
                "a page applied",
            )
            # Into the next page, or past it; at most 50 ms: a quiet machine applies the whole
            # backlog (about 4 pages) in tenths of a second, and a kill after it proves nothing.
            time.sleep(rng.uniform(0, 0.05))
            open_at_kill.append(probe())
            assert kill(follower) == -signal.SIGKILL, "the follower ended before it was killed"
            _poll(lambda: not probe(), STARTED, "the killed transaction rolled back")
        positions.append(_position(team))
        assert positions[-1] >= positions[-2]
    print(f"\nseed {SEED}: follower killed at positions {positions[1:]}: {open_at_kill}")

    resumed = _Following(team.projector)
    try:
        _poll(lambda: _lag(team.owner) == 0, STARTED, "the rest of the backlog")
    finally:
        resumed.stop(signal.SIGTERM)
    followed = view_tables(team.owner)
    team.run("owner", "projections", "rebuild")
    assert view_tables(team.owner) == followed  # every event applied once, none lost
    assert positions[1] < head, "the first kill came after the whole backlog was applied"
    assert any(open_at_kill), "no kill landed inside a page's transaction"


def _position(team: Team) -> int:
    with read_transaction(get_engine(team.reader)) as conn:
        return read_position(conn)
