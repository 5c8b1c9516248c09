"""The seat-changes view that `seat` reads: verified, rebuilt, upgraded, readable by a reader.

That its answers equal replay on random timelines (late facts, corrections, seats listed
later, catch-up in pages and tiny windows) is test_views_match_replay.py's property.
"""

from __future__ import annotations

import secrets
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Connection, delete, insert, select, update

from ledger.integrity.findings import VIEW_SPLITS
from ledger.integrity.verifier import verify
from ledger.persistence.engine import get_engine, read_transaction, write_transaction
from ledger.persistence.roles import create_roles
from projections import seats
from projections.api import LedgerViews
from projections.views.tables import seat_changes
from projections.views.timeaxis import END_OF_TIME
from projections.views.verify import DerivedChecker
from tests.ledger.persistence.test_roles import _as, _drop_roles
from tests.support.example import SEATS_EXAMPLE, record_example

UP = "uttar-pradesh"
_BHADOHI = (seat_changes.c.negotiation == UP) & (seat_changes.c.constituency == "bhadohi")


@pytest.fixture
def ledger(db_url: str) -> str:
    """The bundled seat-level example, its views caught up."""
    record_example(db_url, example=SEATS_EXAMPLE)
    LedgerViews(db_url).catch_up()
    return db_url


def _rows(url: str) -> list[tuple[Any, ...]]:
    with read_transaction(get_engine(url)) as conn:
        query = select(seat_changes).order_by(*seat_changes.primary_key.columns)
        return [tuple(row) for row in conn.execute(query)]


def _give_bhadohi_to_bsp(conn: Connection) -> None:
    conn.execute(update(seat_changes).where(_BHADOHI).values(holder="BSP"))


def _delete_bhadohi(conn: Connection) -> None:
    conn.execute(delete(seat_changes).where(_BHADOHI))


def _forge_a_change(conn: Connection) -> None:
    row = conn.execute(select(seat_changes).where(_BHADOHI).limit(1)).mappings().one()
    conn.execute(insert(seat_changes).values({**row, "valid_from": row["valid_from"] + 1}))


def test_a_seat_is_read_from_its_changes_and_equals_replay(ledger: str) -> None:
    views = LedgerViews(ledger)
    for day in (date(2024, 2, 20), date(2024, 3, 1), date(2024, 3, 20), None):
        mine = views.seat(UP, "  BHADOHI ", day)
        assert mine == seats.replay_seat(ledger, UP, "  BHADOHI ", day, None)
    assert [change.holder for change in views.seat(UP, "Bhadohi").history][-2:] == ["SP", "TMC"]
    with read_transaction(get_engine(ledger)) as conn:
        current = _BHADOHI & (seat_changes.c.recorded_to == END_OF_TIME)
        changes = conn.execute(select(seat_changes.c.holder).where(current)).scalars().all()
    assert len(changes) == len(views.seat(UP, "Bhadohi").history)  # one row per change


@pytest.mark.parametrize(
    ("tamper", "says"),
    [
        (_give_bhadohi_to_bsp, "holder is 'BSP' in the view"),
        (_delete_bhadohi, "missing from the view"),
        (_forge_a_change, "no event implies it"),
    ],
    ids=["updated", "deleted", "inserted"],
)
def test_verify_names_a_tampered_seat_change_and_rebuild_restores_it(
    ledger: str, tamper: Any, says: str
) -> None:
    before = _rows(ledger)
    with write_transaction(get_engine(ledger)) as conn:
        tamper(conn)
    problems = verify(ledger, derived=DerivedChecker(ledger)).problems
    assert {p.kind for p in problems} == {VIEW_SPLITS}, problems
    assert all(p.slug == UP and "seat 'bhadohi'" in p.detail for p in problems), problems
    assert says in problems[0].detail
    LedgerViews(ledger).rebuild()
    assert verify(ledger, derived=DerivedChecker(ledger)).ok
    assert _rows(ledger) == before


def test_views_built_before_seat_changes_were_kept_are_rebuilt_when_opened(ledger: str) -> None:
    before, answer = _rows(ledger), LedgerViews(ledger).seat(UP, "Bhadohi", date(2024, 3, 20))
    with write_transaction(get_engine(ledger)) as conn:
        # The view tables as an older version left them: no seat-changes table.
        conn.exec_driver_sql(f"DROP TABLE {seat_changes.name}")
    assert LedgerViews(ledger).seat(UP, "Bhadohi", date(2024, 3, 20)) == answer
    assert _rows(ledger) == before


def test_a_reader_role_reads_a_seat_from_the_view(pg_url: str, pg_server_url: str) -> None:
    record_example(pg_url, recorded_by="owner", example=SEATS_EXAMPLE)
    owner = LedgerViews(pg_url)
    owner.catch_up()
    suffix = secrets.token_hex(4)
    writer, reader, projector = (f"sl_{role}_{suffix}" for role in ("writer", "reader", "proj"))
    try:
        create_roles(pg_url, writer=writer, reader=reader, projector=projector)
        as_reader = LedgerViews(_as(pg_url, reader))
        assert as_reader.status().lag == 0  # so the answer comes from the table
        assert as_reader.seat(UP, "Bhadohi", date(2024, 3, 20)) == owner.seat(
            UP, "Bhadohi", date(2024, 3, 20)
        )
    finally:
        _drop_roles(pg_server_url, writer, reader, projector)
