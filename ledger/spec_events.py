"""From a move as users write it (timeline spec or command line) to the event that records it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ledger.domain import moves as k
from ledger.domain.alliance import PartyJoinedAlliance, PartyLeftAlliance
from ledger.domain.events import (
    AgreementAmended,
    AgreementReached,
    Changes,
    CounterOfferMade,
    MeetingHeld,
    MoveEvent,
    NoteRecorded,
    PartyJoined,
    PartyWithdrew,
    ProposalAccepted,
    ProposalMade,
    ProposalRejected,
    ProposalWithdrawn,
    TalksEnded,
)
from ledger.domain.moves import Move
from ledger.domain.seat_events import ConstituenciesAdded, PartialAgreementReached
from ledger.timeline.document import AnyMove, CorrectionSpec, counts_and_names

EVENT_FOR_TYPE: dict[str, type[MoveEvent]] = {
    k.MEETING: MeetingHeld,
    k.PROPOSAL: ProposalMade,
    k.COUNTER_OFFER: CounterOfferMade,
    k.ACCEPTANCE: ProposalAccepted,
    k.REJECTION: ProposalRejected,
    k.WITHDRAWAL: ProposalWithdrawn,
    k.PARTY_JOINED: PartyJoined,
    k.PARTY_WITHDREW: PartyWithdrew,
    k.AGREEMENT: AgreementReached,
    k.AMENDMENT: AgreementAmended,
    k.TALKS_ENDED: TalksEnded,
    k.NOTE: NoteRecorded,
    k.PARTY_JOINED_ALLIANCE: PartyJoinedAlliance,
    k.PARTY_LEFT_ALLIANCE: PartyLeftAlliance,
    k.PARTIAL_AGREEMENT: PartialAgreementReached,
    k.CONSTITUENCIES_ADDED: ConstituenciesAdded,
}
ALLIANCE_ONLY = frozenset({k.PARTY_JOINED_ALLIANCE, k.PARTY_LEFT_ALLIANCE})
ALLIANCE_OR_NEGOTIATION = frozenset({k.MEETING, k.NOTE})


_NOT_EVENT_FIELDS = frozenset(
    {"id", "negotiation", "type", "on", "source", "note", "confidence", "alliance"}
)


def event_fields(spec: AnyMove, move_id: str, recorded_by: str) -> dict[str, Any]:
    """The fields of the event that records `spec` (defaults are resolved by the aggregate)."""
    assert not isinstance(spec, CorrectionSpec)
    fields: dict[str, Any] = {
        "move_id": move_id,
        "occurred_on": spec.on,
        "source": spec.source,
        "note": spec.note,
        "confidence": spec.confidence,
        "recorded_by": recorded_by,
    }
    # The spec's other fields as model_dump gives them (containers copied), read from
    # its __dict__: model_dump cost more than the rest of this function. Specs hold
    # no nested models, only strings, dates, lists of codes and str-int splits.
    for name, value in vars(spec).items():
        if name not in _NOT_EVENT_FIELDS:
            fields[name] = value.copy() if type(value) is dict or type(value) is list else value
    if spec.type in (k.AGREEMENT, k.AMENDMENT):
        fields["signatories"] = fields.get("signatories") or []
    split = fields.get("split")
    if split is not None:
        fields["split"], fields["named"] = counts_and_names(split)
    return fields


def changes_of(spec: CorrectionSpec) -> Changes:
    """What a correction replaces; a corrected split brings its named seats (maybe none)."""
    split, named = counts_and_names(spec.split) if spec.split is not None else (None, None)
    return Changes(
        on=spec.on, split=split, by=spec.by, source=spec.source, note=spec.note, named=named
    )


def spec_move(spec: AnyMove, move_id: str) -> Move:
    """The move a spec describes, unresolved: used to compare with what is recorded."""
    if isinstance(spec, CorrectionSpec):
        return Move(move_id=move_id, kind=k.CORRECTION, on=spec.on or _EPOCH, seq=0, target=spec.of)
    event_class = EVENT_FOR_TYPE[spec.type]
    fields = event_fields(spec, move_id, recorded_by="")
    event = event_class.model_construct(originator_version=0, **fields)
    object.__setattr__(event, "timestamp", None)  # not recorded: nothing to compare
    return event.to_move()


def same_move(given: Move, recorded: Move) -> bool:
    """True if re-recording `given` would change nothing about `recorded`."""
    if given.kind != recorded.kind or given.on != recorded.on:
        return False
    for attr in ("by", "split", "party", "venue", "source", "note", "confidence", "names"):
        if getattr(given, attr) != getattr(recorded, attr):
            return False
    if given.target is not None and given.target != recorded.target:
        return False
    if (given.named or None) != (recorded.named or None):
        return False
    return not (given.parties and set(given.parties) != set(recorded.parties))


def parties_named(spec: AnyMove) -> Iterator[str]:
    """Every party code a move names, for the unknown-party check."""
    # The model's own fields, read from its __dict__: getattr of a field a move type lacks
    # goes through pydantic's slow __getattr__, and imports call this for every move.
    fields = vars(spec)
    for attr in ("by", "party"):
        value = fields.get(attr)
        if value:
            yield value
    yield from fields.get("parties") or []
    yield from fields.get("signatories") or []
    yield from (fields.get("split") or {}).keys()


from datetime import date as _date  # noqa: E402

_EPOCH = _date(1970, 1, 1)
