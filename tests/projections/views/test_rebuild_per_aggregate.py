"""Rebuild one aggregate at a time: the rows of an incremental catch-up, all or nothing."""

from __future__ import annotations

import os
import signal
import time
from datetime import date
from typing import Any

import pytest
from sqlalchemy import delete, insert, select

from ledger import forked
from ledger.application import NegotiationLedger
from ledger.persistence.engine import get_engine, read_transaction, write_transaction
from ledger.timeline.document import CorrectionSpec, NoteSpec, PartySpecMove, ProposalSpec
from ledger.timeline.importer import import_timeline
from ledger.timeline.parsing import read_timeline
from projections.api import LedgerViews
from projections.views import catchup, fold_worker
from projections.views.tables import metadata
from tests.support.example import EXAMPLE


def dump(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every view table (the position too), in primary-key order."""
    with read_transaction(get_engine(url)) as conn:
        return {
            t.name: [tuple(r) for r in conn.execute(select(t).order_by(*t.primary_key.columns))]
            for t in metadata.sorted_tables
        }


def _later_moves(app: NegotiationLedger) -> list[Any]:
    """Late facts, corrections, and an alliance move mirrored into its negotiations."""
    return [
        NoteSpec(type="note", id="wb-early-word", negotiation="west-bengal",
                 on=date(2024, 1, 2), note="a late fact, dated before every row"),
        CorrectionSpec(type="correction", id="up-offer-again", of="up-sp-offers-11",
                       split={"SP": 60, "INC": 13}, note="a second correction"),
        PartySpecMove(type="party_left_alliance", id="cpi-leaves", party="CPI",
                      on=date(2024, 12, 1)),
        ProposalSpec(type="proposal", id="bihar-late-offer", negotiation="bihar",
                     on=date(2024, 1, 20), by="RJD", split={"RJD": 26, "INC": 9}),
        CorrectionSpec(type="correction", id="cpi-left-later", of="cpi-leaves",
                       on=date(2024, 11, 1)),
        CorrectionSpec(type="correction", id="jdu-left-earlier", of="jdu-leaves-india-bloc",
                       on=date(2024, 1, 25)),
        CorrectionSpec(type="correction", id="wb-word-retracted", of="wb-early-word",
                       retract=True),
    ]  # fmt: skip


@pytest.fixture
def ledger(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The example, then later moves, each caught up at once in notification order.

    A cache of one aggregate and a window of one current row make the incremental
    catch-up reload aggregates and read rows back from the table all the time.
    """
    app = NegotiationLedger(db_url, recorded_by="analyst")
    import_timeline(app, read_timeline(EXAMPLE))
    monkeypatch.setattr(catchup, "CACHE_SIZE", 1)
    monkeypatch.setattr(catchup, "ROW_WINDOW", 1)
    views = LedgerViews(db_url, page_size=1)
    assert views.catch_up() == 68
    for spec in _later_moves(app):
        app.record(spec)
        assert views.catch_up() >= 1
    monkeypatch.undo()
    return db_url


def test_rebuild_gives_the_rows_of_an_incremental_catch_up_when_facts_arrive_late(
    ledger: str,
) -> None:
    incremental = dump(ledger)
    head = LedgerViews(ledger).status().head
    assert head > 68 + len(_later_moves(NegotiationLedger(ledger)))  # mirrors are events too
    history = incremental["seatledger_view_moves"]
    assert {"up-offer-again", "cpi-left-later", "jdu-left-earlier"} <= {r[0] for r in history}
    for page_size in (1, 7, 1000):
        views = LedgerViews(ledger, page_size=page_size)
        assert views.rebuild() == head
        assert dump(ledger) == incremental
        assert views.status().to_json() == {"position": head, "head": head, "lag": 0}


def test_rebuild_holds_one_folded_aggregate_at_a_time(
    ledger: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    incremental = dump(ledger)
    views = LedgerViews(ledger)
    projector = views._projector
    apply_page = projector._apply_page
    held: list[int] = []

    def spy(conn: Any, page: Any, writes: Any) -> None:
        assert len({n.originator_id for n in page}) == 1
        apply_page(conn, page, writes)
        held.append(len(projector._cache))

    monkeypatch.setattr(projector, "_apply_page", spy)
    views.rebuild()
    assert held and max(held) == 1
    assert dump(ledger) == incremental


def test_a_rebuild_that_dies_midway_leaves_the_views_as_they_were(
    ledger: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = dump(ledger)
    views = LedgerViews(ledger, page_size=5)
    projector = views._projector
    apply_page = projector._apply_page
    pages: list[int] = []

    def dies(conn: Any, page: Any, writes: Any) -> None:
        pages.append(len(page))
        if len(pages) == 6:
            writes.flush(conn)  # rows of earlier aggregates are in the table, uncommitted
            raise KeyboardInterrupt
        apply_page(conn, page, writes)

    monkeypatch.setattr(projector, "_apply_page", dies)
    with pytest.raises(KeyboardInterrupt):
        views.rebuild()
    assert dump(ledger) == before
    monkeypatch.undo()
    views.rebuild()
    assert dump(ledger) == before


def test_events_recorded_after_the_rebuild_read_the_head_are_caught_up_after_it(
    ledger: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    incremental = dump(ledger)
    views = LedgerViews(ledger)
    head = views.status().head
    projector = views._projector
    seen: list[int] = []

    def earlier_head(conn: Any) -> int:
        # As if the last 9 notifications committed just after the rebuild read its head.
        seen.append(head - 9)
        return head - 9

    monkeypatch.setattr(projector, "_head", earlier_head)
    calls: list[tuple[int, int]] = []
    assert views.rebuild(lambda done, total: calls.append((done, total))) == head
    assert seen == [head - 9]
    assert calls[-1] == (head, head)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
    assert dump(ledger) == incremental


@pytest.fixture
def two_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fold in two processes even the small example, however busy the machine is."""
    monkeypatch.setattr(fold_worker, "SPLIT_FROM", 0)
    monkeypatch.setattr(forked, "SPARE", -1000.0)
    monkeypatch.setattr(fold_worker, "BATCH", 3)  # many batches: closes after their opens


def test_a_rebuild_in_two_processes_gives_the_same_rows(
    ledger: str, two_processes: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    incremental = dump(ledger)
    arrived: list[int] = []
    stop = fold_worker.FoldWorker.stop

    def counted(worker: fold_worker.FoldWorker) -> None:
        arrived.append(len(worker.arrived))
        stop(worker)

    monkeypatch.setattr(fold_worker.FoldWorker, "stop", counted)
    fold_aggregate = catchup.Projector._fold_aggregate

    def slow_alone(self: Any, *args: Any) -> int:
        if not self.in_worker:
            time.sleep(0.1)  # the rebuild's process is slow: the worker takes its share
        return fold_aggregate(self, *args)

    monkeypatch.setattr(catchup.Projector, "_fold_aggregate", slow_alone)
    views = LedgerViews(ledger)
    head = views.status().head
    calls: list[tuple[int, int]] = []
    assert views.rebuild(lambda done, total: calls.append((done, total))) == head
    assert arrived and arrived[0] >= 1  # the worker folded aggregates of its own
    assert calls[-1] == (head, head)
    assert dump(ledger) == incremental


def test_a_worker_that_dies_leaves_its_aggregates_to_the_rebuild(
    ledger: str, two_processes: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    incremental = dump(ledger)
    fold_aggregate = catchup.Projector._fold_aggregate
    in_worker: list[Any] = []

    def dies_on_its_third(self: Any, conn: Any, writes: Any, raw_id: Any, *rest: Any) -> int:
        if self.in_worker:
            in_worker.append(raw_id)
            if len(in_worker) == 3:
                os.kill(os.getpid(), signal.SIGKILL)  # the worker, as kill -9 would
        else:
            time.sleep(0.2)  # the rebuild's process is slow: the worker takes its share
        return fold_aggregate(self, conn, writes, raw_id, *rest)

    monkeypatch.setattr(catchup.Projector, "_fold_aggregate", dies_on_its_third)
    messages: list[str] = []
    take = fold_worker.FoldWorker._take

    def seen(worker: Any, conn: Any, message: tuple[str, Any]) -> None:
        messages.append(message[0])
        take(worker, conn, message)

    monkeypatch.setattr(fold_worker.FoldWorker, "_take", seen)
    views = LedgerViews(ledger)
    assert views.rebuild() == views.status().head
    assert "rows" in messages and "done" not in messages  # rows arrived, then it died
    assert dump(ledger) == incremental


def restore(url: str, saved: dict[str, list[tuple[Any, ...]]]) -> None:
    """Put the view tables (and position) back as `saved` holds them."""
    with write_transaction(get_engine(url)) as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(delete(table))
        for table in metadata.sorted_tables:
            rows = [dict(zip(table.columns.keys(), row, strict=True)) for row in saved[table.name]]
            if rows:
                conn.execute(insert(table), rows)


@pytest.mark.parametrize("processes", [1, 2])
def test_a_catch_up_far_behind_goes_by_aggregate_with_the_rows_of_page_by_page(
    db_url: str, processes: int, two_processes: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = NegotiationLedger(db_url, recorded_by="analyst")
    import_timeline(app, read_timeline(EXAMPLE))
    views = LedgerViews(db_url, page_size=4)
    views.catch_up()
    caught_up_to_the_example = dump(db_url)
    for spec in _later_moves(app):
        app.record(spec)
    head = views.status().head
    lag = head - views.status().position
    assert views.catch_up() == lag  # page by page: the lag is under BY_AGGREGATE_FROM
    page_by_page = dump(db_url)

    restore(db_url, caught_up_to_the_example)
    monkeypatch.setattr(catchup, "BY_AGGREGATE_FROM", 2)
    monkeypatch.setattr(fold_worker, "PROCESSES", processes)
    passes: list[int] = []
    by_aggregate = catchup.Projector._fold_every_aggregate

    def spy(self: Any, conn: Any, at: int, head: int, counter: Any) -> None:
        passes.append(at)
        by_aggregate(self, conn, at, head, counter)

    monkeypatch.setattr(catchup.Projector, "_fold_every_aggregate", spy)
    calls: list[tuple[int, int]] = []
    views = LedgerViews(db_url, page_size=4)
    assert views.catch_up(lambda done, total: calls.append((done, total))) == lag
    assert passes == [head - lag]
    assert calls[-1] == (lag, lag)
    assert dump(db_url) == page_by_page


def test_a_rebuild_on_sqlite_leaves_its_connection_deleting_as_before(tmp_path: Any) -> None:
    # The rebuild deletes the old views without zeroing their pages (they are derived);
    # the connection, back in the pool, must not carry that to the ledger's other deletes.
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    import_timeline(NegotiationLedger(url, recorded_by="analyst"), read_timeline(EXAMPLE))
    views = LedgerViews(url)
    views.catch_up()
    engine = get_engine(url)

    def secure_delete() -> int:
        with engine.connect() as conn:
            return int(conn.exec_driver_sql("PRAGMA secure_delete").scalar_one())

    before, rows = secure_delete(), dump(url)
    views.rebuild()
    assert dump(url) == rows
    assert secure_delete() == before
