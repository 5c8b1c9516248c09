"""A big import folds its talks in two processes: the same log, byte for byte, as one
process gives (given the same clock), the same error for a refused file, nothing written
then, and a complete import when the worker dies."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import select

from ledger import forked
from ledger.application import NegotiationLedger
from ledger.domain.errors import MoveRefusedError
from ledger.persistence.engine import dispose_engines, get_engine
from ledger.persistence.parts import PART_TOPIC
from ledger.persistence.schema import TABLES
from ledger.persistence.snapshots import split_seal
from ledger.timeline import importer, two_processes
from ledger.timeline.document import TimelineFile
from ledger.timeline.importer import import_timeline
from ledger.timeline.parsing import read_timeline
from tests.support import pg
from tests.support.example import EXAMPLE
from tests.support.ledgers import big_timeline
from tests.support.timelines import Clock, pinned

Fresh = Callable[[], Any]
TALKS = 12
"""Talks of the big file: 60 moves each, so that each is snapshotted (at 50 events)."""


@pytest.fixture(params=["sqlite", "postgres"], ids=["sqlite", "postgres"])
def fresh(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Fresh]:
    """Makes empty databases, on SQLite or on PostgreSQL."""
    server = request.getfixturevalue("pg_server_url") if request.param == "postgres" else ""
    schemas: list[str] = []

    def make() -> str:
        if not server:
            return f"sqlite:///{tmp_path / f'{len(list(tmp_path.iterdir()))}.db'}"
        schema, url = pg.create_test_schema(server)
        schemas.append(schema)
        return url

    try:
        yield make
    finally:
        dispose_engines()
        for schema in schemas:
            pg.drop_test_schema(server, schema)
        dispose_engines()


@pytest.fixture
def two(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Fold in two processes even a small file, however busy the machine; the import's
    own process is slow, so the worker takes most talks. Returns the messages received."""
    monkeypatch.setattr(two_processes, "SPLIT_FROM", 0)
    monkeypatch.setattr(forked, "SPARE", -1000.0)
    monkeypatch.setattr(two_processes, "BATCH", 1)  # a message per talks
    parent, fold, start = os.getpid(), importer._fold, forked.fork
    forks: list[forked.Claims] = []

    def counted(claims: forked.Claims, *args: Any) -> Any:
        forks.append(claims)
        return start(claims, *args)

    def slow_alone(*args: Any) -> None:
        if os.getpid() == parent and two_processes.PROCESSES >= 2:
            # The worker takes its share, even on a busy machine: it claims a talks
            # before this process folds its first (up to 10 s), and each fold here waits.
            deadline = time.monotonic() + 10
            while forks and forks[-1].counter.value < 2 and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(0.2)
        fold(*args)

    monkeypatch.setattr(two_processes, "fork", counted)
    monkeypatch.setattr(importer, "_fold", slow_alone)
    messages: list[str] = []
    take = two_processes._Receiver._take

    def seen(receiver: Any, parts: Any, message: tuple[str, Any]) -> None:
        messages.append(message[0] if message[1] != [] else "nothing")
        take(receiver, parts, message)

    monkeypatch.setattr(two_processes._Receiver, "_take", seen)
    return messages


def big_file(*refused_in: int) -> TimelineFile:
    """A file of TALKS talks; the last move of each talks in `refused_in` is refused."""
    data = big_timeline(60 * TALKS, TALKS)
    for talks in refused_in:
        data["moves"][-TALKS + talks]["on"] = "2019-01-01"  # before the talks opened
    return TimelineFile.model_validate(data)


def stored(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the log, the move index and the snapshots, in a fixed order (of a
    snapshot, all but its seal's MAC, which depends on the ledger's own key)."""
    tables = {"events": TABLES.events, "moves": TABLES.moves, "snapshots": TABLES.snapshots}
    with get_engine(url).connect() as conn:
        rows = {
            name: sorted(tuple(row) for row in conn.execute(select(table)))
            for name, table in tables.items()
        }
    for at, (aggregate, version, topic, state) in enumerate(rows["snapshots"]):
        if topic == PART_TOPIC:
            continue  # a part: named by its SHA-256, not sealed
        sealed = split_seal(state)
        assert sealed is not None
        rows["snapshots"][at] = (aggregate, version, topic, sealed[0], sealed[2])
    return rows


@contextmanager
def clock() -> Iterator[None]:
    """A pinned clock for the events and the snapshots (they read the same one)."""
    with pinned(Clock()):
        yield


def imported(url: str, timeline: TimelineFile, processes: int = 2) -> dict[str, Any]:
    """Import `timeline` into `url` with a pinned clock; return what was stored."""
    with pytest.MonkeyPatch.context() as monkeypatch, clock():
        monkeypatch.setattr(two_processes, "PROCESSES", processes)
        import_timeline(NegotiationLedger(url, recorded_by="analyst"), timeline)
    return stored(url)


@pytest.mark.parametrize("example", [False, True], ids=["big", "alliance"])
def test_two_processes_store_the_rows_of_one(fresh: Fresh, two: list[str], example: bool) -> None:
    timeline = read_timeline(EXAMPLE) if example else big_file()
    alone = imported(fresh(), timeline, processes=1)
    assert not two
    calls: list[tuple[int, int]] = []
    url = fresh()
    with clock():
        app = NegotiationLedger(url, recorded_by="analyst")
        report = import_timeline(app, timeline, progress=lambda *call: calls.append(call))
    assert "talks" in two and two[-1] == "done"  # the worker folded talks of its own
    assert stored(url) == alone
    assert alone["snapshots"] or example
    assert calls == [(done, report.recorded) for done in range(1, report.recorded + 1)]
    again = import_timeline(app, timeline)  # idempotent by move id
    assert again.recorded == 0 and again.unchanged == report.recorded
    assert stored(url) == alone


def test_a_refused_file_gives_the_error_of_one_process_and_writes_nothing(
    fresh: Fresh, two: list[str]
) -> None:
    # Every talks but the first is refused: whichever talks the worker claims, it fails,
    # and so does the import's process; the error names the earliest (talks 1).
    timeline = big_file(*range(1, TALKS))
    with pytest.raises(MoveRefusedError) as alone:
        imported(fresh(), timeline, processes=1)
    assert "region-01" in str(alone.value)
    url = fresh()
    with pytest.raises(MoveRefusedError) as split:
        imported(url, timeline)
    assert "failed" in two
    assert str(split.value) == str(alone.value)
    assert stored(url) == {"events": [], "moves": [], "snapshots": []}


def test_a_worker_killed_leaves_its_talks_to_the_import(
    fresh: Fresh, two: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    timeline = big_file()
    alone = imported(fresh(), timeline, processes=1)
    parent, fold, folded = os.getpid(), importer._fold, []

    def dies_on_its_third(*args: Any) -> None:
        if os.getpid() != parent:
            folded.append(args)
            if len(folded) == 3:
                os.kill(os.getpid(), signal.SIGKILL)  # the worker, as kill -9 would
        fold(*args)

    monkeypatch.setattr(importer, "_fold", dies_on_its_third)
    url = fresh()
    assert imported(url, timeline) == alone
    assert "talks" in two and "done" not in two and "failed" not in two  # talks, then died
