"""Which recorder: ours (SQLAlchemy Core) against the library's native ones and its SQLAlchemy one.

The same eventsourcing Application, aggregate, events (about 340 bytes of JSON each) and
mapper for every recorder; only PERSISTENCE_MODULE and its settings differ. Two workloads:
saves of 100-event aggregates (a bulk import's shape) and one save per event (a command's).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from sqlalchemy.engine import make_url

RECORDERS = ("seatledger", "native", "eventsourcing_sqlalchemy")
NOTE = "Leaders met late into the night; both sides called the talks cordial and hopeful."


class Talks(Aggregate):
    """A stand-in aggregate whose events are the size of the ledger's."""

    @event("Moved")
    def move(self, by: str, split: dict[str, int], source: str, note: str) -> None:
        self.last = split


class Bench(Application[UUID]):
    """The application under test; its env picks the recorder."""

    name = "bench"
    is_snapshotting_enabled = False


def environment(recorder: str, backend: str, url: str, folder: Path) -> dict[str, str]:
    """PERSISTENCE_MODULE and its settings for a recorder on a database."""
    if recorder == "seatledger":
        return {"PERSISTENCE_MODULE": "ledger.persistence.factory", "SEATLEDGER_DB_URL": url}
    if backend == "sqlite":
        path = str(folder / f"{recorder}.db")
        if recorder == "native":
            return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": path}
        return {
            "PERSISTENCE_MODULE": "eventsourcing_sqlalchemy",
            "SQLALCHEMY_URL": f"sqlite:///{path}",
        }
    parsed = make_url(url)
    schema = str(parsed.query.get("options", "")).split("search_path=", 1)[-1]
    if recorder == "native":
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": parsed.database or "",
            "POSTGRES_HOST": parsed.host or "127.0.0.1",
            "POSTGRES_PORT": str(parsed.port or 5432),
            "POSTGRES_USER": parsed.username or "",
            "POSTGRES_PASSWORD": parsed.password or "",
            "POSTGRES_SCHEMA": schema,
        }
    plain = parsed.difference_update_query(["options"]).render_as_string(hide_password=False)
    return {
        "PERSISTENCE_MODULE": "eventsourcing_sqlalchemy",
        "SQLALCHEMY_URL": plain,
        "SQLALCHEMY_SCHEMA": schema,
    }


def _moves(talks: Talks, count: int, offset: int) -> None:
    for i in range(count):
        n = offset + i
        split = {"P01": 40 - n % 7, "P02": 30 + n % 5, "P03": 5}
        source = f"https://www.thehindu.com/news/national/article{n}.ece"
        talks.move(by="P01", split=split, source=source, note=NOTE)


def run(args: dict[str, Any]) -> dict[str, Any]:
    """Events per second for both workloads on one recorder."""
    if args["recorder"] == "native" and args["backend"] == "postgres":
        import psycopg_pool  # noqa: F401  eventsourcing.postgres needs it: say so plainly
    folder = Path(tempfile.mkdtemp(prefix="recorders-", dir=args.get("workdir")))
    env = environment(args["recorder"], args["backend"], args["url"], folder)
    app = Bench(env=env)
    aggregates, size, singles = args["aggregates"], args["events_per_aggregate"], args["singles"]
    started = time.perf_counter()
    for _ in range(aggregates):
        talks = Talks()
        _moves(talks, size - 1, 0)  # the creation is the first event
        app.save(talks)
    batched = aggregates * size / (time.perf_counter() - started)
    talks = Talks()
    app.save(talks)
    started = time.perf_counter()
    for i in range(singles):
        _moves(talks, 1, i)
        app.save(talks)
    single = singles / (time.perf_counter() - started)
    app.close()
    return {"batched_per_s": batched, "single_per_s": single}
