"""What verify found: each problem names its event; the report sums them up."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from ledger.integrity.digest import Digest

HASH_MISMATCH = "hash-mismatch"
MISSING_VERSIONS = "missing-versions"
BAD_VERSION = "bad-version"
NOTIFICATION_ORDER = "notification-order"
MOVE_INDEX = "move-index"
DIGEST = "digest"
VIEW_SPLITS = "view-splits"
VIEW_MOVES = "view-moves"
VIEW_POSITION = "view-position"
SNAPSHOT = "snapshot"
REPORT = "report"
UNREADABLE = "unreadable"  # a stored row no event class decodes (written outside seatledger)

CLASSES = {
    HASH_MISMATCH: "chain",
    MISSING_VERSIONS: "chain",
    BAD_VERSION: "chain",
    NOTIFICATION_ORDER: "chain",
    UNREADABLE: "chain",
    MOVE_INDEX: "move_index",
    DIGEST: "digest",
    VIEW_SPLITS: "views",
    VIEW_MOVES: "views",
    VIEW_POSITION: "views",
    SNAPSHOT: "snapshots",
    REPORT: "report",
}
"""Each kind of problem's class: `verify --format json` reports each class separately."""


@dataclass(frozen=True)
class Problem:
    """One thing verify found wrong, naming the event (or digest head) it is about."""

    kind: str
    detail: str
    aggregate_id: str | None = None
    version: int | None = None
    notification_id: int | None = None
    move_id: str | None = None
    slug: str | None = None
    aggregate_type: str | None = None

    def describe(self) -> str:
        """Return the problem in one line: which event, then what is wrong."""
        parts = []
        if self.slug is not None:
            parts.append(f"{self.aggregate_type or 'aggregate'} {self.slug}")
        if self.version is not None:
            parts.append(f"event v{self.version}")
        elif self.aggregate_id is not None and not parts:
            parts.append("aggregate")
        facts = []
        if self.aggregate_id is not None:
            facts.append(f"aggregate {self.aggregate_id}")
        if self.notification_id is not None:
            facts.append(f"notification {self.notification_id}")
        if self.move_id is not None:
            facts.append(f"move {self.move_id}")
        name = ", ".join(parts) or _NAMES.get(self.kind, "digest")
        if facts:
            name += f" ({', '.join(facts)})"
        return _one_line(f"{name}: {self.detail}")


@dataclass(frozen=True)
class VerifyReport:
    """What verify checked and every problem it found; ok when there are none."""

    ok: bool
    events_checked: int
    aggregates: int
    problems: list[Problem] = field(default_factory=list)
    digest: Digest | None = None
    derived_checked: bool = False

    def summary(self) -> str:
        """Return the outcome in one line."""
        counted = f"{self.events_checked} events in {self.aggregates} aggregates"
        if not self.ok:
            return f"FAILED: {len(self.problems)} problem(s) found in {counted}"
        covered = ""
        if self.digest is not None:
            covered = (
                f"; everything digest {self.digest.root[:16]} covered "
                f"(to notification {self.digest.position}) is still there"
            )
        derived = (
            "; the views, snapshots and move index are what the log implies"
            if self.derived_checked
            else ""
        )
        return f"ok: {counted} verified, every hash chain holds{derived}{covered}"

    def with_problems(self, more: list[Problem]) -> VerifyReport:
        """The same report with more problems (a report file's differences)."""
        if not more:
            return self
        return replace(self, ok=False, problems=[*self.problems, *more])

    def by_class(self) -> dict[str, list[Problem]]:
        """The problems of each class (chain, move_index, digest, views, snapshots)."""
        found: dict[str, list[Problem]] = {name: [] for name in dict.fromkeys(CLASSES.values())}
        for problem in self.problems:
            found[CLASSES.get(problem.kind, problem.kind)].append(problem)
        return found


_NAMES = {
    VIEW_SPLITS: "split history view",
    VIEW_MOVES: "move history view",
    VIEW_POSITION: "views",
    SNAPSHOT: "snapshot",
    REPORT: "report",
}


def _one_line(text: str) -> str:
    return " ".join(text.split())
