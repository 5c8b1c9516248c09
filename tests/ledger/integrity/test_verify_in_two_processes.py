"""Verify split across two processes: the same report as one process, whatever happens."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Connection, delete, insert, select, update

from ledger import forked
from ledger.domain.negotiation import negotiation_id
from ledger.integrity import log_reader, verifier, worker
from ledger.integrity.verifier import Digest, VerifyReport, compute_digest, verify
from ledger.persistence.engine import get_engine
from ledger.persistence.schema import TABLES

EVENTS, MOVES = TABLES.events, TABLES.moves
UP = negotiation_id("uttar-pradesh")


@pytest.fixture
def split(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str | None, str | None]]:
    """Split even the 68-event example, with Uttar Pradesh first in the worker's half.

    Returns the (lower, upper) bounds of each walk verify's own process makes.
    """
    monkeypatch.setattr(worker, "SPLIT_FROM", 0)
    monkeypatch.setattr(forked, "SPARE", -1000.0)  # however busy the machine is
    monkeypatch.setattr(worker, "SPLIT_AT", str(UP))
    walks: list[tuple[str | None, str | None]] = []
    walk = verifier._walk

    def recorded(check: Any, reader: Any, tick: Any) -> None:
        walks.append((reader.lower, reader.upper))
        walk(check, reader, tick)

    monkeypatch.setattr(verifier, "_walk", recorded)
    return walks


def tamper(url: str, change: Callable[[Connection], None]) -> None:
    with get_engine(url).begin() as conn:
        for table in (EVENTS.name, MOVES.name):
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql(f"DROP TRIGGER {table}_no_change ON {table}")
            else:
                conn.exec_driver_sql(f"DROP TRIGGER {table}_no_update")
                conn.exec_driver_sql(f"DROP TRIGGER {table}_no_delete")
        change(conn)


def at(aggregate: Any, version: int) -> Any:
    return (EVENTS.c.originator_id == aggregate) & (EVENTS.c.originator_version == version)


def first_aggregate(conn: Connection) -> Any:
    """An aggregate in verify's own half (its id sorts before Uttar Pradesh's)."""
    ids = conn.execute(select(EVENTS.c.originator_id).distinct()).scalars()
    return min(ids, key=str)


def edit_both_halves(conn: Connection) -> None:
    for aggregate in (UP, first_aggregate(conn)):
        state = conn.execute(select(EVENTS.c.state).where(at(aggregate, 2))).scalar_one()
        conn.execute(update(EVENTS).where(at(aggregate, 2)).values(state=state + b" "))


def delete_in_both_halves(conn: Connection) -> None:
    conn.execute(delete(EVENTS).where(at(UP, 5) | at(first_aggregate(conn), 1)))


def ghost_index_rows(conn: Connection) -> None:
    for move_id, aggregate in (("a-ghost", UP), ("z-ghost", first_aggregate(conn))):
        conn.execute(
            insert(MOVES).values(move_id=move_id, originator_id=aggregate, originator_version=99)
        )


def delete_tails(conn: Connection) -> None:
    conn.execute(delete(EVENTS).where(at(UP, 10)))
    conn.execute(delete(MOVES).where(MOVES.c.originator_id == UP, MOVES.c.originator_version > 9))


CHANGES = [edit_both_halves, delete_in_both_halves, ghost_index_rows, delete_tails]


def one_process(url: str, digest: Digest | None, monkeypatch: pytest.MonkeyPatch) -> VerifyReport:
    with monkeypatch.context() as patch:
        patch.setattr(worker, "PROCESSES", 1)
        return verify(url, digest=digest)


@pytest.mark.parametrize("change", CHANGES, ids=[c.__name__ for c in CHANGES])
def test_report_is_the_same_when_two_processes_verify(
    example_ledger: str,
    change: Callable[[Connection], None],
    split: list[tuple[str | None, str | None]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    digest = compute_digest(example_ledger)
    tamper(example_ledger, change)
    seen: list[tuple[int, int]] = []

    report = verify(
        example_ledger, digest=digest, progress=lambda done, total: seen.append((done, total))
    )

    assert split == [(None, str(UP))]  # the worker did the rest
    assert not report.ok
    assert report == one_process(example_ledger, digest, monkeypatch)
    assert seen[-1][0] == seen[-1][1]


def test_report_is_the_same_when_two_processes_verify_an_untouched_ledger(
    example_ledger: str, split: list[tuple[str | None, str | None]], monkeypatch: pytest.MonkeyPatch
) -> None:
    digest = compute_digest(example_ledger)
    monkeypatch.setattr(log_reader, "FETCH_SIZE", 4)

    report = verify(example_ledger, digest=digest)

    assert split == [(None, str(UP))]
    assert report.ok, [p.describe() for p in report.problems]
    assert (report.events_checked, report.aggregates) == (68, 9)
    assert report == one_process(example_ledger, digest, monkeypatch)


def _fail(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("the worker cannot connect")


@pytest.mark.parametrize(
    "break_it",
    [
        pytest.param(lambda p: p.setattr(worker, "reader_in_snapshot", _fail), id="fails"),
        pytest.param(
            # SQLite: the worker sees another log; PostgreSQL: no such snapshot.
            lambda p: p.setattr(worker, "share_snapshot", lambda conn: "0000-bogus"),
            id="another-snapshot",
        ),
    ],
)
def test_report_is_the_same_when_the_worker_cannot_do_its_half(
    example_ledger: str,
    break_it: Callable[[pytest.MonkeyPatch], None],
    split: list[tuple[str | None, str | None]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tamper(example_ledger, edit_both_halves)
    break_it(monkeypatch)

    report = verify(example_ledger)

    assert split == [(None, str(UP)), (str(UP), None)]  # verify did the worker's half
    assert [p.version for p in report.problems] == [2, 2]
    assert report == one_process(example_ledger, None, monkeypatch)


def test_verify_works_alone_when_no_process_can_be_started(
    example_ledger: str, split: list[tuple[str | None, str | None]], monkeypatch: pytest.MonkeyPatch
) -> None:
    tamper(example_ledger, edit_both_halves)
    monkeypatch.setattr(multiprocessing, "get_context", _fail)

    report = verify(example_ledger)

    assert split == [(None, None)]
    assert [p.version for p in report.problems] == [2, 2]


def test_verify_works_alone_when_the_machine_is_busy(
    example_ledger: str, split: list[tuple[str | None, str | None]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(forked, "SPARE", 1000.0)

    assert verify(example_ledger).ok
    assert split == [(None, None)]
