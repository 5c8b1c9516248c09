"""The offer lineage of a negotiation: which proposal each counter-offer and answer replied to.

The history views do not keep the link, but every counter-offer, acceptance, rejection and
withdrawal stores it (`in_reply_to` / `of`, resolved when it was recorded), so it is read
off the negotiation's own events: a plain select, which the reader role may run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from ledger.application import NegotiationLedger
from ledger.domain.events import (
    CounterOfferMade,
    ProposalAccepted,
    ProposalRejected,
    ProposalWithdrawn,
)
from ledger.domain.negotiation import negotiation_id
from ledger.persistence.recorders import SqlAggregateRecorder
from projections.answers import JsonDict, MoveView

OFFERS = ("proposal", "counter_offer")
ANSWERS = ("counter_offer", "acceptance", "rejection", "withdrawal")
_REPLIES = (CounterOfferMade, ProposalAccepted, ProposalRejected, ProposalWithdrawn)


@dataclass(frozen=True)
class LineageStep:
    """One offer or answer, and the offer it answered (None: it answered nothing)."""

    id: str
    type: str
    by: str | None
    on: str
    answers: str | None

    def to_json(self) -> JsonDict:
        """The step as a JSON object."""
        return {"id": self.id, "type": self.type, "by": self.by, "on": self.on,
                "answers": self.answers}  # fmt: skip


def replies(
    app: NegotiationLedger, slug: str, move_ids: Iterable[str] | None = None
) -> dict[str, str]:
    """Move id -> the move it answered, for every reply stored in the negotiation's events
    (or among `move_ids` only: their events are found by the move index, not by a scan)."""
    aggregate = negotiation_id(slug)
    if move_ids is None:
        stored = app.recorder.select_events(aggregate)
    else:
        recorder = cast(SqlAggregateRecorder, app.recorder)
        found = recorder.find_moves(list(move_ids))
        wanted = {v for owner, v in found.values() if owner == aggregate}
        versions = sorted(wanted)
        stored = [
            event
            for first, last in _runs(versions)
            for event in recorder.select_events(aggregate, gt=first - 1, lte=last)
            if event.originator_version in wanted
        ]
    answered: dict[str, str] = {}
    for each in stored:
        event: Any = app.mapper.to_domain_event(each)
        if isinstance(event, _REPLIES):
            target = event.in_reply_to if isinstance(event, CounterOfferMade) else event.of
            if target is not None:
                answered[str(event.move_id)] = str(target)
    return answered


def _runs(versions: list[int], gap: int = 8) -> list[tuple[int, int]]:
    """Sorted versions as (first, last) ranges, near ones together: a few reads, not one each."""
    runs: list[tuple[int, int]] = []
    for version in versions:
        if runs and version - runs[-1][1] <= gap:
            runs[-1] = (runs[-1][0], version)
        else:
            runs.append((version, version))
    return runs


def lineage(history: Iterable[MoveView], answered: Mapping[str, str]) -> list[LineageStep]:
    """The offers and answers among `history` (as of D, known on K), in date order.

    A link is kept only when the offer it names is shown too, so a view as known on K never
    points at a move recorded after K.
    """
    moves = [m for m in history if m.corrects is None and m.type in (*OFFERS, *ANSWERS)]
    shown = {m.id for m in moves}
    steps = []
    for move in moves:
        target = answered.get(move.id)
        steps.append(
            LineageStep(
                id=move.id,
                type=move.type,
                by=move.by,
                on=move.on.isoformat(),
                answers=target if target in shown else None,
            )
        )
    return steps
