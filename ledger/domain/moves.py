"""The fold's input: one move, already resolved, as the rules function sees it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from ledger.domain.frozen import quick_init
from ledger.domain.values import Split, ValidTime, valid_instant

Named = dict[str, tuple[str, ...]]
"""Named seats party by party, as a move gives them (the counts are in its split)."""

# Move kinds are the timeline format's `type` names, plus the negotiation's opening
# and the two alliance-membership effects mirrored into each negotiation.
OPENED: Final = "opened"
MEETING: Final = "meeting"
PROPOSAL: Final = "proposal"
COUNTER_OFFER: Final = "counter_offer"
ACCEPTANCE: Final = "acceptance"
REJECTION: Final = "rejection"
WITHDRAWAL: Final = "withdrawal"
PARTY_JOINED: Final = "party_joined"
PARTY_WITHDREW: Final = "party_withdrew"
AGREEMENT: Final = "agreement"
AMENDMENT: Final = "amendment"
TALKS_ENDED: Final = "talks_ended"
NOTE: Final = "note"
CORRECTION: Final = "correction"
PARTY_JOINED_ALLIANCE: Final = "party_joined_alliance"
PARTY_LEFT_ALLIANCE: Final = "party_left_alliance"
PARTIAL_AGREEMENT: Final = "partial_agreement"
CONSTITUENCIES_ADDED: Final = "constituencies_added"

ANSWERS: Final = frozenset({COUNTER_OFFER, ACCEPTANCE, REJECTION, WITHDRAWAL})
WITH_SPLIT: Final = frozenset({PROPOSAL, COUNTER_OFFER, AGREEMENT, AMENDMENT, PARTIAL_AGREEMENT})
WITH_BY: Final = frozenset({PROPOSAL, COUNTER_OFFER, ACCEPTANCE, REJECTION, WITHDRAWAL, NOTE})
ALLIANCE_MEMBERSHIP: Final = frozenset({PARTY_JOINED_ALLIANCE, PARTY_LEFT_ALLIANCE})


@quick_init
@dataclass(frozen=True, slots=True)
class Move:
    """One move of a negotiation (or an alliance) with every default resolved."""

    move_id: str
    kind: str
    on: ValidTime
    seq: int
    by: str | None = None
    split: Split | None = None
    target: str | None = None
    parties: tuple[str, ...] = ()
    party: str | None = None
    venue: str | None = None
    source: str | None = None
    note: str | None = None
    confidence: str = "confirmed"
    recorded_at: datetime | None = None
    recorded_by: str | None = None
    # Only for OPENED:
    title: str | None = None
    region: str | None = None
    seats: int | None = None
    alliance: str | None = None
    election: str | None = None
    # Seat level (timeline@2): the named seats of `split`; the constituencies listed
    # (OPENED, CONSTITUENCIES_ADDED).
    named: Named | None = None
    names: tuple[str, ...] = ()

    def resolved(self, target: str | None, parties: tuple[str, ...]) -> Move:
        """This move with its answered offer and its parties filled in.

        As `dataclasses.replace(self, target=..., parties=...)`, at a third of the cost
        (the fold resolves every answer and agreement that left its target out).
        """
        return Move(
            self.move_id,
            self.kind,
            self.on,
            self.seq,
            self.by,
            self.split,
            target,
            parties,
            self.party,
            self.venue,
            self.source,
            self.note,
            self.confidence,
            self.recorded_at,
            self.recorded_by,
            self.title,
            self.region,
            self.seats,
            self.alliance,
            self.election,
            self.named,
            self.names,
        )

    @property
    def key(self) -> tuple[datetime, int]:
        """Valid-time order: the date it happened, then recording order."""
        return (valid_instant(self.on), self.seq)
