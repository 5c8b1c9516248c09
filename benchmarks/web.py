"""The web view's negotiation page, rendered server-side, beside the as-of query it is built on.

Each sample takes a random (talks, date), asks the in-process ASGI app for `/n/{talks}?as_of=D`
(routing, the reads, the seats, a page of moves, its lineage and the template; no network)
and, in turn, the bare as-of split query, so both figures see the same machine load. Every
fourth sample also asks for the talks' chart (`/n/{talks}/chart`, which the page fetches on
load): drawn by matplotlib the first time a story is asked for, then kept.
"""

from __future__ import annotations

import contextlib
import random
import time
from datetime import date, timedelta
from typing import Any


def page_timings(args: dict[str, Any]) -> dict[str, Any]:
    """p50 / p99 of a negotiation page and of the as-of split query, in milliseconds."""
    from starlette.testclient import TestClient

    from web.app import create_app

    rng = random.Random(args.get("seed", 13))
    first, days = date.fromisoformat(args["first_day"]), args["days"]
    app = create_app(args["url"])
    views = app.state.reader.views
    views.catch_up()
    slugs = views.negotiations()
    client = TestClient(app)
    pages: list[float] = []
    splits: list[float] = []
    charts: list[float] = []
    for i in range(args["samples"] + 10):  # the first ten warm pools, imports and templates
        slug, as_of = rng.choice(slugs), first + timedelta(days=rng.randrange(days))
        t0 = time.perf_counter()
        status = client.get(f"/n/{slug}", params={"as_of": as_of.isoformat()}).status_code
        t1 = time.perf_counter()
        if status not in (200, 404):  # 404: not yet open on that day, still a page answered
            raise RuntimeError(f"/n/{slug}?as_of={as_of} answered {status}")
        with contextlib.suppress(LookupError):
            views.split(slug, as_of=as_of)
        t2 = time.perf_counter()
        if i >= 10:
            pages.append(t1 - t0)
            splits.append(t2 - t1)
        if i >= 10 and i % 4 == 0 and status == 200:
            t3 = time.perf_counter()
            if client.get(f"/n/{slug}/chart").status_code != 200:
                raise RuntimeError(f"/n/{slug}/chart failed")
            charts.append(time.perf_counter() - t3)
    return {"page": _quantiles(pages), "split": _quantiles(splits), "samples": len(pages),
            "chart": _quantiles(charts), "charts": len(charts),
            "negotiations": len(slugs)}  # fmt: skip


def _quantiles(timings: list[float]) -> dict[str, float]:
    timings = sorted(timings)
    n = len(timings)
    return {"p50_ms": timings[n // 2] * 1000, "p99_ms": timings[min(n - 1, int(n * 0.99))] * 1000}
