"""A negotiation's whole story as its seats-over-time chart reads it, in two queries.

The chart (`projections.reports.model.chart_series`) asks for the split on each move's
date. Asked one date at a time, a negotiation of thousands of moves costs hundreds of
queries; here its moves' marks and every split row known on K are read once, and each
date is answered from them as `LedgerViews.split` would answer it. The web view's chart
reads both; a report, which has the moves already, reads the split rows (`story_split_on`).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from typing import Any

import orjson

from ledger.domain.values import ValidTime
from projections.answers import JsonDict, not_opened
from projections.api import LedgerViews
from projections.views import queries
from projections.views.timeaxis import parse_valid_time, query_instant

SplitOn = Callable[[str], JsonDict]
"""The split view on a move's date (`{"split", "by", ...}`), as the chart asks for it."""


def chart_story(
    views: LedgerViews, negotiation: str, known_on: ValidTime | None
) -> tuple[list[JsonDict], SplitOn]:
    """Every move known on K (id, type, on, by) and the split on any date, as known on K."""
    k = query_instant(known_on, "known on")

    def read(conn: Any) -> tuple[list[JsonDict], list[StoryRow]]:
        return queries.move_marks(conn, negotiation, k), queries.split_story(conn, negotiation, k)

    found = views.read_fresh(read)
    if found is None:  # this role replays: every move, and the split one date at a time
        every = [move.to_json() for move in views.history(negotiation, None, known_on)]
        return every, _replayed(views, negotiation, known_on)
    marks, rows = found
    return marks, _split_on(rows, negotiation, known_on)


def story_split_on(views: LedgerViews, negotiation: str, known_on: ValidTime | None) -> SplitOn:
    """The split on any date as known on K, from the negotiation's story read once (a
    report's chart, which has its moves already)."""
    k = query_instant(known_on, "known on")
    rows = views.read_fresh(lambda conn: queries.split_story(conn, negotiation, k))
    if rows is None:  # this role replays
        return _replayed(views, negotiation, known_on)
    return _split_on(rows, negotiation, known_on)


StoryRow = tuple[int, int, str, Any]  # valid_from, valid_to, split JSON, maker


def _replayed(views: LedgerViews, negotiation: str, known_on: ValidTime | None) -> SplitOn:
    return lambda on: views.split(negotiation, parse_valid_time(on), known_on).to_json()


def _split_on(rows: list[StoryRow], negotiation: str, known_on: ValidTime | None) -> SplitOn:
    starts = [row[0] for row in rows]

    def split_on(on: str) -> JsonDict:
        when = parse_valid_time(on)
        d = query_instant(when, "as of")
        i = bisect_right(starts, d) - 1  # the rows cut the valid axis into disjoint runs
        if i < 0 or rows[i][1] <= d:
            raise not_opened(negotiation, when, known_on)
        return {"split": orjson.loads(rows[i][2]), "by": rows[i][3]}

    return split_on
