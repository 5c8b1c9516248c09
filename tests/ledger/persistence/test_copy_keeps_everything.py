"""Property: SQLite -> PostgreSQL -> SQLite copies keep the digest and "as known on" answers."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.application import NegotiationLedger
from ledger.domain.values import ValidTime
from ledger.integrity.verifier import compute_digest, verify
from ledger.persistence.copying import copy_ledger
from ledger.persistence.engine import dispose_engines
from projections.api import LedgerViews
from projections.views.verify import DerivedChecker
from tests.support import pg
from tests.support.timelines import Clock, TimelineBuilder, pinned


def _answers(url: str, as_of: ValidTime | None, known_on: ValidTime | None) -> Any:
    views = LedgerViews(url)
    return (
        views.splits(as_of, known_on),
        views.rollup(as_of, known_on),
        views.history(None, as_of, known_on),
    )


def _copied(source: str, target: str) -> None:
    copy_ledger(source, target)
    LedgerViews(target).rebuild()
    report = verify(target, derived=DerivedChecker(target))
    assert report.ok, report.problems


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_copies_keep_digest_and_known_on_answers_when_timelines_are_random(
    pg_server_url: str, tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    folder: Path = tmp_path_factory.mktemp("copy")
    source = f"sqlite:///{folder / f'{uuid4().hex}.db'}"
    back = f"sqlite:///{folder / f'{uuid4().hex}-back.db'}"
    schema, middle = pg.create_test_schema(pg_server_url)
    clock = Clock()
    try:
        with pinned(clock):
            timeline = TimelineBuilder(
                NegotiationLedger(source, recorded_by="analyst"), data, clock
            )
            timeline.start()
            for _ in range(data.draw(st.integers(5, 25), label="moves")):
                timeline.step()
        _copied(source, middle)
        _copied(middle, back)
        roots = {compute_digest(url).root for url in (source, middle, back)}
        assert len(roots) == 1
        times = data.draw(st.lists(timeline.query_times(), min_size=1, max_size=4))
        known_ons = [(None, at) for at in timeline.recorded_at]
        for as_of, known_on in [*times, *known_ons, (None, None)]:
            expected = _answers(source, as_of, known_on)
            assert _answers(middle, as_of, known_on) == expected, (as_of, known_on)
            assert _answers(back, as_of, known_on) == expected, (as_of, known_on)
    finally:
        dispose_engines()
        pg.drop_test_schema(pg_server_url, schema)
