"""The facts an audit report carries, whatever its format: plain JSON-ready values."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from ledger.domain.values import valid_instant

JsonDict = dict[str, Any]


@dataclass(frozen=True)
class Point:
    """One party's seats in the split on the table (or agreed) from a date; None: it left it."""

    on: str
    seats: int | None
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
LEAVING = ("party_withdrew", "party_left_alliance")  # the party leaves the table
SplitOn = Callable[[str], Mapping[str, Any]]


def chart_series(
    history: Sequence[Mapping[str, Any]],
    split_on: SplitOn,
    alliance_moves: Sequence[Mapping[str, Any]] = (),
) -> Series:
    """Each party's seats in the split on the table or agreed, at the end of each move's date.

    `split_on(date)` is the split view on that date (as `split --as-of` answers it), so the
    chart shows what the ledger's own views say: corrections, late facts and lapsed offers
    included. A party's line ends (a point with no seats) on the date it drops out of that
    split, or leaves the table or the alliance (another party's open offer may still name it:
    it is no longer at the table to take those seats), until it joins the table again.
    `alliance_moves` (joining or leaving the alliance) are not in a negotiation's history but
    change its table: their dates, from the talks' first move on, are asked too.
    """
    opened = min((instant(str(m["on"])) for m in history if m.get("on")), default=None)
    days: dict[str, list[Mapping[str, Any]]] = {}
    for move in [*alliance_moves, *history]:
        on = move.get("on")
        if on and opened is not None and instant(str(on)) >= opened:
            days.setdefault(str(on), []).append(move)
    series: Series = {}
    before: dict[str, int] = {}
    away: set[str] = set()
    for on in sorted(days, key=instant):
        for move in days[on]:
            if move.get("type") in LEAVING and move.get("by"):
                away.add(str(move["by"]))
            elif move.get("type") == "party_joined" and move.get("by"):
                away.discard(str(move["by"]))
        view = split_on(on)
        split = view.get("split") or {}
        now = {str(p): int(n) for p, n in split.items() if str(p) not in away}
        move = days[on][-1]  # the day's last move names the point (the negotiation's own, if any)
        for party in sorted(before.keys() | now.keys()):
            if before.get(party) != now.get(party):
                series.setdefault(party, []).append(
                    Point(on, now.get(party), str(move.get("id")), str(move.get("type")),
                          view.get("by"))
                )  # fmt: skip
        before = now
    return series


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
    """One negotiation's part of a report: its split view, its moves, its chart and, for
    talks that list constituencies, who holds each seat."""

    view: JsonDict
    title: str
    history: list[JsonDict]
    series: Series
    seats: list[JsonDict] = field(default_factory=list)  # `seats --format json` items

    @property
    def slug(self) -> str:
        """The negotiation's id."""
        return str(self.view["negotiation"])

    def to_json(self) -> JsonDict:
        """The split view's keys, then the title, the moves, the chart series and the seats
        (only for talks that list constituencies)."""
        return {
            **self.view,
            "title": self.title,
            "history": self.history,
            "series": {p: [point.to_json() for point in pts] for p, pts in self.series.items()},
            **({"seats": self.seats} if self.seats else {}),
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
    colours: Mapping[str, str] = field(default_factory=dict)  # chosen per party code
    limits: JsonDict = field(default_factory=dict)  # `--election`/`--alliance` given, if any

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
            **({"limits": self.limits} if self.limits else {}),
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
        totals = [self.rollup.get("parties") or {}, *(self.rollup.get("elections") or {}).values()]
        for parties in totals:
            for party, n in parties.items():
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
            **({"limits": self.limits} if self.limits else {}),
        }
