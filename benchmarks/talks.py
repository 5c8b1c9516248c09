"""The moves of one talks: a small model of the rules that keeps every generated move valid.

`TalksMoves.next_move` makes the next move of one negotiation on a given day, from the move
mix of where the talks stand (bargaining, or after an agreement), and now and then a late
fact (a note or meeting dated up to a month back) or, a few days on, a correction. Each
move goes to the season's `emit`, which lists it where it would be reported. The real rules
decide at import time: a refused move is a bug in this model.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from benchmarks import cast
from benchmarks.cast import NOTES, SOURCES, VENUES

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


class TalksMoves:
    """Makes talks' moves with the season's random numbers; hands each to `emit(day, move)`."""

    def __init__(self, rng: random.Random, emit: Callable[[int, dict[str, Any]], None]) -> None:
        self.rng = rng
        self.emit = emit

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
        move["on"] = cast.instant(rng, day) if timed else cast.day(day)
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
            "on": cast.day(dated),
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
