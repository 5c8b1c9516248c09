"""Catch-up, rebuild and status: each event applied once, rows repeatable byte for byte."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from ledger.application import NegotiationLedger
from ledger.persistence.engine import get_engine, read_transaction
from ledger.timeline.document import AmendmentSpec, NoteSpec, ProposalSpec
from projections.api import LedgerViews
from projections.views import catchup
from projections.views.tables import metadata


def dump(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every view table, in primary-key order."""
    tables: dict[str, list[tuple[Any, ...]]] = {}
    with read_transaction(get_engine(url)) as conn:
        for table in metadata.sorted_tables:
            query = select(table).order_by(*table.primary_key.columns)
            tables[table.name] = [tuple(row) for row in conn.execute(query)]
    return tables


def _recorder(calls: list[tuple[int, int]]) -> Callable[[int, int], None]:
    return lambda done, total: calls.append((done, total))


def test_rebuild_from_zero_gives_identical_tables_when_run_after_a_catch_up(
    example_ledger: str,
) -> None:
    views = LedgerViews(example_ledger)
    assert views.catch_up() == 68
    first = dump(example_ledger)
    assert views.rebuild() == 68
    assert dump(example_ledger) == first
    assert len(first["seatledger_view_moves"]) == 45 + 7 + 1  # moves, openings, the alliance


def test_pages_of_any_size_give_identical_tables_when_catching_up(example_ledger: str) -> None:
    LedgerViews(example_ledger, page_size=1000).catch_up()
    whole = dump(example_ledger)
    for size in (1, 7):
        pages: list[tuple[int, int]] = []
        assert LedgerViews(example_ledger, page_size=size).rebuild(_recorder(pages)) == 68
        assert dump(example_ledger) == whole
        assert pages[-1] == (68, 68)
        assert len(pages) == -(-68 // size)


@pytest.mark.parametrize("window", [1, 2, 5])
def test_rows_kept_in_memory_do_not_change_the_tables_when_the_window_is_small(
    example_ledger: str, window: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    default = catchup.ROW_WINDOW
    LedgerViews(example_ledger).catch_up()
    whole = dump(example_ledger)
    monkeypatch.setattr(catchup, "ROW_WINDOW", window)
    app = NegotiationLedger(example_ledger, recorded_by="analyst")
    views = LedgerViews(example_ledger)
    assert views.rebuild() == 68
    assert dump(example_ledger) == whole
    # A late note dated before every row still in memory, then one in order.
    for on, note in ((date(2024, 1, 2), "early word"), (date(2024, 6, 1), "late word")):
        app.record(NoteSpec(type="note", negotiation="west-bengal", on=on, note=note))
        assert views.catch_up() == 1
    after = dump(example_ledger)
    monkeypatch.setattr(catchup, "ROW_WINDOW", default)
    assert LedgerViews(example_ledger).rebuild() == 70
    assert dump(example_ledger) == after


def test_status_reports_the_lag_when_moves_are_recorded_after_a_catch_up(
    example_ledger: str,
) -> None:
    views = LedgerViews(example_ledger)
    assert views.status().to_json() == {"position": 0, "head": 68, "lag": 68}
    views.catch_up()
    assert views.status().lag == 0
    app = NegotiationLedger(example_ledger, recorded_by="analyst")
    app.record(
        NoteSpec(type="note", negotiation="west-bengal", on=date(2024, 3, 10), note="TMC: 42")
    )
    assert views.status().lag == 1
    assert views.catch_up() == 1
    assert views.status().lag == 0


def test_a_read_sees_a_move_recorded_just_before_it_without_an_explicit_catch_up(
    example_ledger: str,
) -> None:
    views = LedgerViews(example_ledger)
    assert views.split("bihar").split["RJD"] == 23
    app = NegotiationLedger(example_ledger, recorded_by="analyst")
    app.record(
        AmendmentSpec(
            type="amendment", negotiation="bihar", on=date(2024, 4, 10),
            split={"RJD": 22, "INC": 10, "CPIML": 3, "CPI": 1, "CPIM": 1},
        )
    )  # fmt: skip
    assert views.split("bihar").split["RJD"] == 22
    assert views.status().lag == 0


def test_two_catch_ups_at_once_apply_each_event_once_when_racing(example_ledger: str) -> None:
    racers = [LedgerViews(example_ledger, page_size=1) for _ in range(2)]
    applied: list[int] = []
    errors: list[BaseException] = []

    def run(views: LedgerViews) -> None:
        try:
            applied.append(views.catch_up())
        except BaseException as error:  # surfaced below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(views,)) for views in racers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    assert sum(applied) == 68
    raced = dump(example_ledger)
    LedgerViews(example_ledger).rebuild()
    assert dump(example_ledger) == raced


def test_a_second_process_resumes_where_the_first_stopped_when_its_cache_is_cold(
    example_ledger: str,
) -> None:
    first = LedgerViews(example_ledger, page_size=10)
    first.catch_up(lambda done, total: None)
    app = NegotiationLedger(example_ledger, recorded_by="analyst")
    app.record(
        ProposalSpec(
            type="proposal", negotiation="west-bengal", on=date(2024, 1, 20), by="TMC",
            split={"TMC": 41, "INC": 1},
        )
    )  # fmt: skip
    assert LedgerViews(example_ledger).catch_up() > 0  # rebuilds the aggregate from its events
    resumed = dump(example_ledger)
    LedgerViews(example_ledger).rebuild()
    assert dump(example_ledger) == resumed
