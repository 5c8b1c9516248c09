"""The reference: fold the event log itself to any (D, K), with no projection tables.

Each aggregate is read from its own events and folded by `ledger.domain.folding` (the
aggregates' own code), one aggregate at a time; the answers have the query API's types.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, cast
from uuid import UUID

from eventsourcing.utils import get_topic

from ledger.domain.alliance import AllianceFormed
from ledger.domain.events import LedgerEvent, NegotiationOpened
from ledger.domain.folding import Moved, negotiation_state, story_moved
from ledger.domain.negotiation import Negotiation, negotiation_id
from ledger.domain.state import UNOPENED, NegotiationState
from ledger.domain.values import ValidTime
from projections.answers import (
    EVERYTHING,
    MoveView,
    RollupView,
    Scope,
    SplitView,
    not_opened,
    rollup_of,
    unknown_negotiation,
)
from projections.views.derive import (
    MoveRecord,
    history_views,
    move_record,
    with_given_back,
    with_moved,
)
from projections.views.timeaxis import END_OF_TIME, micros, query_datetime, query_instant

if TYPE_CHECKING:
    from ledger.application import NegotiationLedger

_PAGE = 500


def ledger_at(url: str) -> NegotiationLedger:
    """The ledger's application, to replay from its log.

    Imported here, not with this module: a read of up-to-date views replays nothing, so
    it starts without the write side (`LedgerViews._projector`).
    """
    from ledger.application import NegotiationLedger

    return NegotiationLedger(url)


def _events(app: NegotiationLedger, aggregate_id: UUID) -> list[LedgerEvent]:
    stored = app.recorder.select_events(aggregate_id)
    return [cast(LedgerEvent, app.mapper.to_domain_event(s)) for s in stored]


def _first_events(app: NegotiationLedger, event_class: type[LedgerEvent]) -> Iterator[Any]:
    """The creating event of every aggregate of one kind, in recording order."""
    topic = get_topic(event_class)
    start = 0
    while True:
        page = app.recorder.select_notifications(start, _PAGE, topics=[topic])
        if not page:
            return
        for notification in page:
            yield app.mapper.to_domain_event(notification)
        start = page[-1].id + 1


def _state(
    app: NegotiationLedger, slug: str, as_of: ValidTime | None, known_on: ValidTime | None
) -> NegotiationState | None:
    events = _events(app, negotiation_id(slug))
    return negotiation_state(
        events, query_datetime(as_of, "as of"), query_datetime(known_on, "known on")
    )


def _view(
    slug: str, state: NegotiationState, as_of: ValidTime | None, known_on: ValidTime | None
) -> SplitView:
    return SplitView(
        negotiation=slug,
        region=state.region,
        seats=state.seats,
        as_of=as_of,
        known_on=known_on,
        status=state.status,
        split=dict(state.split),
        by=state.maker,
        title=state.title,
        election=state.election,
        alliance=state.alliance,
        named={party: list(state.named[party]) for party in state.split if party in state.named},
        settled=dict(state.settled),
    )


def _opened_state(
    app: NegotiationLedger, slug: str, as_of: ValidTime | None, known_on: ValidTime | None
) -> NegotiationState:
    state = _state(app, slug, as_of, known_on)
    if state is None:
        raise unknown_negotiation(slug, known_on)
    if state.status == UNOPENED:
        raise not_opened(slug, as_of, known_on)
    return state


def replay_split(
    url: str, negotiation: str, as_of: ValidTime | None = None, known_on: ValidTime | None = None
) -> SplitView:
    """The split of one negotiation, by replay; NotFoundError if unknown or not yet open."""
    app = ledger_at(url)
    return _view(negotiation, _opened_state(app, negotiation, as_of, known_on), as_of, known_on)


def replay_splits(
    url: str,
    as_of: ValidTime | None = None,
    known_on: ValidTime | None = None,
    scope: Scope = EVERYTHING,
) -> list[SplitView]:
    """Every negotiation open on D as known on K (in scope), by slug, by replay."""
    app = ledger_at(url)
    views = []
    for opened in _first_events(app, NegotiationOpened):
        state = _state(app, opened.negotiation, as_of, known_on)
        if state is not None and state.status != UNOPENED:
            views.append(_view(opened.negotiation, state, as_of, known_on))
    return scope.of(sorted(views, key=lambda view: view.negotiation))


def replay_rollup(
    url: str,
    as_of: ValidTime | None = None,
    known_on: ValidTime | None = None,
    scope: Scope = EVERYTHING,
) -> RollupView:
    """Seats per party over the negotiations agreed on D (per election if several), by replay."""
    return rollup_of(replay_splits(url, as_of, known_on, scope), as_of, known_on)


def replay_positions(
    url: str, negotiation: str, as_of: ValidTime | None = None, known_on: ValidTime | None = None
) -> dict[str, dict[str, int]]:
    """Each party's latest proposed or accepted split, by replay."""
    app = ledger_at(url)
    state = _opened_state(app, negotiation, as_of, known_on)
    return {party: dict(split) for party, split in sorted(state.positions.items())}


def replay_known_through(url: str, position: int) -> int | None:
    """The last recorded instant (micros) of the events up to `position`: the instant the
    views would be known through, had they been caught up to it."""
    app = ledger_at(url)
    last, start = None, 1
    while start <= position:
        page = app.recorder.select_notifications(start, _PAGE, stop=position)
        if not page:
            break
        for notification in page:
            event = cast(LedgerEvent, app.mapper.to_domain_event(notification))
            stamp = micros(event.timestamp)
            last = stamp if last is None else max(last, stamp)
        start = page[-1].id + 1
    return last


def _records(
    events: list[LedgerEvent], known_on: int, mirrored: dict[str, Moved]
) -> list[MoveRecord]:
    """History rows of one aggregate's events as known on K: the prefix recorded by K.

    Each move's seats moved are read off the valid-time story as known on K, folded whole;
    those of alliance moves copied into these talks are added to `mirrored`, by copy id.
    """
    aggregate: Any = None
    known_from = -END_OF_TIME
    records: list[MoveRecord] = []
    for event in events:
        known_from = max(known_from, micros(event.timestamp))
        if known_from > known_on:
            break  # as ledger.domain.folding.as_known: the longest prefix recorded by K
        record = move_record(aggregate, event, known_from)
        if record is not None:
            records.append(record)
        aggregate = event.mutate(aggregate)
    if not isinstance(aggregate, Negotiation):
        return records
    moved = dict(story_moved(aggregate.story))
    mirrored.update(
        (move_id, value) for move_id, value in moved.items() if value is not None and "@" in move_id
    )
    return with_moved(records, moved)


def replay_history(
    url: str,
    negotiation: str | None,
    as_of: ValidTime | None = None,
    known_on: ValidTime | None = None,
) -> list[MoveView]:
    """Moves recorded by K and dated by D, as recorded, by replay; None: every move."""
    app = ledger_at(url)
    d, k = query_instant(as_of, "as of"), query_instant(known_on, "known on")
    if negotiation is None:
        ids = [alliance.originator_id for alliance in _first_events(app, AllianceFormed)]
        ids += [opened.originator_id for opened in _first_events(app, NegotiationOpened)]
    else:
        ids = [negotiation_id(negotiation)]
    records: list[MoveRecord] = []
    mirrored: dict[str, Moved] = {}
    for aggregate_id in ids:
        records.extend(_records(_events(app, aggregate_id), k, mirrored))
    records = with_given_back(records, mirrored.items())
    if negotiation is not None and not records:
        raise unknown_negotiation(negotiation, known_on)
    records.sort(key=lambda record: record.order)
    shown = [record for record in records if record.on_at <= d]
    return history_views(shown, [record for record in records if record.corrects is not None])
