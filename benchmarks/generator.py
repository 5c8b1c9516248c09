"""A deterministic synthetic ledger: many talks, every move type, late facts and corrections.

`generate(events=100_000, seed=7)` simulates an election season of seat-sharing talks and
returns timeline files (`seatledger/timeline@1`, JSON) whose import records about `events`
events. A small model of the rules keeps every move valid, so the import never refuses one;
the real rules decide at import time, and a refused move is a bug in this model.

The ledger is written in report order: each move where it would be reported. Late facts (a
note or meeting dated up to a month back) and corrections (of a split, a note or a source,
or a retraction) stand where they were reported, after moves dated later. Cut into several
files, a later file then holds facts dated before moves an earlier file recorded.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

FORMAT = "seatledger/timeline@1"
START = date(2023, 1, 1)
SPAN_DAYS = 730
OPENING_DAYS = 30
ALLIANCE = "bench-bloc"
IST = "+05:30"

PARTY_COUNT = 60
OUTSIDERS = 12  # parties outside the alliance; some join it (and leave) during the season

# Move mix while talks are open, as weights (before an agreement).
BARGAINING = {
    "proposal": 18,
    "counter_offer": 14,
    "acceptance": 6,
    "rejection": 8,
    "withdrawal": 4,
    "meeting": 14,
    "note": 14,
    "party_joined": 3,
    "party_withdrew": 3,
}
AFTER_AGREEMENT = {
    "amendment": 20,
    "meeting": 30,
    "note": 40,
    "party_joined": 5,
    "party_withdrew": 5,
}
LATE_FACT_RATE = 0.02
CORRECTION_RATE = 0.015
WITHOUT_ID_RATE = 0.3  # notes and meetings often come without an id
IMPLICIT_TARGET_RATE = 0.3  # answers that leave `of` / `in_reply_to` to the default
REPORTED_RATE = 0.2
TIMED_RATE = 0.1  # moves given as an ISO instant with an offset instead of a date

SOURCES = (
    "https://www.thehindu.com/news/national/article{}.ece",
    "https://indianexpress.com/article/political-pulse/seat-sharing-{}/",
    "https://www.hindustantimes.com/india-news/talks-{}.html",
    "https://timesofindia.indiatimes.com/india/alliance-{}.cms",
)
NOTES = (
    "Leaders met late into the night; both sides called the talks cordial.",
    "Reported by two newspapers quoting unnamed party functionaries.",
    "The state unit wants more seats than the central leadership offered.",
    "Talks adjourned after a disagreement over two urban constituencies.",
    "A party spokesperson denied any rift and said a deal was close.",
    "The smaller partner threatened to contest alone if its demand was not met.",
)
VENUES = ("Party headquarters", "Chief minister's residence", "Online", "State guest house")


def party_codes() -> tuple[list[str], list[str]]:
    """The alliance's member codes and the outsiders' codes."""
    members = [f"P{i:02d}" for i in range(1, PARTY_COUNT + 1)]
    outsiders = [f"X{i:02d}" for i in range(1, OUTSIDERS + 1)]
    return members, outsiders


@dataclass
class Offer:
    move_id: str
    maker: str


@dataclass
class Talks:
    """The generator's model of one negotiation, enough to keep every move valid."""

    slug: str
    seats: int
    core: list[str]  # never leave the table: meetings dated in the past stay valid
    at_table: list[str]
    outside: list[str]
    opened: int  # day number
    budget: int
    agree_at: int | None
    end_at: int | None
    status: str = "opened"
    offers: list[Offer] = field(default_factory=list)
    made: int = 0
    seq: int = 0


@dataclass(order=True)
class _Pending:
    day: int
    order: int
    move: dict[str, Any] = field(compare=False)
    events: int = field(compare=False, default=1)


@dataclass
class Ledger:
    """A generated ledger: the file header and its moves in report order."""

    header: dict[str, Any]
    moves: list[dict[str, Any]]
    move_events: list[int]  # events each move records (alliance membership: one per talks)
    fixed_events: int  # the roster, the alliance, each opening and its registration

    @property
    def events(self) -> int:
        """The number of events importing the whole ledger records."""
        return self.fixed_events + sum(self.move_events)

    def files(self, chunk_events: int | None, cut: str = "time") -> list[dict[str, Any]]:
        """The ledger as timeline documents of about `chunk_events` events each (None: one).

        cut="time": consecutive stretches of the season, each file naming every talks (a
        news feed: each file extends every negotiation, and holds late facts of earlier
        files). cut="talks": each file the whole season of a group of talks (a file per
        region); alliance-level moves go with the first group.
        """
        parts = 1 if chunk_events is None else max(1, round(self.events / chunk_events))
        if parts == 1:
            return [{**self.header, "moves": self.moves}]
        if cut == "talks":
            return self._by_talks(parts)
        share = self.events / parts
        documents, start, size = [], 0, self.fixed_events
        for index, count in enumerate(self.move_events):
            size += count
            if size >= share and len(documents) < parts - 1:
                documents.append({**self.header, "moves": self.moves[start : index + 1]})
                start, size = index + 1, 0
        if start < len(self.moves):
            documents.append({**self.header, "moves": self.moves[start:]})
        return documents

    def _by_talks(self, parts: int) -> list[dict[str, Any]]:
        talks = [n["id"] for n in self.header["negotiations"]]
        weight = dict.fromkeys(talks, 2)  # its opening and its registration
        for move, count in zip(self.moves, self.move_events, strict=True):
            if move.get("negotiation") in weight:
                weight[move["negotiation"]] += count
        share = sum(weight.values()) / parts
        groups: list[list[str]] = [[]]
        size = 0
        for slug in talks:
            if size >= share and len(groups) < parts:
                groups.append([])
                size = 0
            groups[-1].append(slug)
            size += weight[slug]
        documents = []
        for number, group in enumerate(groups):
            members = set(group)
            moves = [
                m
                for m in self.moves
                if m.get("negotiation") in members or (number == 0 and not m.get("negotiation"))
            ]
            negotiations = [n for n in self.header["negotiations"] if n["id"] in members]
            documents.append({**self.header, "negotiations": negotiations, "moves": moves})
        return documents


class _Season:
    def __init__(self, events: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.members, self.outsiders = party_codes()
        self.n_talks = min(500, max(4, events // 40))
        self.pending: list[_Pending] = []
        self.order = 0
        self.corrected: set[str] = set()
        self.target = events

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
                    "opened_on": self.day(talks.opened),
                    "source": SOURCES[i % len(SOURCES)].format(f"open-{i}"),
                }
            )
        return {
            "format": FORMAT,
            "alliance": {
                "id": ALLIANCE,
                "name": "Benchmark bloc",
                "members": self.members,
                "formed_on": self.day(-30),
            },
            "parties": parties,
            "negotiations": negotiations,
        }

    def day(self, number: int) -> str:
        return (START + timedelta(days=number)).isoformat()

    def instant(self, number: int) -> str:
        # Same UTC day, after every bare date of that day: 06:00-17:59 UTC as IST.
        hour, minute = self.rng.randrange(6, 18), self.rng.randrange(60)
        moment = datetime.combine(START + timedelta(days=number), datetime.min.time(), UTC)
        local = moment + timedelta(hours=hour + 5, minutes=minute + 30)
        return local.strftime("%Y-%m-%dT%H:%M:00") + IST

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
                        "on": self.day(joined),
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
                            "on": self.day(left),
                            "party": party,
                            "note": f"{party} quits the bloc over seat sharing",
                        },
                    )
                )
        for i in range(max(2, self.n_talks // 50)):
            when = rng.randrange(SPAN_DAYS)
            if i % 2:
                move = {"type": "note", "on": self.day(when), "note": rng.choice(NOTES)}
            else:
                parties = rng.sample(self.members, 5)
                move = {"type": "meeting", "on": self.day(when), "parties": parties}
            moves.append((when, move))
        return sorted(moves, key=lambda item: item[0])

    def emit(self, day: int, move: dict[str, Any], events: int = 1) -> None:
        self.order += 1
        heapq.heappush(self.pending, _Pending(day, self.order, move, events))

    def common(
        self, talks: Talks, day: int, kind: str, with_id: bool, timed: bool
    ) -> dict[str, Any]:
        rng = self.rng
        talks.seq += 1
        move: dict[str, Any] = {}
        if with_id:
            move["id"] = f"{talks.slug[:4]}-{talks.seq:05d}"
        move["negotiation"] = talks.slug
        move["type"] = kind
        move["on"] = self.instant(day) if timed else self.day(day)
        if rng.random() < 0.85:
            move["source"] = rng.choice(SOURCES).format(f"{talks.slug[:4]}-{talks.seq}")
        if rng.random() < REPORTED_RATE:
            move["confidence"] = "reported"
        return move

    def split(self, talks: Talks, parties: list[str]) -> dict[str, int]:
        rng = self.rng
        remaining = rng.randint(talks.seats // 2, talks.seats)
        split = {}
        for i, party in enumerate(parties):
            share = remaining if i == len(parties) - 1 else rng.randint(0, remaining)
            split[party] = share
            remaining -= share
        return split

    def next_move(self, talks: Talks, day: int, last_of_day: bool) -> None:
        """One valid move of these talks on this day (the model follows the rules)."""
        rng = self.rng
        talks.made += 1
        if talks.status == "no_deal":
            kind = "note"
        elif talks.agree_at is not None and talks.made == talks.agree_at:
            kind = "agreement"
        elif talks.end_at is not None and talks.made == talks.end_at and talks.status != "agreed":
            kind = "talks_ended"
        else:
            mix = AFTER_AGREEMENT if talks.status == "agreed" else BARGAINING
            kind = rng.choices(list(mix), weights=list(mix.values()))[0]
            kind = self.feasible(talks, kind)
        without_id = kind in ("note", "meeting") and rng.random() < WITHOUT_ID_RATE
        # Only the day's last move may carry a time: a later bare date would sort before it.
        timed = last_of_day and rng.random() < TIMED_RATE
        move = self.common(talks, day, kind, with_id=not without_id, timed=timed)
        getattr(self, f"_{kind}")(talks, move)
        self.emit(day, move)
        if "id" in move:
            self.maybe_correct(talks, day, move)
        if rng.random() < LATE_FACT_RATE:
            self.late_fact(talks, day)

    def feasible(self, talks: Talks, kind: str) -> str:
        # Offers are made by parties at the table, and the core two never leave it.
        if kind in ("counter_offer", "acceptance", "rejection") and not talks.offers:
            return "proposal"
        if kind == "withdrawal" and not talks.offers:
            return "proposal"
        if kind == "party_joined" and not talks.outside:
            return "meeting"
        if kind == "party_withdrew" and len(talks.at_table) <= len(talks.core):
            return "note"
        return kind

    def _pick_answer(self, talks: Talks) -> tuple[str, Offer, bool]:
        """Who answers, which open offer of another party, and whether the move names it."""
        rng = self.rng
        makers = {o.maker for o in talks.offers}
        by = rng.choice([p for p in talks.at_table if makers - {p}])
        others = [o for o in talks.offers if o.maker != by]
        if rng.random() < IMPLICIT_TARGET_RATE:
            return by, others[-1], False  # the default: the latest open offer of another
        return by, rng.choice(others), True

    def _proposal(self, talks: Talks, move: dict[str, Any]) -> None:
        by = self.rng.choice(talks.at_table)
        named = self.rng.sample(talks.at_table, self.rng.randint(1, len(talks.at_table)))
        move["by"], move["split"] = by, self.split(talks, named)
        talks.offers = [o for o in talks.offers if o.maker != by]
        talks.offers.append(Offer(move["id"], by))
        talks.status = "negotiating"

    def _counter_offer(self, talks: Talks, move: dict[str, Any]) -> None:
        by, offer, named = self._pick_answer(talks)
        move["by"], move["split"] = by, self.split(talks, list(talks.at_table))
        if named:
            move["in_reply_to"] = offer.move_id
        talks.offers = [o for o in talks.offers if o.maker != by and o is not offer]
        talks.offers.append(Offer(move["id"], by))

    def _answer(self, talks: Talks, move: dict[str, Any], closes: bool) -> None:
        by, offer, named = self._pick_answer(talks)
        move["by"] = by
        if named:
            move["of"] = offer.move_id
        if closes:
            talks.offers.remove(offer)

    def _acceptance(self, talks: Talks, move: dict[str, Any]) -> None:
        self._answer(talks, move, closes=False)

    def _rejection(self, talks: Talks, move: dict[str, Any]) -> None:
        self._answer(talks, move, closes=True)

    def _withdrawal(self, talks: Talks, move: dict[str, Any]) -> None:
        offer = self.rng.choice(talks.offers)
        move["by"] = offer.maker
        if self.rng.random() < IMPLICIT_TARGET_RATE:
            offer = [o for o in talks.offers if o.maker == offer.maker][-1]  # the default
        else:
            move["of"] = offer.move_id
        talks.offers.remove(offer)

    def _meeting(self, talks: Talks, move: dict[str, Any]) -> None:
        move["parties"] = self.rng.sample(talks.at_table, min(len(talks.at_table), 3))
        if self.rng.random() < 0.5:
            move["venue"] = self.rng.choice(VENUES)

    def _note(self, talks: Talks, move: dict[str, Any]) -> None:
        move["note"] = self.rng.choice(NOTES)
        if talks.status != "no_deal" and self.rng.random() < 0.5:
            move["by"] = self.rng.choice(talks.at_table)

    def _party_joined(self, talks: Talks, move: dict[str, Any]) -> None:
        party = talks.outside.pop(self.rng.randrange(len(talks.outside)))
        move["party"] = party
        talks.at_table.append(party)

    def _party_withdrew(self, talks: Talks, move: dict[str, Any]) -> None:
        party = self.rng.choice([p for p in talks.at_table if p not in talks.core])
        move["party"] = party
        talks.at_table.remove(party)
        talks.outside.append(party)
        talks.offers = [o for o in talks.offers if o.maker != party]

    def _agreement(self, talks: Talks, move: dict[str, Any]) -> None:
        move["split"] = self.split(talks, list(talks.at_table))
        if self.rng.random() < 0.5:
            move["signatories"] = sorted(talks.at_table)
        talks.status, talks.offers = "agreed", []

    def _amendment(self, talks: Talks, move: dict[str, Any]) -> None:
        move["split"] = self.split(talks, list(talks.at_table))

    def _talks_ended(self, talks: Talks, move: dict[str, Any]) -> None:
        move["note"] = f"{talks.core[0]} announced it would contest every seat alone"
        talks.status, talks.offers = "no_deal", []

    def late_fact(self, talks: Talks, day: int) -> None:
        """A note or meeting dated up to a month back, reported today."""
        rng = self.rng
        dated = max(talks.opened, day - rng.randint(1, 30))
        talks.seq += 1
        move: dict[str, Any] = {
            "id": f"{talks.slug[:4]}-{talks.seq:05d}-late",
            "negotiation": talks.slug,
            "on": self.day(dated),
        }
        if talks.status == "no_deal" or rng.random() < 0.5:
            move |= {"type": "note", "note": "Reported only now: " + rng.choice(NOTES)}
        else:
            move |= {"type": "meeting", "parties": list(talks.core), "note": "Reported late"}
        move["source"] = rng.choice(SOURCES).format(f"late-{talks.slug[:4]}-{talks.seq}")
        self.emit(day, move)

    def maybe_correct(self, talks: Talks, day: int, target: dict[str, Any]) -> None:
        """Sometimes, a few days on, a correction of this move."""
        rng = self.rng
        if rng.random() >= CORRECTION_RATE * 1.4:
            return
        kind = target["type"]
        correction: dict[str, Any] = {
            "type": "correction",
            "of": target["id"],
            "negotiation": talks.slug,
        }
        if kind in ("proposal", "counter_offer"):
            # Same parties, other numbers: every later move stays valid.
            split = dict(target["split"])
            party = rng.choice(list(split))
            split[party] = max(0, split[party] - rng.randint(1, 3))
            correction |= {"split": split, "reason": "the report had the numbers wrong"}
        elif kind in ("note", "meeting"):
            if rng.random() < 0.5:
                correction |= {"retract": True, "reason": "the report was denied"}
            else:
                correction |= {"note": "Corrected: " + rng.choice(NOTES)}
        else:
            correction |= {
                "source": rng.choice(SOURCES).format("correction"),
                "reason": "better source",
            }
        talks.seq += 1
        correction["id"] = f"{talks.slug[:4]}-{talks.seq:05d}-fix"
        self.emit(day + rng.randint(1, 20), correction)


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
        season.next_move(season.talks[index], day, last_of_day)
    for when, move in alliance[a:]:
        season.emit(when, move, mirrors if move["type"].endswith("alliance") else 1)
    flush(1 << 30)
    return Ledger(header, moves, move_events, fixed)


def write(ledger: Ledger, folder: Path, chunk_events: int | None, cut: str = "time") -> list[Path]:
    """Write the ledger as JSON timeline files; return their paths in import order."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number, document in enumerate(ledger.files(chunk_events, cut), start=1):
        path = folder / f"timeline-{number:03d}.json"
        path.write_bytes(orjson.dumps(document))
        paths.append(path)
    return paths
