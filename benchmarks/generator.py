"""A deterministic synthetic ledger: the season's outline, and `generate()`.

`generate(events=100_000, seed=7)` simulates an election season of seat-sharing talks and
returns a `Ledger` (`ledger_files.py`: cut and written as `seatledger/timeline@1` JSON files)
whose import records about `events` events. This module draws the outline: the alliance and
the talks (the file header), each talks' share of the moves, the days they fall on, and the
alliance-level moves; `talks.py` makes each talks' moves, with the cast and words of
`cast.py`.

The ledger is written in report order: each move where it would be reported. Late facts (a
note or meeting dated up to a month back) and corrections (of a split, a note or a source,
or a retraction) stand where they were reported, after moves dated later. Cut into several
files, a later file then holds facts dated before moves an earlier file recorded.
"""

from __future__ import annotations

import hashlib
import heapq
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import cast
from benchmarks.cast import ALLIANCE, NOTES, SOURCES, SPAN_DAYS, party_codes
from benchmarks.ledger_files import Ledger
from benchmarks.talks import CORRECTION_RATE, LATE_FACT_RATE, Talks, TalksMoves

FORMAT = "seatledger/timeline@1"
OPENING_DAYS = 30


def source_digest() -> str:
    """A digest of the generator's code: generated files cached under it go stale with it."""
    modules = ("generator.py", "cast.py", "talks.py", "ledger_files.py")
    source = b"".join(Path(__file__).with_name(module).read_bytes() for module in modules)
    return hashlib.sha256(source).hexdigest()[:8]


@dataclass(order=True)
class _Pending:
    day: int
    order: int
    move: dict[str, Any] = field(compare=False)
    events: int = field(compare=False, default=1)


class _Season:
    """The season being generated: its outline, and the moves in the order reported."""

    def __init__(self, events: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.members, self.outsiders = party_codes()
        self.n_talks = min(500, max(4, events // 40))
        self.pending: list[_Pending] = []
        self.order = 0
        self.target = events
        self.moves = TalksMoves(self.rng, self.emit)

    # -- scaffolding ---------------------------------------------------------------

    def header(self) -> dict[str, Any]:
        rng = self.rng
        parties = [{"code": c, "name": f"Party {c}"} for c in self.members + self.outsiders]
        self.talks: list[Talks] = []
        negotiations = []
        for i in range(self.n_talks):
            slug = f"n{i:03d}-constituency-cluster"
            n = rng.randint(2, 8)
            pool = rng.sample(self.members, n + rng.randint(0, 3))
            talks = Talks(
                slug=slug,
                seats=rng.randint(5, 80),
                core=pool[:2],
                at_table=list(pool[:n]),
                outside=list(pool[n:]),
                opened=rng.randrange(OPENING_DAYS),
                budget=0,
                agree_at=None,
                end_at=None,
            )
            self.talks.append(talks)
            negotiations.append(
                {
                    "id": slug,
                    "title": f"Seat sharing in cluster {i}",
                    "region": f"Region {i % 37}",
                    "seats": talks.seats,
                    "parties": list(talks.at_table),
                    "opened_on": cast.day(talks.opened),
                    "source": SOURCES[i % len(SOURCES)].format(f"open-{i}"),
                }
            )
        return {
            "format": FORMAT,
            "alliance": {
                "id": ALLIANCE,
                "name": "Benchmark bloc",
                "members": self.members,
                "formed_on": cast.day(-30),
            },
            "parties": parties,
            "negotiations": negotiations,
        }

    # -- the season ----------------------------------------------------------------

    def plan(self, fixed: int) -> int:
        """Share the move budget among the talks; return the alliance membership moves."""
        rng = self.rng
        joins = 1 if self.target < 20_000 else max(1, self.target // 100_000)
        leaves = 0 if self.target < 20_000 else joins
        membership = (joins + leaves) * (1 + self.n_talks)
        # Late facts and corrections come on top of each talks' own moves.
        extra = 1 + LATE_FACT_RATE + CORRECTION_RATE
        budget = max(self.n_talks, int((self.target - fixed - membership) / extra))
        weights = [rng.uniform(0.3, 1.7) for _ in self.talks]
        total = sum(weights)
        for talks, weight in zip(self.talks, weights, strict=True):
            talks.budget = max(3, round(budget * weight / total))
            fate = rng.random()
            if fate < 0.8:
                talks.agree_at = int(talks.budget * rng.uniform(0.7, 0.9))
            elif fate < 0.9:
                talks.end_at = int(talks.budget * rng.uniform(0.8, 0.95))
        self.joins = joins
        self.leaves = leaves
        return membership

    def schedule(self) -> Iterator[tuple[int, int, int, bool]]:
        """(day, tie, talks index, last move of these talks that day), in day order."""
        rng = self.rng

        def days(index: int, talks: Talks) -> Iterator[tuple[int, int, int, bool]]:
            span = SPAN_DAYS - talks.opened
            picks = sorted(talks.opened + rng.randrange(span) for _ in range(talks.budget))
            picks.append(-1)
            for number, d in enumerate(picks[:-1]):
                yield (d, index * 1_000_000 + number, index, picks[number + 1] != d)

        return heapq.merge(*(days(i, t) for i, t in enumerate(self.talks)))

    def alliance_moves(self) -> list[tuple[int, dict[str, Any]]]:
        rng = self.rng
        moves: list[tuple[int, dict[str, Any]]] = []
        joiners = self.outsiders[: max(self.joins, 1)]
        for i, party in enumerate(joiners):
            joined = rng.randrange(60, SPAN_DAYS // 2)
            moves.append(
                (
                    joined,
                    {
                        "id": f"{ALLIANCE}-{party}-joins",
                        "type": "party_joined_alliance",
                        "on": cast.day(joined),
                        "party": party,
                        "source": SOURCES[i % len(SOURCES)].format(f"{party}-joins"),
                    },
                )
            )
            if i < self.leaves:
                left = rng.randrange(joined + 1, SPAN_DAYS)
                moves.append(
                    (
                        left,
                        {
                            "id": f"{ALLIANCE}-{party}-leaves",
                            "type": "party_left_alliance",
                            "on": cast.day(left),
                            "party": party,
                            "note": f"{party} quits the bloc over seat sharing",
                        },
                    )
                )
        for i in range(max(2, self.n_talks // 50)):
            when = rng.randrange(SPAN_DAYS)
            move: dict[str, Any]
            if i % 2:
                move = {"type": "note", "on": cast.day(when), "note": rng.choice(NOTES)}
            else:
                parties = rng.sample(self.members, 5)
                move = {"type": "meeting", "on": cast.day(when), "parties": parties}
            moves.append((when, move))
        return sorted(moves, key=lambda item: item[0])

    def emit(self, day: int, move: dict[str, Any], events: int = 1) -> None:
        self.order += 1
        heapq.heappush(self.pending, _Pending(day, self.order, move, events))


def generate(events: int, seed: int = 7) -> Ledger:
    """A ledger whose import records about `events` events (within a few percent)."""
    season = _Season(events, seed)
    header = season.header()
    fixed = 2 + 2 * season.n_talks  # roster, alliance formed, each opening and registration
    season.plan(fixed)
    moves: list[dict[str, Any]] = []
    move_events: list[int] = []
    alliance = season.alliance_moves()
    mirrors = 1 + season.n_talks

    def flush(before: int) -> None:
        while season.pending and season.pending[0].day < before:
            item = heapq.heappop(season.pending)
            moves.append(item.move)
            move_events.append(item.events)

    a = 0
    for day, _, index, last_of_day in season.schedule():
        while a < len(alliance) and alliance[a][0] <= day:
            when, move = alliance[a]
            is_membership = move["type"].endswith("alliance")
            season.emit(when, move, mirrors if is_membership else 1)
            a += 1
        flush(day)
        season.moves.next_move(season.talks[index], day, last_of_day)
    for when, move in alliance[a:]:
        season.emit(when, move, mirrors if move["type"].endswith("alliance") else 1)
    flush(1 << 30)
    return Ledger(header, moves, move_events, fixed)
