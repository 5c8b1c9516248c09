"""Seat-level talks in the synthetic season: constituency lists, named shares and one pact.

Every fifth talks lists its constituencies at opening; half the shares of its splits name
one to three of them. While it bargains, a meeting may instead be a pact (a
`partial_agreement` of its core two that settles the second one's share, naming its seats),
once: later splits give that party exactly its settled share, and the pact closes the open
offers that disagree with it, as the rules do (`ledger/domain/seats.py:agrees`). Seat-level
choices draw from their own random numbers, so the rest of the season is the same.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

SEAT_TALKS_EVERY = 5  # talks 0, 5, 10, ... list their constituencies
NAMED_SHARE_RATE = 0.5
PACT_RATE = 0.08  # of a seat-level talks' meetings while it bargains, until it has a pact
Share = Any  # as a timeline file writes it: 3, ["A", "B"] or {"seats": 3, "named": ["A"]}


@dataclass
class Seating:
    """A seat-level talks as the generator models it."""

    names: list[str]
    settled: tuple[str, Share] | None = None  # (party, share) until the agreement
    pacted: bool = False


def seating_for(index: int, slug: str, seats: int) -> Seating | None:
    """The seating of the index-th talks: every fifth lists all its constituencies."""
    if index % SEAT_TALKS_EVERY:
        return None
    return Seating([f"{slug[:4]} seat {j + 1}" for j in range(seats)])


def count(share: Share) -> int:
    """The seats of a share, however it is written."""
    if isinstance(share, int):
        return share
    return len(share) if isinstance(share, list) else int(share["seats"])


def names(share: Share) -> list[str]:
    """The constituencies a share names."""
    if isinstance(share, int):
        return []
    return list(share) if isinstance(share, list) else list(share["named"])


def written(seats: int, named: list[str]) -> Share:
    """A share in the file's words: a count, a list (all named) or a count with names."""
    if not named:
        return seats
    return list(named) if len(named) == seats else {"seats": seats, "named": list(named)}


class SeatMoves:
    """Named shares, pacts and the offers a pact closes, with their own random numbers."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed * 7919 + 11)

    def name_shares(self, seating: Seating, counts: dict[str, int]) -> dict[str, Share]:
        """`counts` written with named seats; a settled party gets its settled share."""
        rng = self.rng
        settled_party, settled_share = seating.settled or (None, None)
        taken = set(names(settled_share)) if settled_share is not None else set()
        free = [n for n in seating.names if n not in taken]
        rng.shuffle(free)
        split: dict[str, Share] = {}
        for party, seats in counts.items():
            if party == settled_party:
                split[party] = settled_share
                continue
            k = rng.randint(1, min(seats, 3)) if seats and rng.random() < NAMED_SHARE_RATE else 0
            picked, free = free[:k], free[k:]
            split[party] = written(seats, picked)
        return split

    def wants_pact(self, seating: Seating | None, status: str) -> bool:
        """Whether this meeting of bargaining talks is instead their one pact."""
        if seating is None or seating.pacted or status not in ("opened", "negotiating"):
            return False
        return self.rng.random() < PACT_RATE

    def pact(self, seating: Seating, party: str, pool: int) -> Share:
        """The share a pact settles for `party` (a few seats, some or all named)."""
        seats = self.rng.randint(1, max(1, min(5, pool // 4)))
        share = written(seats, seating.names[-self.rng.randint(1, seats) :])
        seating.settled, seating.pacted = (party, share), True
        return share


def agrees(split: dict[str, Share], seating: Seating) -> bool:
    """True if an offer's split keeps the settled share and no settled seat goes elsewhere."""
    if seating.settled is None:
        return True
    party, share = seating.settled
    if party in split:
        given = split[party]
        if count(given) != count(share) or any(n not in names(given) for n in names(share)):
            return False
    settled_names = set(names(share))
    return not any(
        settled_names.intersection(names(s)) for p, s in split.items() if p != party
    )
