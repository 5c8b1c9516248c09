"""What the read side answers: typed, immutable views with the JSON shapes of docs/cli.md."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ledger.domain.errors import NotFoundError
from ledger.domain.state import AGREED
from ledger.domain.values import Split, ValidTime
from projections.views.timeaxis import iso

JsonDict = dict[str, Any]


@dataclass(frozen=True)
class SplitView:
    """The split of one negotiation as of D, as known on K."""

    negotiation: str
    region: str
    seats: int
    as_of: ValidTime | None
    known_on: ValidTime | None
    status: str  # opened | negotiating | agreed | no_deal
    split: Split
    by: str | None  # who made the split on the table; None once agreed or with nothing open
    title: str = ""
    election: str | None = None
    alliance: str | None = None
    named: dict[str, list[str]] = field(default_factory=dict)  # parties with named seats
    settled: dict[str, int] = field(default_factory=dict)  # the settled shares

    @property
    def unallocated(self) -> int:
        """Seats of the pool that the split gives to nobody."""
        return self.seats - sum(self.split.values())

    def to_json(self) -> JsonDict:
        """The `split --format json` object."""
        return {
            "negotiation": self.negotiation,
            "region": self.region,
            "seats": self.seats,
            "as_of": iso(self.as_of),
            "known_on": iso(self.known_on),
            "status": self.status,
            "split": dict(self.split),
            "unallocated": self.unallocated,
            "by": self.by,
            "named": {party: list(names) for party, names in self.named.items()},
            "settled": dict(self.settled),
            **({} if self.election is None else {"election": self.election}),
        }


@dataclass(frozen=True)
class SeatHolder:
    """Who holds one listed constituency, and how: agreed, settled, on_table or unassigned."""

    constituency: str
    holder: str | None
    status: str

    def to_json(self) -> JsonDict:
        """One item of `seats --format json`."""
        return {"constituency": self.constituency, "holder": self.holder, "status": self.status}


@dataclass(frozen=True)
class SeatChange:
    """A change of a seat's (holder, status), on a date, made by a move."""

    on: str
    move: str
    holder: str | None
    status: str

    def to_json(self) -> JsonDict:
        """One item of a seat's history."""
        return {"on": self.on, "move": self.move, "holder": self.holder, "status": self.status}


@dataclass(frozen=True)
class SeatView:
    """One constituency of a negotiation as of D, as known on K, with its history up to D."""

    negotiation: str
    constituency: str
    as_of: ValidTime | None
    known_on: ValidTime | None
    holder: str | None
    status: str
    history: tuple[SeatChange, ...]

    def to_json(self) -> JsonDict:
        """The `seat --format json` object."""
        return {
            "negotiation": self.negotiation,
            "constituency": self.constituency,
            "as_of": iso(self.as_of),
            "known_on": iso(self.known_on),
            "holder": self.holder,
            "status": self.status,
            "history": [change.to_json() for change in self.history],
        }


@dataclass(frozen=True)
class Scope:
    """Which talks a view covers: those of one election and/or one alliance (None: any)."""

    election: str | None = None
    alliance: str | None = None

    def admits(self, view: SplitView) -> bool:
        """True if the negotiation is in scope."""
        return (self.election is None or (view.election or "") == self.election) and (
            self.alliance is None or view.alliance == self.alliance
        )

    def of(self, views: Iterable[SplitView]) -> list[SplitView]:
        """The views in scope."""
        return [view for view in views if self.admits(view)]

    def unknown(self, every: Sequence[SplitView]) -> NotFoundError:
        """The error for a scope that names no negotiation of the ledger, with what there is."""
        named = [f"{what} {value!r}" for what, value in self._given()]
        known = {
            "election": sorted({view.election or "" for view in every}),
            "alliance": sorted({view.alliance for view in every if view.alliance}),
        }
        hints = "; ".join(
            f"{what}s known: {', '.join(repr(v) for v in known[what]) or 'none'}"
            for what, _ in self._given()
        )
        return NotFoundError(f"no negotiation of {' and '.join(named)} in this ledger ({hints})")

    def _given(self) -> list[tuple[str, str]]:
        given = (("election", self.election), ("alliance", self.alliance))
        return [(what, value) for what, value in given if value is not None]


EVERYTHING = Scope()


@dataclass(frozen=True)
class RollupView:
    """Seats per party summed over the negotiations agreed on D, as known on K.

    A ledger holding talks of several elections is never summed across them: `elections`
    then holds one roll-up per election ("" for talks with none) and `parties` is empty.
    """

    as_of: ValidTime | None
    known_on: ValidTime | None
    parties: dict[str, int]
    negotiations: tuple[SplitView, ...] = ()  # every negotiation open on D, with its status
    elections: dict[str, dict[str, int]] = field(default_factory=dict)

    def to_json(self) -> JsonDict:
        """The `rollup --format json` object (per election when there are several)."""
        when = {"as_of": iso(self.as_of), "known_on": iso(self.known_on)}
        if self.elections:
            return {**when, "elections": self.elections}
        return {**when, "parties": self.parties}


def _totals(views: Iterable[SplitView]) -> dict[str, int]:
    """Sum the agreed splits by party (most seats first, then by code)."""
    totals: dict[str, int] = {}
    for view in views:
        if view.status == AGREED:
            for party, seats in view.split.items():
                totals[party] = totals.get(party, 0) + seats
    return dict(sorted(totals.items(), key=lambda item: (-item[1], item[0])))


def rollup_of(
    splits: Iterable[SplitView], as_of: ValidTime | None, known_on: ValidTime | None
) -> RollupView:
    """The roll-up of these talks: one, or one per election if they belong to several."""
    listed = tuple(splits)
    elections = sorted({view.election or "" for view in listed})
    if len(elections) <= 1:
        return RollupView(as_of, known_on, _totals(listed), listed)
    per_election = {
        election: _totals(view for view in listed if (view.election or "") == election)
        for election in elections
    }
    return RollupView(as_of, known_on, {}, listed, per_election)


@dataclass(frozen=True)
class MoveView:
    """One recorded move (or correction) as it was recorded, with its correction links."""

    id: str
    type: str
    on: ValidTime
    recorded_at: datetime
    recorded_by: str
    by: str | None
    split: Split | None
    source: str | None
    note: str | None
    confidence: str
    negotiation: str | None  # None for an alliance-level move
    seats_moved: dict[str, int] | None  # per party, against the split on the table before it
    corrects: str | None = None
    retract: bool = False
    corrected_by: tuple[str, ...] = field(default=())
    named: dict[str, list[str]] | None = None  # the seats its split named, where it named any
    # The listed seats whose holder it changed (constituency, from, to), as seats_moved is
    # derived: against the story before it as known on K.
    seats_given: tuple[tuple[str, str | None, str | None], ...] = ()

    def to_json(self) -> JsonDict:
        """The `history --format json` object; correction, `named` and `seats_given` keys only
        where they apply."""
        data: JsonDict = {
            "id": self.id,
            "type": self.type,
            "on": self.on.isoformat(),
            "recorded_at": self.recorded_at.isoformat(),
            "recorded_by": self.recorded_by,
            "by": self.by,
            "split": None if self.split is None else dict(self.split),
            "source": self.source,
            "note": self.note,
            "confidence": self.confidence,
            "negotiation": self.negotiation,
            "seats_moved": None if self.seats_moved is None else dict(self.seats_moved),
        }
        if self.corrects is not None:
            data["corrects"] = self.corrects
            data["retract"] = self.retract
        if self.corrected_by:
            data["corrected_by"] = list(self.corrected_by)
        if self.named is not None:
            data["named"] = {party: list(names) for party, names in self.named.items()}
        if self.seats_given:
            data["seats_given"] = [
                {"constituency": name, "from": old, "to": new}
                for name, old, new in self.seats_given
            ]
        return data


@dataclass(frozen=True)
class ProjectionStatus:
    """How far the views have got through the event log."""

    position: int  # last notification id applied (0: none)
    head: int  # last notification id recorded (0: none)

    @property
    def lag(self) -> int:
        """Notification ids recorded but not yet applied (ids, not events: PostgreSQL may skip)."""
        return max(self.head - self.position, 0)

    def to_json(self) -> JsonDict:
        """Position, head and lag."""
        return {"position": self.position, "head": self.head, "lag": self.lag}


@dataclass(frozen=True)
class Freshness:
    """How current the views were when they were opened, and where answers come from."""

    status: ProjectionStatus  # as found on opening, before any catch-up
    replayed: bool  # the views lag and this role may not update them: answers are replayed

    def notice(self) -> str | None:
        """The one line a command prints on stderr when its answers come by replay."""
        if not self.replayed:
            return None
        s = self.status
        return (
            f"note: the views lag the event log by {s.lag} notification(s) (position "
            f"{s.position}, head {s.head}) and this role may not update them: "
            "answers are replayed from the event log itself"
        )


def _known(known_on: ValidTime | None) -> str:
    return "" if known_on is None else f" as known on {known_on.isoformat()}"


def unknown_negotiation(negotiation: str, known_on: ValidTime | None) -> NotFoundError:
    """The error for a negotiation the ledger does not hold (as known on K)."""
    return NotFoundError(f"no negotiation {negotiation!r} in this ledger{_known(known_on)}")


def not_opened(
    negotiation: str, as_of: ValidTime | None, known_on: ValidTime | None
) -> NotFoundError:
    """The error for a negotiation that had not opened by D (as known on K)."""
    when = "" if as_of is None else f" by {as_of.isoformat()}"
    return NotFoundError(f"negotiation {negotiation!r} had not opened{when}{_known(known_on)}")
