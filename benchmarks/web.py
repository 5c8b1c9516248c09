"""The web view's negotiation page, rendered server-side, beside the as-of query it is built on.

Each sample takes a random (talks, date), asks the in-process ASGI app for `/n/{talks}?as_of=D`
(routing, the reads, the lineage, the chart and the template; no network) and, in turn, the
bare as-of split query, so both figures see the same machine load.
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
    return {"page": _quantiles(pages), "split": _quantiles(splits), "samples": len(pages),
            "negotiations": len(slugs)}  # fmt: skip


def _quantiles(timings: list[float]) -> dict[str, float]:
    timings = sorted(timings)
    n = len(timings)
    return {"p50_ms": timings[n // 2] * 1000, "p99_ms": timings[min(n - 1, int(n * 0.99))] * 1000}
