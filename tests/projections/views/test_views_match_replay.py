"""Property: on random valid timelines, the views answer exactly what replay answers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from ledger import application
from ledger.application import NegotiationLedger
from ledger.domain.errors import NotFoundError
from ledger.domain.values import ValidTime
from ledger.integrity.verifier import verify
from ledger.persistence.engine import dispose_engines, get_engine, read_transaction
from projections import reference, seats
from projections.api import LedgerViews
from projections.views import catchup
from projections.views.tables import metadata
from projections.views.verify import DerivedChecker
from tests.support import pg
from tests.support.timelines import NAMES, Clock, TimelineBuilder, pinned

Fresh = Callable[[], Any]


@pytest.fixture(params=["sqlite", "postgres"], ids=["sqlite", "postgres"])
def fresh_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[], Any]:
    """Makes an empty database per Hypothesis example, on SQLite or on PostgreSQL."""
    if request.param == "sqlite":
        folder: Path = tmp_path_factory.mktemp("views")

        @contextmanager
        def sqlite() -> Iterator[str]:
            try:
                yield f"sqlite:///{folder / f'{uuid4().hex}.db'}"
            finally:
                dispose_engines()

        return sqlite
    server: str = request.getfixturevalue("pg_server_url")

    @contextmanager
    def postgres() -> Iterator[str]:
        schema, url = pg.create_test_schema(server)
        try:
            yield url
        finally:
            dispose_engines()
            pg.drop_test_schema(server, schema)

    return postgres


def _outcome(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except NotFoundError as error:
        return ("not found", str(error))


def _dump(url: str) -> dict[str, list[tuple[Any, ...]]]:
    with read_transaction(get_engine(url)) as conn:
        return {
            t.name: [tuple(r) for r in conn.execute(select(t).order_by(*t.primary_key.columns))]
            for t in metadata.sorted_tables
        }


def _assert_views_match_replay(
    views: LedgerViews, url: str, as_of: ValidTime | None, known_on: ValidTime | None
) -> None:
    where = f"as of {as_of}, known on {known_on}"
    assert views.splits(as_of, known_on) == reference.replay_splits(url, as_of, known_on), where
    assert views.rollup(as_of, known_on) == reference.replay_rollup(url, as_of, known_on), where
    assert views.history(None, as_of, known_on) == reference.replay_history(
        url, None, as_of, known_on
    ), where
    for slug in [*views.negotiations(), "never-opened"]:
        for view, replayed in (
            (views.split, reference.replay_split),
            (views.positions, reference.replay_positions),
            (views.history, reference.replay_history),
        ):
            mine = _outcome(partial(view, slug, as_of, known_on))
            theirs = _outcome(partial(replayed, url, slug, as_of, known_on))
            assert mine == theirs, f"{view.__name__} of {slug} {where}"
        mine = _outcome(partial(views.seats, slug, as_of, known_on))
        theirs = _outcome(partial(seats.replay_seats, url, slug, as_of, known_on))
        assert mine == theirs, f"seats of {slug} {where}"
        for name in (*NAMES, "Nowhere"):  # every seat's holder and history
            mine = _outcome(partial(views.seat, slug, name, as_of, known_on))
            theirs = _outcome(partial(seats.replay_seat, url, slug, name, as_of, known_on))
            assert mine == theirs, f"seat {name} of {slug} {where}"


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_views_match_replay_when_timelines_are_random(
    fresh_database: Callable[[], Any], data: st.DataObject, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    with fresh_database() as url, pinned(clock):
        app = NegotiationLedger(url, recorded_by="analyst")
        page_size = data.draw(st.sampled_from([1, 3, 1000]), label="page size")
        # How many current rows the catch-up keeps per negotiation: tiny windows make late
        # moves and corrections read the rest back from the table.
        window = data.draw(st.sampled_from([1, 2, catchup.ROW_WINDOW]), label="row window")
        monkeypatch.setattr(catchup, "ROW_WINDOW", window)
        # Talks snapshotted every few events load from their snapshots (the states their
        # story keeps, unpacked) and take late moves and corrections from there.
        every = data.draw(st.sampled_from([2, 5, application.SNAPSHOT_EVERY]), label="snapshots")
        monkeypatch.setattr(application, "SNAPSHOT_EVERY", every)
        views = LedgerViews(url, page_size=page_size)
        timeline = TimelineBuilder(app, data, clock)
        timeline.start()
        for _ in range(data.draw(st.integers(5, 30), label="moves")):
            timeline.step()
            if data.draw(st.integers(0, 4), label="catch up now") == 0:
                views.catch_up()  # the views follow the log in several runs, not one
        for as_of, known_on in data.draw(st.lists(timeline.query_times(), min_size=1, max_size=4)):
            _assert_views_match_replay(views, url, as_of, known_on)
        _assert_views_match_replay(views, url, None, None)
        # verify's re-derivation agrees with views caught up in pages and tiny windows
        assert verify(url, derived=DerivedChecker(url)).ok
        incremental = _dump(url)
        views.rebuild()
        assert _dump(url) == incremental
