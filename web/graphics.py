"""Geometry for the pages' inline SVG: the offer lineage and the roll-up bar.

Only numbers and ledger text come out of here; the templates draw them, and Jinja escapes
every value. The seats-over-time chart is the report's own (`chart_svg`), kept in a small
cache because matplotlib takes tens of milliseconds to draw it.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from threading import Lock

from projections.lineage import LineageStep
from projections.reports.chart import chart_svg
from projections.reports.model import Series

STEP_X = 92  # one column per move, in date order
LANE_Y = 46  # one lane per party
MARGIN_X, MARGIN_Y = 60, 28
SHORT = {"proposal": "P", "counter_offer": "C", "acceptance": "A", "rejection": "R",
         "withdrawal": "W"}  # fmt: skip
CHART_CACHE_SIZE = 64


@dataclass(frozen=True)
class Node:
    """One move of the lineage, placed."""

    id: str
    type: str
    label: str
    by: str
    on: str
    x: int
    y: int


@dataclass(frozen=True)
class Edge:
    """A reply, from the offer it answered to the answer."""

    source: Node
    target: Node


@dataclass(frozen=True)
class LineageGraph:
    """The placed nodes, edges and lanes of an offer lineage."""

    nodes: list[Node]
    edges: list[Edge]
    lanes: list[tuple[str, int]]  # (party, y)
    width: int
    height: int


def lineage_graph(steps: Sequence[LineageStep]) -> LineageGraph:
    """Moves left to right in date order, one lane per party; replies drawn as arrows."""
    parties = list(dict.fromkeys(step.by or "?" for step in steps))
    lane = {party: MARGIN_Y + i * LANE_Y for i, party in enumerate(parties)}
    nodes: dict[str, Node] = {}
    for i, step in enumerate(steps):
        by = step.by or "?"
        nodes[step.id] = Node(
            step.id, step.type, SHORT.get(step.type, "?"), by, step.on,
            MARGIN_X + i * STEP_X, lane[by],
        )  # fmt: skip
    edges = [
        Edge(nodes[step.answers], nodes[step.id])
        for step in steps
        if step.answers is not None and step.answers in nodes
    ]
    width = MARGIN_X + max(len(steps) - 1, 0) * STEP_X + MARGIN_X
    height = MARGIN_Y * 2 + max(len(parties) - 1, 0) * LANE_Y
    return LineageGraph(list(nodes.values()), edges, list(lane.items()), width, height)


@dataclass(frozen=True)
class BarPart:
    """One party's part of the roll-up bar, in percent of the pool."""

    party: str
    seats: int
    x: float
    width: float
    colour: str


def rollup_bar(parties: Mapping[str, int], pool: int, colours: Mapping[str, str]) -> list[BarPart]:
    """Each party's agreed seats as a share of every seat in the talks open on D."""
    parts, x = [], 0.0
    for party, seats in parties.items():
        width = 100.0 * seats / pool if pool else 0.0
        parts.append(
            BarPart(party, seats, round(x, 3), round(width, 3), colours.get(party, "#555"))
        )
        x += width
    return parts


_charts: OrderedDict[str, str] = OrderedDict()
_charts_lock = Lock()


def seats_chart(series: Series, *, colours: Mapping[str, str], seats: int, label: str) -> str:
    """The report's seats-over-time chart as inline SVG, drawn once per distinct input."""
    key = json.dumps(
        [{p: [pt.to_json() for pt in pts] for p, pts in series.items()},
         dict(colours), seats, label],
        sort_keys=True,
    )  # fmt: skip
    with _charts_lock:
        if key in _charts:
            _charts.move_to_end(key)
            return _charts[key]
    svg = chart_svg(series, colours=colours, seats=seats, label=label)
    with _charts_lock:
        _charts[key] = svg
        while len(_charts) > CHART_CACHE_SIZE:
            _charts.popitem(last=False)
    return svg
