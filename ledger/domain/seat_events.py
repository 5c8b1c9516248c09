"""The events of seat-level negotiations (timeline@2): a partial agreement, a longer list.

Stored topics are this module's path plus the class name, as for `events`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ledger.domain import moves as k
from ledger.domain.events import MoveEvent, named_move_field
from ledger.domain.values import Constituency, NamedSeats, PartyCode, Split


class PartialAgreementReached(MoveEvent):
    """Some parties at the table settled their shares, a piece of the deal."""

    kind: ClassVar[str] = k.PARTIAL_AGREEMENT
    split: Split
    signatories: list[PartyCode]
    named: NamedSeats = {}

    def _move_fields(self) -> dict[str, Any]:
        return {
            "split": self.split,
            "parties": tuple(self.signatories),
            "named": named_move_field(self.named),
        }


class ConstituenciesAdded(MoveEvent):
    """More constituencies of the pool were listed."""

    kind: ClassVar[str] = k.CONSTITUENCIES_ADDED
    names: list[Constituency]

    def _move_fields(self) -> dict[str, Any]:
        return {"names": tuple(self.names)}
