"""Property: a move's seats moved are the replayed split just after it less the one just before."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.application import NegotiationLedger
from ledger.domain.errors import NotFoundError
from ledger.domain.events import LedgerEvent
from ledger.domain.folding import as_known
from ledger.domain.negotiation import Negotiation, negotiation_id
from ledger.domain.values import Split, ValidTime
from ledger.timeline.export import dump_timeline, export_timeline
from ledger.timeline.importer import import_timeline
from ledger.timeline.parsing import parse_timeline
from projections.api import LedgerViews
from projections.views.timeaxis import query_datetime
from tests.projections.views.test_views_match_replay import fresh_database
from tests.support.timelines import Clock, TimelineBuilder, pinned

__all__ = ["fresh_database"]  # the fixture, shared with the views-match-replay property


Holders = dict[str, str | None]
Around = tuple[Split | None, Split, Split, Holders, Holders]


def _splits_around_each_move(
    app: NegotiationLedger, slug: str, known_on: ValidTime | None
) -> dict[str, Around]:
    """Per move of the story known on K: its own split, the split before it and after it,
    and every listed seat's holder before it and after it."""
    stored = app.recorder.select_events(negotiation_id(slug))
    events = [cast(LedgerEvent, app.mapper.to_domain_event(s)) for s in stored]
    talks = as_known(events, query_datetime(known_on, "known on"))
    if not isinstance(talks, Negotiation):
        return {}  # not opened by K
    story, state = talks.story, talks.story.initial
    around: dict[str, Around] = {}
    for move in story.moves:
        after = story.apply(state, move)
        held = {name: holder for name, holder, _ in state.holders()}
        holds = {name: holder for name, holder, _ in after.holders()}
        around[move.move_id] = (move.split, dict(state.split), dict(after.split), held, holds)
        state = after
    return around


def _assert_seats_moved_match_replay(
    app: NegotiationLedger, as_of: ValidTime | None, known_on: ValidTime | None
) -> None:
    views = LedgerViews(app.url)
    for slug in views.negotiations():
        around = _splits_around_each_move(app, slug, known_on)
        try:
            rows = views.history(slug, as_of, known_on)
        except NotFoundError:
            assert not around
            continue
        for row in rows:
            where = f"{row.id} in {slug}, as of {as_of}, known on {known_on}"
            if row.corrects is not None:
                continue  # a correction shows what it changed, not a move of the story
            if row.id not in around:  # retracted by K: it moved nothing in the story
                assert row.seats_moved is None and not row.seats_given, where
                continue
            own, before, after, held, holds = around[row.id]
            if row.seats_moved is None:
                assert own is None and not row.seats_given, where  # no split: none moved
                continue
            parties = set(before) | set(after)
            difference = {p: after.get(p, 0) - before.get(p, 0) for p in parties}
            assert row.seats_moved == {p: n for p, n in difference.items() if n}, where
            handed = [(n, held.get(n), holds[n]) for n in holds if held.get(n) != holds[n]]
            assert list(row.seats_given) == handed, where  # every seat that changed hands


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_seats_moved_match_the_replayed_splits_around_each_move_when_timelines_are_random(
    fresh_database: Callable[[], Any], data: st.DataObject
) -> None:
    clock = Clock()
    with fresh_database() as url, pinned(clock):
        app = NegotiationLedger(url, recorded_by="analyst")
        views = LedgerViews(url)
        timeline = TimelineBuilder(app, data, clock)
        timeline.start()
        for _ in range(data.draw(st.integers(5, 30), label="moves")):
            timeline.step()
            if data.draw(st.integers(0, 4), label="catch up now") == 0:
                views.catch_up()  # seats moved derived in several runs, re-derived later
        for as_of, known_on in data.draw(st.lists(timeline.query_times(), min_size=1, max_size=4)):
            _assert_seats_moved_match_replay(app, as_of, known_on)
        _assert_seats_moved_match_replay(app, None, None)
        text = dump_timeline(export_timeline(app))
        with fresh_database() as copy:
            import_timeline(NegotiationLedger(copy, recorded_by="restorer"), parse_timeline(text))
            assert _seats_moved(copy) == _seats_moved(url)  # whatever order facts arrived in


def _seats_moved(url: str) -> dict[str, tuple[dict[str, int] | None, Any]]:
    """Every move's seats moved and named seats given, as known now."""
    return {row.id: (row.seats_moved, row.seats_given) for row in LedgerViews(url).history(None)}
