"""The facts an audit report carries, whatever its format: plain JSON-ready values."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from ledger.domain.values import valid_instant

JsonDict = dict[str, Any]

# The moves that put a split on the table or change the agreed one: the chart's points.
CHARTED_TYPES = ("proposal", "counter_offer", "agreement", "amendment")


@dataclass(frozen=True)
class Point:
    """One party's seats in one split, on the date the split was made."""

    on: str
    seats: int
    move: str
    type: str
    by: str | None

    def to_json(self) -> JsonDict:
        """The point as a JSON object."""
        return {
            "on": self.on,
            "seats": self.seats,
            "move": self.move,
            "type": self.type,
            "by": self.by,
        }


Series = dict[str, list[Point]]


def chart_series(history: Sequence[Mapping[str, Any]]) -> Series:
    """Each party's seats over valid time, from the splits of proposals and agreements.

    History rows are moves as recorded; a point shows a move as its corrections left it
    (a retracted move, or one a correction moved past the report's date, is not drawn).
    """
    rows = {str(move["id"]): move for move in history}
    series: Series = {}
    for move in history:
        if move.get("type") not in CHARTED_TYPES:
            continue
        effective: dict[str, Any] | None = dict(move)
        for fix_id in as_list(move.get("corrected_by")):
            effective = _corrected(effective, rows.get(fix_id))
        if effective is None or not effective.get("split"):
            continue
        for party, seats in effective["split"].items():
            point = Point(
                str(effective["on"]), int(seats), str(move["id"]), str(move["type"]),
                effective.get("by"),
            )  # fmt: skip
            series.setdefault(str(party), []).append(point)
    for points in series.values():
        points.sort(key=lambda p: instant(p.on))
    return series


def _corrected(move: dict[str, Any] | None, fix: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The move after one correction; None once retracted or moved past the report's date."""
    if move is None or fix is None or fix.get("retract"):
        return None
    changed = {key: fix[key] for key in ("on", "split", "by") if fix.get(key) is not None}
    return {**move, **changed}


def instant(text: str) -> datetime:
    """A move's ISO date or instant as an aware UTC datetime (a date: its start)."""
    if len(text) == 10:
        return valid_instant(date.fromisoformat(text))
    return valid_instant(datetime.fromisoformat(text.replace("Z", "+00:00")))


def iso(value: date | datetime | str | None) -> str | None:
    """A date or instant as ISO text (None stays None)."""
    if value is None or isinstance(value, str):
        return value
    return value.isoformat()


def as_list(value: Any) -> list[str]:
    """A move id or a list of them (as corrected_by / corrects carry) as a list."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


@dataclass(frozen=True)
class NegotiationReport:
    """One negotiation's part of a report: its split view, its moves and its chart."""

    view: JsonDict
    title: str
    history: list[JsonDict]
    series: Series

    @property
    def slug(self) -> str:
        """The negotiation's id."""
        return str(self.view["negotiation"])

    def to_json(self) -> JsonDict:
        """The split view's keys, then the title, the moves and the chart series."""
        return {
            **self.view,
            "title": self.title,
            "history": self.history,
            "series": {p: [point.to_json() for point in pts] for p, pts in self.series.items()},
        }


REPORT_FORMAT = "seatledger/audit-report@1"


def views_digest(negotiations: Sequence[NegotiationReport], rollup: JsonDict) -> str:
    """SHA-256 over the canonical JSON (sorted keys, no spaces) of every view row shown."""
    shown = {"negotiations": [n.to_json() for n in negotiations], "rollup": rollup}
    text = json.dumps(shown, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def stamp_text(stamp: JsonDict) -> str:
    """The stamp as one comment line for HTML and Markdown (no "--" can end it early)."""
    text = json.dumps(stamp, sort_keys=True, separators=(",", ":")).replace("--", "-\\u002d")
    return f"<!-- seatledger-report {text} -->"


@dataclass(frozen=True)
class ReportFacts:
    """Everything a report shows, gathered once from the ledger."""

    scope: str | None  # the negotiation asked for, None for all of them
    as_of: str | None
    known_on: str | None
    digest: JsonDict
    negotiations: Sequence[NegotiationReport]
    rollup: JsonDict
    known_through: str | None = None  # the last recorded instant the views' answers include
    diff: JsonDict | None = None  # `report --diff-from D`: the `diff --format json` object

    @property
    def views_digest(self) -> str:
        """SHA-256 of the view rows the report was built from, as canonical JSON."""
        return views_digest(self.negotiations, self.rollup)

    def stamp(self) -> JsonDict:
        """What `verify --report` needs to read the same views again: embedded in every format."""
        return {
            "report": REPORT_FORMAT,
            "scope": self.scope,
            "as_of": self.as_of,
            "known_on": self.known_on,
            "known_through": self.known_through,
            "digest": self.digest,
            "views_digest": self.views_digest,
            **({"diff_from": self.diff.get("from")} if self.diff is not None else {}),
        }

    @property
    def parties(self) -> list[str]:
        """Every party the report names, most seats first (colours are handed out in this order)."""
        seats: dict[str, int] = {}
        for negotiation in self.negotiations:
            for party, n in (negotiation.view.get("split") or {}).items():
                seats[party] = seats.get(party, 0) + int(n)
            for party in negotiation.series:
                seats.setdefault(party, 0)
        for party, n in (self.rollup.get("parties") or {}).items():
            seats[party] = max(seats.get(party, 0), int(n))
        return sorted(seats, key=lambda party: (-seats[party], party))

    def to_json(self) -> JsonDict:
        """The report as one JSON object."""
        return {
            "report": REPORT_FORMAT,
            "scope": self.scope or "all",
            "as_of": self.as_of,
            "known_on": self.known_on,
            "digest": self.digest,
            "views": {"digest": self.views_digest, "known_through": self.known_through},
            "negotiations": [n.to_json() for n in self.negotiations],
            "rollup": self.rollup,
            **({"diff": self.diff} if self.diff is not None else {}),
        }
