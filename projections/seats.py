"""Who holds each seat, and since when: the answers of `seats` and `seat`.

Both the view tables and the replay give, for each valid-time run of a negotiation's story,
its start, its last move and every listed seat's (holder, status) as JSON (the split rows'
`holders` column); this module turns those into answers, so the two cannot disagree.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, time

import orjson

from ledger.domain.errors import NotFoundError, nearest
from ledger.domain.folding import as_known, intervals
from ledger.domain.negotiation import Negotiation, negotiation_id
from ledger.domain.state import UNOPENED
from ledger.domain.values import ValidTime, constituency_key, end_of
from projections.answers import (
    SeatChange,
    SeatHolder,
    SeatView,
    not_opened,
    unknown_negotiation,
)
from projections.reference import ledger_at
from projections.views.derive import seat_texts
from projections.views.timeaxis import from_micros, micros, query_datetime

Run = tuple[int, str, str]
"""(valid_from in microseconds, the run's last move, its holders JSON)."""


def holders_of(text: str) -> list[SeatHolder]:
    """Every listed seat of a split row's `holders` column, in list order."""
    return [SeatHolder(name, holder, status) for name, holder, status in orjson.loads(text)]


_TEXTS_MEMO = 16_384
_instant_texts: dict[int, str] = {}


def instant_text(valid_from: int) -> str:
    """A run's start as a date when it is a day's start (UTC), else an ISO instant.

    Memoised: a long history names hundreds of starts, and its talks' seats share them."""
    found = _instant_texts.get(valid_from)
    if found is None:
        if len(_instant_texts) >= _TEXTS_MEMO:
            _instant_texts.clear()
        instant = from_micros(valid_from)
        if instant.timetz() == time(0, tzinfo=UTC):
            found = instant.date().isoformat()
        else:
            found = instant.isoformat()
        _instant_texts[valid_from] = found
    return found


def seat_view(
    negotiation: str,
    name: str,
    runs: Iterable[Run],
    as_of: ValidTime | None,
    known_on: ValidTime | None,
) -> SeatView:
    """One seat's (holder, status) on D, and each change of it up to D, from the runs."""
    key = constituency_key(name)
    history: list[SeatChange] = []
    listed: list[str] = []
    found: SeatHolder | None = None
    for valid_from, move_id, text in runs:
        holders = holders_of(text)
        listed = [seat.constituency for seat in holders]
        seat = next((s for s in holders if constituency_key(s.constituency) == key), None)
        if seat is None:
            continue
        found = seat
        last = history[-1] if history else None
        if last is None or (last.holder, last.status) != (seat.holder, seat.status):
            history.append(SeatChange(instant_text(valid_from), move_id, seat.holder, seat.status))
    if found is None:
        raise not_listed(negotiation, name, listed, as_of)
    return SeatView(
        negotiation, found.constituency, as_of, known_on, found.holder, found.status,
        tuple(history),
    )  # fmt: skip


def seat_from_changes(
    negotiation: str,
    changes: list[tuple[int, str, str, str | None, str]],
    as_of: ValidTime | None,
    known_on: ValidTime | None,
) -> SeatView:
    """One seat on D from its changes up to D (valid_from, move, name, holder, status), as
    the seat-changes view holds them: the same answer `seat_view` makes of the runs."""
    history = tuple(
        SeatChange(instant_text(valid_from), move_id, holder, status)
        for valid_from, move_id, _, holder, status in changes
    )
    _, _, name, holder, status = changes[-1]
    return SeatView(negotiation, name, as_of, known_on, holder, status, history)


def not_listed(
    negotiation: str, name: str, listed: list[str], as_of: ValidTime | None
) -> NotFoundError:
    """The error for a constituency the negotiation does not list (on D)."""
    when = f" as of {as_of}" if as_of is not None else ""
    if not listed:
        return NotFoundError(f"{negotiation} lists no constituencies{when}")
    near = nearest(name, listed)
    hint = f" (did you mean {' or '.join(near)}?)" if near else ""
    return NotFoundError(
        f"{negotiation} does not list {name.strip()!r}{when}{hint}; `seatledger seats "
        f"{negotiation}` shows the list"
    )


# -- by replay: the reference the views must equal -------------------------------------


def _story(url: str, negotiation: str, known_on: ValidTime | None) -> Negotiation:
    app = ledger_at(url)
    stored = app.recorder.select_events(negotiation_id(negotiation))
    events = (app.mapper.to_domain_event(s) for s in stored)
    aggregate = as_known(events, query_datetime(known_on, "known on"))  # type: ignore[arg-type]
    if not isinstance(aggregate, Negotiation):
        raise unknown_negotiation(negotiation, known_on)
    return aggregate


def replay_runs(
    url: str, negotiation: str, as_of: ValidTime | None, known_on: ValidTime | None
) -> list[Run]:
    """The story's runs up to D as known on K, by folding the event log."""
    story = _story(url, negotiation, known_on).story
    until = micros(end_of(as_of)) if as_of is not None else None
    runs: list[Run] = []
    for begin, state, last in intervals(story):
        start = micros(begin)
        if state.status == UNOPENED or (until is not None and start > until):
            continue
        runs.append((start, last.move_id, seat_texts(state)[2]))
    return runs


def replay_seats(
    url: str, negotiation: str, as_of: ValidTime | None, known_on: ValidTime | None
) -> list[SeatHolder]:
    """Every listed seat on D as known on K, by replay."""
    runs = replay_runs(url, negotiation, as_of, known_on)
    if not runs:
        raise not_opened(negotiation, as_of, known_on)
    return holders_of(runs[-1][2])


def replay_seat(
    url: str, negotiation: str, name: str, as_of: ValidTime | None, known_on: ValidTime | None
) -> SeatView:
    """One seat on D as known on K, with its history, by replay."""
    runs = replay_runs(url, negotiation, as_of, known_on)
    if not runs:
        raise not_opened(negotiation, as_of, known_on)
    return seat_view(
        negotiation, name, runs, as_of, known_on
    )
