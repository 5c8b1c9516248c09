"""Replay folds the event log itself: no projection tables are read or created."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import inspect

from ledger.persistence.engine import get_engine
from projections import reference


def _view_tables(url: str) -> list[str]:
    names = inspect(get_engine(url)).get_table_names()
    return [name for name in names if name.startswith("seatledger_view_")]


def test_replay_answers_the_up_deal_without_view_tables_when_none_exist(
    example_ledger: str,
) -> None:
    view = reference.replay_split(example_ledger, "uttar-pradesh", as_of=date(2024, 2, 21))
    assert (view.status, view.split) == ("agreed", {"SP": 63, "INC": 17})
    assert reference.replay_rollup(example_ledger, date(2024, 2, 21)).parties == {
        "SP": 63,
        "INC": 17,
    }
    assert len(reference.replay_history(example_ledger, None)) == 45 + 7 + 1
    assert _view_tables(example_ledger) == []


def test_replay_shows_delhi_offer_of_one_seat_when_asked_mid_february(example_ledger: str) -> None:
    [delhi] = [
        v
        for v in reference.replay_splits(example_ledger, date(2024, 2, 15))
        if v.negotiation == "delhi"
    ]
    assert (delhi.split, delhi.by, delhi.status) == ({"AAP": 6, "INC": 1}, "AAP", "negotiating")
    assert reference.replay_positions(example_ledger, "delhi", date(2024, 2, 15)) == {
        "AAP": {"AAP": 6, "INC": 1}
    }


def test_replay_history_refuses_an_unknown_negotiation_when_asked(example_ledger: str) -> None:
    with pytest.raises(LookupError, match="no negotiation 'kerala'"):
        reference.replay_history(example_ledger, "kerala")
