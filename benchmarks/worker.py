"""One measurement per process: `python -m benchmarks.worker TASK JSON` prints one JSON line.

Each figure and its baseline run in a fresh interpreter, so that neither inherits the
other's caches or heap, and so that its peak memory (VmHWM) is that task's alone.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import random
import resource
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import and_, insert, select

Task = Callable[[dict[str, Any]], dict[str, Any]]
TASKS: dict[str, Task] = {}
PAGE = 1000


def task(fn: Task) -> Task:
    TASKS[fn.__name__.replace("_", "-")] = fn
    return fn


def peak_mb() -> float:
    """Peak resident memory of this process so far, in MB.

    VmHWM, not ru_maxrss: Linux carries ru_maxrss across fork and exec, so a child's
    starts at its parent's peak (a worker forked by a runner that had generated the 1M
    ledger reported ~680 MB whatever it did). VmHWM belongs to the process image.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


@task
def import_files(args: dict[str, Any]) -> dict[str, Any]:
    """`seatledger import` of each file in turn: read, parse, fold, write (one transaction each)."""
    from ledger.application import NegotiationLedger
    from ledger.timeline.importer import import_timeline
    from ledger.timeline.parsing import read_timeline

    app = NegotiationLedger(args["url"], recorded_by="bench")  # creates the schema
    events, parse, per_file = 0, 0.0, []
    started = time.perf_counter()
    for path in args["files"]:
        t0 = time.perf_counter()
        timeline = read_timeline(Path(path))
        t1 = time.perf_counter()
        report = import_timeline(app, timeline, name=Path(path).name)
        parse += t1 - t0
        events += report.events
        per_file.append(report.events)
        del timeline, report
    seconds = time.perf_counter() - started
    return {
        "events": events,
        "seconds": seconds,
        "parse_seconds": parse,
        "per_file": per_file,
        "peak_mb": peak_mb(),
    }


@task
def insert_rows(args: dict[str, Any]) -> dict[str, Any]:
    """Baseline: SQLAlchemy Core executemany of the stored events and move-index rows."""
    from ledger.persistence.engine import get_engine, read_transaction, write_transaction
    from ledger.persistence.schema import TABLES, create_schema

    events, moves = TABLES.events, TABLES.moves
    source, target = get_engine(args["source"]), get_engine(args["target"])
    create_schema(target)
    seconds, total, first = 0.0, 0, 1
    for count in args["per_file"]:  # one transaction per imported file, as the import did
        last = first + count - 1
        with read_transaction(source) as conn:
            rows = [
                dict(r._mapping)
                for r in conn.execute(
                    select(events)
                    .where(events.c.notification_id.between(first, last))
                    .order_by(events.c.notification_id)
                )
            ]
            same_event = and_(
                moves.c.originator_id == events.c.originator_id,
                moves.c.originator_version == events.c.originator_version,
            )
            query = (
                select(moves)
                .join(events, same_event)
                .where(events.c.notification_id.between(first, last))
            )
            index = [dict(r._mapping) for r in conn.execute(query)]
        gc.collect()
        t0 = time.perf_counter()
        with write_transaction(target) as conn:
            conn.execute(insert(events), rows)
            if index:
                conn.execute(insert(moves), index)
        seconds += time.perf_counter() - t0
        total += len(rows)
        first = last + 1
        del rows, index
    return {"events": total, "seconds": seconds, "peak_mb": peak_mb()}


@task
def rebuild(args: dict[str, Any]) -> dict[str, Any]:
    """Drop the projection tables and apply the whole log again."""
    from projections.api import LedgerViews

    views = LedgerViews(args["url"])
    started = time.perf_counter()
    count = views.rebuild()
    seconds = time.perf_counter() - started
    return {"events": count, "seconds": seconds, "peak_mb": peak_mb()}


@task
def decode_log(args: dict[str, Any]) -> dict[str, Any]:
    """Baseline: the recorder's select_notifications and the mapper's decode, pages of 1000."""
    from ledger.application import NegotiationLedger

    app = NegotiationLedger(args["url"], recorded_by="bench")
    recorder, mapper = app.recorder, app.mapper
    count, start = 0, 1
    started = time.perf_counter()
    while True:
        page = recorder.select_notifications(start, PAGE)
        if not page:
            break
        for notification in page:
            mapper.to_domain_event(notification)
        count += len(page)
        start = page[-1].id + 1
    seconds = time.perf_counter() - started
    return {"events": count, "seconds": seconds, "peak_mb": peak_mb()}


@task
def verify(args: dict[str, Any]) -> dict[str, Any]:
    """`seatledger verify`: recompute every hash chain and check the move index."""
    return verified(args["url"], None)


@task
def verify_derived(args: dict[str, Any]) -> dict[str, Any]:
    """`seatledger verify` as the command runs it: the chains, then the views and snapshots."""
    from projections.views.verify import DerivedChecker

    return verified(args["url"], lambda: DerivedChecker(args["url"]))


def verified(url: str, derived: Callable[[], Any] | None) -> dict[str, Any]:
    """Time verify of a freshly imported ledger; `derived` makes the check of views and
    snapshots (made inside the timing, as the command makes it)."""
    from ledger.integrity import verifier as integrity
    from ledger.persistence.engine import get_engine

    # Opened before the clock starts, as the baseline's connection is: at 10k events the
    # driver's import and first connection (~10 ms on SQLite, 0.1-0.3 s on PostgreSQL under
    # load) would otherwise weigh more than the rows.
    get_engine(url).connect().close()
    started, cpu = time.perf_counter(), time.process_time()
    report = integrity.verify(url, derived=None if derived is None else derived())
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    if not report.ok:
        raise SystemExit(f"verify found problems in a freshly imported ledger: {report}")
    return {
        "events": report.events_checked,
        "seconds": seconds,
        "cpu_seconds": cpu,
        "peak_mb": peak_mb(),
    }


@task
def hash_log(args: dict[str, Any]) -> dict[str, Any]:
    """Verify's baseline: read the rows verify checks through the same driver, hash each event.

    `read_seconds` (the baseline): every column verify checks of every event, in the order
    a chain is checked (aggregate, version), and every move-index row, each table streamed
    through the driver's own cursor as verify streams it (a named binary cursor on
    PostgreSQL, FETCH_SIZE rows a fetch), with hashlib.sha256 over each event's stored bytes.
    `seconds` (kept for the note): sha256 over the same bytes already held in memory.
    """
    from sqlalchemy import text

    from ledger.integrity.log_reader import FETCH_SIZE
    from ledger.persistence.engine import get_engine
    from ledger.persistence.schema import TABLES

    engine = get_engine(args["url"])
    postgres = engine.dialect.name == "postgresql"
    oid = "originator_id::text" if postgres else "originator_id"
    events = (
        f"SELECT {oid}, originator_version, notification_id, topic, state, hash "
        f"FROM {TABLES.events.name} ORDER BY originator_id, originator_version"
    )
    moves = f"SELECT {oid}, originator_version, move_id FROM {TABLES.moves.name}"
    sha256 = hashlib.sha256
    count = 0
    with engine.connect() as conn:
        # Timed once connected, as verify's figure is (the worker opens its engine first).
        started, cpu = time.perf_counter(), time.process_time()
        driver: Any = conn.connection.driver_connection
        for name, query_text in (("bench_events", events), ("bench_moves", moves)):
            cursor = driver.cursor(name=name, binary=True) if postgres else driver.cursor()
            cursor.execute(query_text)
            while rows := cursor.fetchmany(FETCH_SIZE):
                if name == "bench_events":
                    for row in rows:
                        sha256(row[4]).hexdigest()
                    count += len(rows)
            cursor.close()
        read_and_hash, cpu = time.perf_counter() - started, time.process_time() - cpu
    # In memory: the bytes only, as the issue first put it.
    with engine.connect() as conn:
        query = text(f"SELECT state FROM {TABLES.events.name}")
        states = [bytes(s) for (s,) in conn.execute(query)]
    started = time.perf_counter()
    for state in states:
        sha256(state).hexdigest()
    in_memory = time.perf_counter() - started
    return {
        "events": count,
        "seconds": in_memory,
        "read_seconds": read_and_hash,
        "read_cpu_seconds": cpu,
        "peak_mb": peak_mb(),
    }


@task
def queries(args: dict[str, Any]) -> dict[str, Any]:
    """As-of split and seat queries on random talks and dates, on each ledger in turn.

    Several ledgers (the 10k reference and a bigger one) are queried in alternating
    blocks in one process, so both figures see the same machine load. Seat queries ask a
    random listed constituency of a random seat-level talks (`seat`, with its history).
    """
    from projections.api import LedgerViews

    rng = random.Random(args.get("seed", 11))
    first, days = date.fromisoformat(args["first_day"]), args["days"]
    ledgers: list[tuple[Any, list[str], list[tuple[str, list[str]]], float, list[float],
                        list[float]]] = []  # fmt: skip
    for url in args["urls"]:
        views = LedgerViews(url)
        started = time.perf_counter()
        views.catch_up()
        caught_up = time.perf_counter() - started
        slugs = views.negotiations()
        listed = {slug: [s.constituency for s in views.seats(slug)] for slug in slugs}
        seated = [(slug, names) for slug, names in listed.items() if names]
        for _ in range(20):  # warm the connection pool and caches
            _split(views, rng.choice(slugs), first + timedelta(days=rng.randrange(days)))
            _seat(views, rng.choice(seated), rng, first + timedelta(days=rng.randrange(days)))
        ledgers.append((views, slugs, seated, caught_up, [], []))
    rounds = 5
    for _ in range(rounds):
        for views, slugs, seated, _, splits, seats in ledgers:
            for _ in range(args["samples"] // rounds):
                slug, as_of = rng.choice(slugs), first + timedelta(days=rng.randrange(days))
                t0 = time.perf_counter()
                _split(views, slug, as_of)
                splits.append(time.perf_counter() - t0)
                talks, as_of = rng.choice(seated), first + timedelta(days=rng.randrange(days))
                t0 = time.perf_counter()
                _seat(views, talks, rng, as_of)
                seats.append(time.perf_counter() - t0)
    results = []
    for _, slugs, seated, caught_up, splits, seats in ledgers:
        results.append(
            {
                **_percentiles(splits),
                "seat": _percentiles(seats),
                "catch_up_seconds": caught_up,
                "negotiations": len(slugs),
                "seat_talks": len(seated),
            }
        )
    return {"ledgers": results, "peak_mb": peak_mb()}


def _percentiles(timings: list[float]) -> dict[str, Any]:
    timings = sorted(timings)
    n = len(timings)
    return {
        "p50_ms": timings[n // 2] * 1000,
        "p99_ms": timings[min(n - 1, int(n * 0.99))] * 1000,
        "samples": n,
    }


def _split(views: Any, slug: str, as_of: date) -> None:
    from ledger.domain.errors import NotFoundError

    # Not yet open on that day: still a query answered.
    with contextlib.suppress(NotFoundError):
        views.split(slug, as_of=as_of)


def _seat(views: Any, talks: tuple[str, list[str]], rng: random.Random, as_of: date) -> None:
    from ledger.domain.errors import NotFoundError

    slug, names = talks
    with contextlib.suppress(NotFoundError):  # not yet open: still a query answered
        views.seat(slug, rng.choice(names), as_of=as_of)


@task
def web_page(args: dict[str, Any]) -> dict[str, Any]:
    """The web view's negotiation page beside the as-of query (see benchmarks.web)."""
    from benchmarks.web import page_timings

    return {**page_timings(args), "peak_mb": peak_mb()}


@task
def recorders(args: dict[str, Any]) -> dict[str, Any]:
    """Application saves through one recorder (see benchmarks.recorders)."""
    from benchmarks.recorders import run

    return {**run(args), "peak_mb": peak_mb()}


def main() -> None:
    name, raw = sys.argv[1], sys.argv[2]
    result = TASKS[name](json.loads(raw))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
