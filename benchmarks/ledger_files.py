"""A generated ledger, and the timeline files it is cut into and written as.

`Ledger` holds the file header and the moves in report order, with the events each move
records; `Ledger.files` cuts it into documents of about N events (stretches of time, or
groups of talks), and `write` writes them as JSON timeline files in import order.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson


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
        documents: list[dict[str, Any]] = []
        start, size = 0, self.fixed_events
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


def write(ledger: Ledger, folder: Path, chunk_events: int | None, cut: str = "time") -> list[Path]:
    """Write the ledger as JSON timeline files; return their paths in import order."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number, document in enumerate(ledger.files(chunk_events, cut), start=1):
        path = folder / f"timeline-{number:03d}.json"
        path.write_bytes(orjson.dumps(document))
        paths.append(path)
    return paths
