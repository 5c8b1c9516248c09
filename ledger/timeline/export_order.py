"""The order an export lists its moves in when it says `order: recorded`.

Such a file is imported one aggregate at a time, each alliance's and each talk's moves and
corrections in the file's order, an alliance's membership moves (and their corrections)
copied into each of its talks at the alliance move's place in the file. So the file's order
must agree with the order in which every aggregate took its own moves and its copies. The
log's order does for a ledger recorded move by move; after an import it need not (an import
writes each alliance's events before its talks', though a talk may have taken a copy after
some of its own moves). So the order is merged from every aggregate's own sequence, ties
going to the log's order; `None` when no order agrees with all of them.
"""

from __future__ import annotations

import heapq
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

Node = int  # an item's place in the log's order


@dataclass
class _Talks:
    alliance: str | None
    opened_at: Node  # items before this place were recorded before the talks opened
    first_own: Node | None = None
    last_own: Node | None = None
    copies: list[Node] = field(default_factory=list)  # since its latest own item
    referenced: set[Node] = field(default_factory=set)


@dataclass
class RecordingOrder:
    """Each aggregate's sequence, fed in the log's order, and the merge of them all."""

    _after: defaultdict[Node, set[Node]] = field(default_factory=lambda: defaultdict(set))
    _talks: dict[str, _Talks] = field(default_factory=dict)
    _last_of_alliance: dict[str, Node] = field(default_factory=dict)
    _membership: defaultdict[str, list[Node]] = field(default_factory=lambda: defaultdict(list))

    def opened(self, talks: str, alliance: str | None, at: Node) -> None:
        """Talks opened when `at` items were in the log."""
        self._talks[talks] = _Talks(alliance, at)

    def alliance_item(self, alliance: str, node: Node, membership: bool) -> None:
        """An alliance's own move or correction (`membership`: one its talks copy)."""
        last = self._last_of_alliance.get(alliance)
        if last is not None:
            self._after[last].add(node)
        self._last_of_alliance[alliance] = node
        if membership:
            self._membership[alliance].append(node)

    def talks_item(self, talks: str, node: Node) -> None:
        """A talk's own move or correction: after its earlier ones and the copies before it."""
        state = self._talks[talks]
        for earlier in (state.last_own, *state.copies):
            if earlier is not None:
                self._after[earlier].add(node)
        state.copies.clear()
        if state.first_own is None:
            state.first_own = node
        state.last_own = node

    def copy(self, talks: str, node: Node) -> None:
        """A talk took its copy of the alliance's item `node`: after its own items so far."""
        state = self._talks[talks]
        if state.last_own is not None:
            self._after[state.last_own].add(node)
        state.copies.append(node)
        state.referenced.add(node)

    def order(self, nodes: Iterable[Node]) -> list[Node] | None:
        """The nodes in an order every aggregate agrees with, else None."""
        self._before_first_moves()
        kept = set(nodes)
        waiting: Counter[Node] = Counter()
        for node in kept:
            for later in self._after.get(node, ()):
                if later in kept:
                    waiting[later] += 1
        ready = [node for node in kept if not waiting[node]]
        heapq.heapify(ready)
        merged: list[Node] = []
        while ready:
            node = heapq.heappop(ready)
            merged.append(node)
            for later in self._after.get(node, ()):
                if later in kept:
                    waiting[later] -= 1
                    if not waiting[later]:
                        heapq.heappush(ready, later)
        return merged if len(merged) == len(kept) else None

    def _before_first_moves(self) -> None:
        """An alliance's membership items that talks opened after, and hold no copy of (one
        retracted, or corrected, before they opened: the talks took the story as it then
        stood), come before the talks' own moves: an import copies them in at their place, or
        opens the talks after them when a copy's first form breaks the talks."""
        for state in self._talks.values():
            if state.alliance is None or state.first_own is None:
                continue
            for node in self._membership.get(state.alliance, ()):
                if node < state.opened_at and node not in state.referenced:
                    self._after[node].add(state.first_own)
