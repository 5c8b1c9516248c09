"""What verify found: each problem names its event; the report sums them up."""

from __future__ import annotations

from dataclasses import dataclass, field

from ledger.integrity_digest import Digest

HASH_MISMATCH = "hash-mismatch"
MISSING_VERSIONS = "missing-versions"
BAD_VERSION = "bad-version"
NOTIFICATION_ORDER = "notification-order"
MOVE_INDEX = "move-index"
DIGEST = "digest"


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
        name = ", ".join(parts) or "digest"
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
        return f"ok: {counted} verified, every hash chain holds{covered}"


def _one_line(text: str) -> str:
    return " ".join(text.split())
