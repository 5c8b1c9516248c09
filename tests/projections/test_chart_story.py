"""The chart's story read in two queries draws what the split view, asked date by date, draws."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from projections.api import LedgerViews
from projections.chart_story import chart_story
from projections.reports.model import chart_series
from projections.views.timeaxis import parse_valid_time


@pytest.mark.parametrize("known_on", [None, "first-correction"])
def test_chart_story_gives_the_series_the_split_view_gives_date_by_date(
    example_ledger: str, known_on: str | None
) -> None:
    views = LedgerViews(example_ledger)
    every = views.history(None)
    when = None
    if known_on is not None:  # just before the first correction was recorded
        fix = min((m for m in every if m.corrects), key=lambda m: m.recorded_at)
        when = fix.recorded_at - timedelta(microseconds=1)
    drawn = 0
    for slug in views.negotiations():
        try:
            moves = [m.to_json() for m in views.history(slug, None, when)]
        except LookupError:  # not yet recorded on K
            continue
        expected = chart_series(
            moves, lambda on, n=slug: views.split(n, parse_valid_time(on), when).to_json()
        )
        assert chart_series(*chart_story(views, slug, when)) == expected, slug
        drawn += bool(expected)
    assert drawn >= (3 if known_on is None else 1)  # Uttar Pradesh was recorded first


def test_chart_story_refuses_a_date_before_the_talks_opened(example_ledger: str) -> None:
    _, split_on = chart_story(LedgerViews(example_ledger), "uttar-pradesh", None)
    assert split_on("2024-02-21")["split"] == {"SP": 63, "INC": 17}
    with pytest.raises(LookupError):
        split_on(date(2000, 1, 1).isoformat())
