"""SIGKILL in the middle of a write: an import lands whole or not at all, and a killed
catch-up leaves views that the next read completes to exactly what a rebuild gives."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from ledger.application import NegotiationLedger
from ledger.timeline.document import TimelineFile
from ledger.timeline.importer import import_timeline
from ledger.timeline.parsing import parse_timeline
from projections.api import LedgerViews
from projections.views.catchup import BY_AGGREGATE_FROM, PAGE_SIZE
from projections.views.tables import position as view_position
from tests.support.killing import ROOT, kill, start, wait_for, write_probe
from tests.support.ledgers import (
    big_timeline,
    check_move_index,
    check_verified,
    log_position,
    scaled,
    timeline_json,
    view_tables,
)

pytestmark = pytest.mark.reliability  # sized by SEATLEDGER_RELIABILITY_SCALE

# Big enough that the write transaction outlasts the probe's latency: since the recorder
# writes with COPY on PostgreSQL, a 2,000-move import's write was over (committing) by the
# time an aimed kill landed, about one run in three.
IMPORT_MOVES = scaled(10_000, minimum=6_000)
KILLS = scaled(10, minimum=4)
CLI_KILLS = scaled(10, minimum=3)
# A catch-up this far behind goes page by page, a transaction a page (further behind, it goes
# aggregate by aggregate in one transaction: BY_AGGREGATE_FROM, the test after it).
PAGED_CATCH_UP_MOVES = min(scaled(50_000, minimum=6_000), BY_AGGREGATE_FROM - 500)
ONE_TRANSACTION_CATCH_UP_MOVES = BY_AGGREGATE_FROM + 2_000
SEED = int(os.environ.get("SEATLEDGER_RELIABILITY_SEED") or time.time_ns() % 1_000_000)

Command = Callable[[str, Path], list[str]]


def library_import(url: str, path: Path) -> list[str]:
    """`import_timeline` in a process of its own."""
    return ["-m", "tests.support.children", "import", url, str(path)]


def cli_import(url: str, path: Path) -> list[str]:
    """`seatledger import FILE`."""
    return ["-m", "scripts.cli", "--db", url, "import", str(path)]


def seatledger(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the command line to the end."""
    return subprocess.run(
        [sys.executable, "-m", "scripts.cli", "--db", url, *args],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip


@dataclass(frozen=True)
class Kill:
    """One kill: aimed inside the write or at a random moment, and what it left."""

    aimed_at_write: bool
    write_open_at_kill: bool
    left_nothing: bool
    exit_code: int | None


def growth_of(url: str, timeline: TimelineFile) -> tuple[int, int]:
    """The events and indexed moves a complete import of this file adds."""
    report = import_timeline(NegotiationLedger(url, recorded_by="importer"), timeline, dry_run=True)
    return report.events, len(timeline.moves) + len(timeline.negotiations)


def kill_one_import(
    url: str, path: Path, command: Command, delay: float | None, late: float
) -> tuple[Kill, float]:
    """Run the import, SIGKILL it, check all-or-nothing, run it again; return the kill.

    delay None: kill once the write is seen, `late` seconds later; else `delay` after start.
    """
    timeline = parse_timeline(path.read_text())
    events, moves = growth_of(url, timeline)
    before = log_position(url)
    with write_probe(url) as probe:
        started = time.monotonic()
        process = start(command(url, path))
        if delay is None:
            assert wait_for(probe, process, timeout=300), "the import ended before it wrote"
            took = time.monotonic() - started
            time.sleep(late)
        else:
            took = delay
            time.sleep(delay)
        inside = probe()
        code = kill(process)
        while probe():  # PostgreSQL: the dead client's backend is still rolling back
            time.sleep(0.01)
    after = log_position(url)
    grew = (after.events - before.events, after.moves - before.moves)
    assert grew in {(0, 0), (events, moves)}, f"a partial import: {grew} of {(events, moves)}"
    if code == 0:
        assert grew == (events, moves), "the import said it finished, but its moves are missing"

    again = start(command(url, path))
    _, err = again.communicate(timeout=600)
    assert again.returncode == 0, err.decode()[-2000:]
    final = log_position(url)
    assert (final.events - before.events, final.moves - before.moves) == (events, moves)
    return Kill(delay is None, inside, grew == (0, 0), code), took


def kill_imports(url: str, tmp_path: Path, command: Command, kills: int) -> list[Kill]:
    """Kill a run of imports into one ledger: every other one inside its write."""
    rng = random.Random(SEED)
    done: list[Kill] = []
    time_to_write = 1.0
    for run in range(kills):
        path = tmp_path / f"run{run}.json"
        path.write_text(timeline_json(big_timeline(IMPORT_MOVES, prefix=f"run{run}")))
        delay = None if run % 2 == 0 else rng.uniform(0, 1.2 * time_to_write)
        late = rng.uniform(0, 0.02) if run else 0.0
        kill_, took = kill_one_import(url, path, command, delay, late)
        if delay is None:
            time_to_write = took
        done.append(kill_)
    check_move_index(url)
    check_verified(url)
    print(f"\nseed {SEED}: {IMPORT_MOVES}-move imports killed: {done}")
    assert any(k.write_open_at_kill and k.left_nothing for k in done), (
        "no kill landed inside a write; the test proved nothing"
    )
    return done


@pytest.mark.slow
def test_import_lands_whole_or_not_at_all_when_killed_mid_write(
    db_url: str, tmp_path: Path
) -> None:
    kill_imports(db_url, tmp_path, library_import, KILLS)


@pytest.mark.slow
def test_cli_import_lands_whole_or_not_at_all_when_killed_mid_write(
    db_url: str, tmp_path: Path
) -> None:
    kill_imports(db_url, tmp_path, cli_import, CLI_KILLS)


def views_behind(db_url: str, moves: int) -> LedgerViews:
    """A ledger of `moves` imported moves, and its view tables with nothing applied yet."""
    timeline = parse_timeline(timeline_json(big_timeline(moves)))
    import_timeline(NegotiationLedger(db_url, recorded_by="importer"), timeline)
    return LedgerViews(db_url)  # creates the view tables


def check_next_read_completes_the_views(db_url: str, views: LedgerViews) -> None:
    """After a killed catch-up, the next read catches up to what replay and a rebuild give."""
    read = seatledger(db_url, "splits", "--format", "json")
    assert read.returncode == 0, read.stderr
    assert views.status().lag == 0
    replayed = seatledger(db_url, "replay", "--format", "json")
    assert replayed.returncode == 0, replayed.stderr
    assert json.loads(read.stdout) == json.loads(replayed.stdout)
    after_read = view_tables(db_url)
    rebuilt = seatledger(db_url, "projections", "rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert view_tables(db_url) == after_read


@pytest.mark.slow
def test_next_read_gives_the_rebuilt_views_when_a_cli_catch_up_was_killed(
    db_url: str,
) -> None:
    rng = random.Random(SEED)
    views = views_behind(db_url, PAGED_CATCH_UP_MOVES)
    head = views.status().head
    assert head < BY_AGGREGATE_FROM  # page by page
    positions, open_at_kill = [0], []
    while positions[-1] < head and len(positions) <= CLI_KILLS:
        with write_probe(db_url, table=view_position.name) as probe:
            process = start(["-m", "scripts.cli", "--db", db_url, "projections", "catch-up"])
            while views.status().position <= positions[-1] and process.poll() is None:
                time.sleep(0.002)
            time.sleep(rng.uniform(0, 0.1))  # into the next page, or past it
            open_at_kill.append(probe())
            kill(process)
            while probe():
                time.sleep(0.01)
        reached = views.status().position
        assert reached >= positions[-1]
        assert reached % PAGE_SIZE == 0 or reached == head, f"half a page applied: {reached}"
        positions.append(reached)
    print(f"\nseed {SEED}: catch-up of {head} events killed at {positions[1:]}: {open_at_kill}")
    assert any(open_at_kill), "no kill landed inside a page's transaction"

    check_next_read_completes_the_views(db_url, views)


@pytest.mark.slow
def test_a_catch_up_by_aggregate_killed_keeps_nothing_and_the_next_read_completes_it(
    db_url: str,
) -> None:
    views = views_behind(db_url, ONE_TRANSACTION_CATCH_UP_MOVES)
    assert views.status().head >= BY_AGGREGATE_FROM  # one transaction, aggregate by aggregate
    with write_probe(db_url, table=view_position.name) as probe:
        process = start(["-m", "scripts.cli", "--db", db_url, "projections", "catch-up"])
        while not probe():
            assert process.poll() is None, "the catch-up ended before its transaction was seen"
            time.sleep(0.002)
        kill(process)
        while probe():
            time.sleep(0.01)
    assert views.status().position == 0  # nothing of the killed transaction was kept

    check_next_read_completes_the_views(db_url, views)
