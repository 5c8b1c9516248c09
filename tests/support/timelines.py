"""Random valid timelines: candidate moves drawn by Hypothesis, kept only if the rules allow.

Every move goes through the ledger's own Python API (`app.record`), so what ends up in
the log is exactly what a user could have recorded; the clock ticks between moves by a
drawn amount (sometimes not at all) so that recorded times differ, or tie.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any
from unittest.mock import patch

from hypothesis import strategies as st

from ledger.application import NegotiationLedger
from ledger.domain.errors import SeatledgerError
from ledger.domain.values import ValidTime
from ledger.timeline.document import (
    AgreementSpec,
    AllianceSpec,
    AmendmentSpec,
    AnswerSpec,
    AnyMove,
    ConstituenciesAddedSpec,
    CorrectionSpec,
    CounterOfferSpec,
    MeetingSpec,
    NegotiationSpec,
    NoteSpec,
    PartialAgreementSpec,
    PartySpecMove,
    ProposalSpec,
    ShareSpec,
    TalksEndedSpec,
)

PARTIES = ("A", "B", "C", "D", "E")
MEMBERS = ["A", "B", "C", "D"]  # E is outside the alliance until it joins
ALLIANCE = "bloc"
START = date(2024, 1, 1)
IST = timezone(timedelta(hours=5, minutes=30))
TICKS = st.sampled_from(
    [timedelta(0), timedelta(microseconds=1), timedelta(seconds=1), timedelta(hours=7)]
)
KINDS = st.sampled_from(
    [
        "proposal", "proposal", "counter_offer", "counter_offer", "acceptance", "rejection",
        "withdrawal", "party_joined", "party_withdrew", "agreement", "agreement", "amendment",
        "talks_ended", "meeting", "note", "party_joined_alliance", "party_left_alliance",
        "correction", "correction", "open", "partial_agreement", "partial_agreement",
        "constituencies_added",
    ]
)  # fmt: skip
NAMES = ("Amethi", "Bhadohi", "Rae Bareli", "Kannauj", "New Delhi", "Chandni Chowk", "Namakkal")
"""Constituencies the random talks list (some of them), and name in their shares."""


class Clock:
    """The ledger's transaction clock, moved only by the test."""

    def __init__(self) -> None:
        self.now = datetime(2024, 6, 1, 9, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@contextmanager
def pinned(clock: Clock) -> Iterator[None]:
    """Make the ledger read its transaction time from `clock`."""
    with patch("ledger.domain.aggregate.now", clock):
        yield


class TimelineBuilder:
    """Draws moves and records those the rules accept."""

    def __init__(self, app: NegotiationLedger, data: st.DataObject, clock: Clock) -> None:
        self.app, self.data, self.clock = app, data, clock
        self.negotiations: list[str] = []
        self.move_ids: list[str] = []
        self.recorded_at: list[datetime] = []
        self._count = 0

    def draw(self, strategy: st.SearchStrategy[Any]) -> Any:
        return self.data.draw(strategy)

    def start(self) -> None:
        self.app.register_parties({p: f"Party {p}" for p in PARTIES})
        self.app.form_alliance(AllianceSpec(id=ALLIANCE, members=MEMBERS, formed_on=START))
        self._open()

    def step(self) -> None:
        kind = self.draw(KINDS)
        if kind == "open":
            if len(self.negotiations) < 3:
                self._open()
        else:
            spec = self._spec(kind)
            if spec is not None:
                self._record(spec)
        self.clock.now += self.draw(TICKS)

    def _record(self, spec: AnyMove) -> None:
        try:
            self.app.record(spec)
        except SeatledgerError:
            return  # the rules refused it: not a valid move, so not part of the timeline
        assert spec.id is not None
        self.move_ids.append(spec.id)
        self.recorded_at.append(self.clock.now)

    def _open(self) -> None:
        slug = f"talks-{len(self.negotiations) + 1}"
        parties = self.draw(st.lists(st.sampled_from(PARTIES), min_size=2, max_size=3, unique=True))
        spec = NegotiationSpec(
            id=slug, region=f"Region {slug}", seats=self.draw(st.integers(5, 20)),
            parties=parties, opened_on=self._day(0, 15), constituencies=self._names(),
        )  # fmt: skip
        try:
            self.app.open(spec, alliance=ALLIANCE)
        except SeatledgerError:
            return
        self.negotiations.append(slug)  # openings cannot be corrected: no id for corrections
        self.recorded_at.append(self.clock.now)

    def _day(self, low: int = 0, high: int = 45) -> ValidTime:
        day = START + timedelta(days=self.draw(st.integers(low, high)))
        if self.draw(st.integers(0, 5)) == 0:  # now and then an instant in another offset
            return datetime.combine(day, time(self.draw(st.integers(0, 23))), tzinfo=IST)
        return day

    def _id(self) -> str:
        self._count += 1
        return f"m{self._count}"

    def _at_table(self, slug: str) -> list[str]:
        return sorted(self.app.negotiation(slug).state.at_table) or list(PARTIES)

    def _split(self, parties: list[str]) -> dict[str, Any]:
        chosen = self.draw(st.lists(st.sampled_from(parties), max_size=3, unique=True))
        return {party: self._share() for party in chosen}

    def _share(self) -> Any:
        """A count, now and then constituencies (listed or not), or a count with some."""
        form = self.draw(st.integers(0, 5))
        if form == 0:
            return self.draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=3, unique=True))
        if form == 1:
            named = self.draw(st.lists(st.sampled_from(NAMES), max_size=2, unique=True))
            return ShareSpec(seats=self.draw(st.integers(0, 8)), named=named)
        return self.draw(st.integers(0, 8))

    def _names(self) -> list[str] | None:
        """Some of NAMES (or none) for a negotiation's list."""
        if self.draw(st.booleans()):
            return None
        return self.draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=5, unique=True))

    def _spec(self, kind: str) -> AnyMove | None:
        common: dict[str, Any] = {"id": self._id(), "on": self._day()}
        if kind in ("party_joined_alliance", "party_left_alliance"):
            return PartySpecMove(type=kind, party=self.draw(st.sampled_from(PARTIES)), **common)
        if kind == "correction":
            return self._correction(common["id"])
        alliance_level = kind in ("meeting", "note") and self.draw(st.integers(0, 3)) == 0
        slug = None if alliance_level else self.draw(st.sampled_from(self.negotiations))
        table = self._at_table(slug) if slug else MEMBERS
        party = self.draw(st.sampled_from(table if self.draw(st.booleans()) else PARTIES))
        common["negotiation"] = slug
        if kind == "proposal":
            return ProposalSpec(type=kind, by=party, split=self._split(table), **common)
        if kind == "counter_offer":
            return CounterOfferSpec(type=kind, by=party, split=self._split(table), **common)
        if kind in ("acceptance", "rejection", "withdrawal"):
            return AnswerSpec(type=kind, by=party, **common)
        if kind in ("party_joined", "party_withdrew"):
            return PartySpecMove(type=kind, party=party, **common)
        if kind == "agreement":
            return AgreementSpec(type=kind, split=self._split(table), **common)
        if kind == "amendment":
            return AmendmentSpec(type=kind, split=self._split(table), **common)
        if kind == "talks_ended":
            return TalksEndedSpec(type=kind, note="went alone", **common)
        if kind == "partial_agreement":
            signatories = self.draw(st.lists(st.sampled_from(table), min_size=1, max_size=3))
            split = self._split(sorted(set(signatories)))
            return PartialAgreementSpec(type=kind, signatories=signatories, split=split, **common)
        if kind == "constituencies_added" and slug is not None:
            names = self.draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=3))
            return ConstituenciesAddedSpec(type=kind, names=names, **common)
        if kind == "meeting":
            parties = self.draw(st.lists(st.sampled_from(table), max_size=3, unique=True))
            return MeetingSpec(type=kind, parties=parties, **common)
        return NoteSpec(type="note", note="a statement", **common)

    def _correction(self, move_id: str) -> CorrectionSpec | None:
        if not self.move_ids:
            return None
        of = self.draw(st.sampled_from(self.move_ids))
        what = self.draw(st.sampled_from(["retract", "split", "on", "note", "by"]))
        fields: dict[str, Any] = {"type": "correction", "id": move_id, "of": of}
        if what == "retract":
            fields["retract"] = True
        elif what == "split":
            fields["split"] = self._split(list(PARTIES))
        elif what == "on":
            fields["on"] = self._day()
        elif what == "by":
            fields["by"] = self.draw(st.sampled_from(PARTIES))
        else:
            fields["note"] = "corrected"
        return CorrectionSpec(**fields)

    def query_times(self) -> st.SearchStrategy[tuple[ValidTime | None, ValidTime | None]]:
        """(as of, known on) pairs around what was recorded, including its exact instants."""
        as_of = st.one_of(
            st.none(),
            st.dates(START - timedelta(days=3), START + timedelta(days=50)),
            st.datetimes(datetime(2023, 12, 30), datetime(2024, 2, 20), timezones=st.just(IST)),
        )
        instants = [*self.recorded_at, *(t - timedelta(microseconds=1) for t in self.recorded_at)]
        known_on = st.one_of(
            st.none(),
            st.sampled_from(instants) if instants else st.nothing(),
            st.dates(date(2024, 5, 31), self.clock.now.date() + timedelta(days=1)),
        )
        return st.tuples(as_of, known_on)
