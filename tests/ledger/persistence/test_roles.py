"""Least privilege on PostgreSQL: the writer appends, the projector keeps views, readers read."""

from __future__ import annotations

import secrets
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import psycopg
import pytest
from sqlalchemy import Table, delete, insert, select, text, update
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from sqlalchemy.sql import Executable

from ledger import application
from ledger.application import NegotiationLedger
from ledger.domain.errors import InputError
from ledger.domain.events import NoteRecorded
from ledger.domain.folding import as_known
from ledger.domain.negotiation import negotiation_id
from ledger.domain.snapshot import StorySnapshot
from ledger.domain.snapshot_parts import PART_ROWS
from ledger.integrity.verifier import verify
from ledger.persistence.engine import dispose_engines, get_engine
from ledger.persistence.parts import PART_TOPIC
from ledger.persistence.roles import create_roles
from ledger.persistence.schema import TABLES
from ledger.persistence.snapshots import SnapshotIgnoredWarning
from ledger.timeline.document import NoteSpec
from projections.views.verify_snapshots import _differing
from tests.support.example import record_example

EVENTS, MOVES, SNAPSHOTS = TABLES.events, TABLES.moves, TABLES.snapshots
UP = negotiation_id("uttar-pradesh")
VIEW = "seatledger_view_splits"


@dataclass(frozen=True)
class Roles:
    """A ledger with its three roles, and a URL to connect as each."""

    owner_url: str
    writer: str
    reader: str
    projector: str
    writer_url: str
    reader_url: str
    projector_url: str


def _as(url: str, role: str) -> str:
    # Trust authentication: the user name alone is enough, no password.
    return make_url(url).set(username=role, password=None).render_as_string(hide_password=False)


def _drop_roles(server_url: str, *roles: str) -> None:
    # Roles belong to the whole cluster: take back what they were granted, then drop them.
    dispose_engines()
    conninfo = make_url(server_url).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for role in roles:
            if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone():
                conn.execute(f'REASSIGN OWNED BY "{role}" TO CURRENT_USER')
                conn.execute(f'DROP OWNED BY "{role}"')
                conn.execute(f'DROP ROLE "{role}"')


@pytest.fixture
def roles(pg_url: str, pg_server_url: str) -> Iterator[Roles]:
    """The example timeline on PostgreSQL, a projection table, and fresh roles of its own."""
    record_example(pg_url, recorded_by="owner")
    with get_engine(pg_url).begin() as conn:
        conn.exec_driver_sql(f"CREATE TABLE {VIEW} (id serial PRIMARY KEY, party text)")
    suffix = secrets.token_hex(4)
    writer, reader, projector = (f"sl_{r}_{suffix}" for r in ("writer", "reader", "projector"))
    try:
        create_roles(pg_url, writer=writer, reader=reader, projector=projector)
        yield Roles(
            pg_url,
            writer,
            reader,
            projector,
            _as(pg_url, writer),
            _as(pg_url, reader),
            _as(pg_url, projector),
        )
    finally:
        _drop_roles(pg_server_url, writer, reader, projector)


def _refused(url: str, statement: Executable) -> None:
    denied = pytest.raises(sa_exc.ProgrammingError, match="permission denied")
    with denied, get_engine(url).begin() as conn:
        conn.execute(statement)


def test_sqlite_is_refused_with_the_reason_when_roles_are_requested(sqlite_url: str) -> None:
    with pytest.raises(InputError, match="SQLite has no roles") as refused:
        create_roles(sqlite_url)
    assert "triggers" in str(refused.value)


def test_role_name_is_refused_when_it_is_not_a_plain_identifier(pg_url: str) -> None:
    with pytest.raises(InputError, match="not allowed"):
        create_roles(pg_url, writer='w"; DROP TABLE seatledger_events; --')


def test_reader_is_refused_when_it_inserts_into_events(roles: Roles) -> None:
    row = {"originator_id": UP, "originator_version": 99, "topic": "t", "state": b"{}"}
    _refused(roles.reader_url, insert(EVENTS).values(notification_id=10_000, hash="0" * 64, **row))


@pytest.mark.parametrize("table", [EVENTS, MOVES, SNAPSHOTS], ids=["events", "moves", "snapshots"])
def test_reader_is_refused_when_it_updates_or_deletes(roles: Roles, table: Table) -> None:
    _refused(roles.reader_url, update(table).values(originator_version=1))
    _refused(roles.reader_url, delete(table))


def test_reader_is_refused_when_it_writes_a_projection(roles: Roles) -> None:
    _refused(roles.reader_url, text(f"INSERT INTO {VIEW} (party) VALUES ('SP')"))


def test_reader_verifies_the_ledger_when_connected_read_only(roles: Roles) -> None:
    report = verify(roles.reader_url)

    assert report.ok
    assert report.events_checked == 68


@pytest.mark.parametrize("table", [EVENTS, MOVES], ids=["events", "moves"])
def test_writer_is_refused_when_it_updates_or_deletes_events(roles: Roles, table: Table) -> None:
    _refused(roles.writer_url, update(table).values(originator_version=1))
    _refused(roles.writer_url, delete(table))
    _refused(roles.writer_url, text(f"TRUNCATE {table}"))


def test_writer_records_a_move_when_connected_as_the_writer(roles: Roles) -> None:
    app = NegotiationLedger(roles.writer_url, recorded_by="writer")
    note = NoteSpec(type="note", negotiation="uttar-pradesh", on=date(2024, 3, 20), note="seen")

    outcome = app.record(note)

    assert outcome.status == "recorded"
    with get_engine(roles.owner_url).connect() as conn:
        move = conn.execute(
            select(MOVES.c.originator_version).where(MOVES.c.move_id == outcome.move_id)
        )
        assert move.scalar_one() == 11
    assert verify(roles.owner_url).ok


def test_writer_records_in_a_ledger_made_before_the_move_event_index_until_the_owner_adds_it(
    roles: Roles,
) -> None:
    (index,) = MOVES.indexes
    with get_engine(roles.owner_url).begin() as conn:
        conn.exec_driver_sql(f"DROP INDEX {index.name}")
    note = NoteSpec(type="note", negotiation="uttar-pradesh", on=date(2024, 3, 20), note="seen")

    # Only the owner may add an index: the writer opens and records without it.
    outcome = NegotiationLedger(roles.writer_url, recorded_by="writer").record(note)

    assert outcome.status == "recorded"
    assert verify(roles.reader_url).ok
    with get_engine(roles.owner_url).connect() as conn:
        assert conn.execute(text("SELECT to_regclass(:i)"), {"i": index.name}).scalar() is None
    NegotiationLedger(roles.owner_url, recorded_by="owner")
    with get_engine(roles.owner_url).connect() as conn:
        assert conn.execute(text("SELECT to_regclass(:i)"), {"i": index.name}).scalar() is not None


def test_writer_opens_a_ledger_made_before_lz4_snapshots_and_the_owner_gives_it_them(
    roles: Roles,
) -> None:
    compression = (
        "SELECT a.attcompression, 'lz4' = ANY(s.enumvals) FROM pg_attribute a, pg_settings s "
        f"WHERE a.attrelid = to_regclass('{SNAPSHOTS.name}') AND a.attname = 'state' "
        "AND s.name = 'default_toast_compression'"
    )
    with get_engine(roles.owner_url).begin() as conn:
        conn.exec_driver_sql(
            f"ALTER TABLE {SNAPSHOTS.name} ALTER COLUMN state SET COMPRESSION default"
        )
    note = NoteSpec(type="note", negotiation="uttar-pradesh", on=date(2024, 3, 20), note="seen")

    # Only the owner may alter the table: the writer opens and records without lz4.
    outcome = NegotiationLedger(roles.writer_url, recorded_by="writer").record(note)

    assert outcome.status == "recorded"
    with get_engine(roles.owner_url).connect() as conn:
        method, available = conn.exec_driver_sql(compression).one()
    assert method == ""
    NegotiationLedger(roles.owner_url, recorded_by="owner")
    with get_engine(roles.owner_url).connect() as conn:
        assert conn.exec_driver_sql(compression).one()[0] == ("l" if available else "")


def test_writer_is_refused_when_it_writes_a_projection_or_a_snapshot(roles: Roles) -> None:
    _refused(roles.writer_url, text(f"INSERT INTO {VIEW} (party) VALUES ('SP')"))
    _refused(roles.writer_url, update(SNAPSHOTS).values(originator_version=1))
    _refused(roles.writer_url, delete(SNAPSHOTS))
    _refused(roles.writer_url, delete(TABLES.tracking))


def test_writer_keeps_one_latest_snapshot_per_talks_when_it_may_not_delete(
    roles: Roles, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(application, "SNAPSHOT_EVERY", 4)  # UP is at version 10
    app = NegotiationLedger(roles.writer_url, recorded_by="writer")
    for day in range(1, 11):  # versions 11-20: snapshots at 12, 16 and 20
        app.record(
            NoteSpec(type="note", negotiation="uttar-pradesh", on=date(2024, 3, day), note="n")
        )

    with get_engine(roles.owner_url).connect() as conn:
        kept = conn.execute(
            select(SNAPSHOTS.c.originator_version).where(SNAPSHOTS.c.originator_id == UP)
        )
        assert kept.scalars().all() == [20]  # 12 and 16 superseded by the owner's trigger
    # Nothing lost: the events are all there and the snapshot folds to what they say.
    fresh = NegotiationLedger(roles.reader_url)
    from_snapshot: Any = fresh.repository.get(UP)
    stored = fresh.recorder.select_events(UP)
    from_events: Any = as_known(map(fresh.mapper.to_domain_event, stored), None)  # type: ignore[arg-type]
    assert len(stored) == from_snapshot.version == from_events.version == 20

    # What a snapshot of each holds (rows are numbered as they were first written, so
    # compared as loaded, not byte for byte).
    assert _differing(from_snapshot, from_events) == []
    assert verify(roles.reader_url).ok


def test_projector_is_refused_when_it_writes_the_event_log(roles: Roles) -> None:
    row = {"originator_id": UP, "originator_version": 99, "topic": "t", "state": b"{}"}
    _refused(roles.projector_url, insert(EVENTS).values(hash="0" * 64, **row))
    for table in (EVENTS, MOVES):
        _refused(roles.projector_url, update(table).values(originator_version=1))
        _refused(roles.projector_url, delete(table))
        _refused(roles.projector_url, text(f"TRUNCATE {table}"))


def test_projector_rewrites_a_projection_when_rebuilding_it(roles: Roles) -> None:
    with get_engine(roles.projector_url).begin() as conn:
        conn.execute(text(f"INSERT INTO {VIEW} (party) VALUES ('SP'), ('INC')"))
        conn.execute(text(f"UPDATE {VIEW} SET party = 'AAP' WHERE party = 'INC'"))
        conn.execute(text(f"DELETE FROM {VIEW} WHERE party = 'SP'"))
    with get_engine(roles.reader_url).connect() as conn:
        assert conn.execute(text(f"SELECT party FROM {VIEW}")).scalars().all() == ["AAP"]


def test_nothing_is_created_when_roles_are_set_up_again(roles: Roles) -> None:
    again = create_roles(
        roles.owner_url, writer=roles.writer, reader=roles.reader, projector=roles.projector
    )

    assert again.created == ()
    assert VIEW in again.tables
    assert verify(roles.reader_url).ok


def test_password_is_stored_only_as_a_scram_verifier_when_one_is_given(roles: Roles) -> None:
    create_roles(
        roles.owner_url,
        writer=roles.writer,
        reader=roles.reader,
        projector=roles.projector,
        password="s3cr3t-pw",
    )

    with get_engine(roles.owner_url).connect() as conn:
        stored = conn.execute(
            text("SELECT rolpassword FROM pg_authid WHERE rolname = :r"), {"r": roles.writer}
        ).scalar_one()
    assert stored.startswith("SCRAM-SHA-256$4096:")
    assert "s3cr3t-pw" not in stored


def test_writer_stores_a_long_talks_snapshot_in_parts_and_keeps_a_part_stored_twice(
    roles: Roles,
) -> None:
    app = NegotiationLedger(roles.writer_url, recorded_by="writer")
    talks = app.negotiation("uttar-pradesh")
    for i in range(PART_ROWS + 20):
        talks.record(NoteRecorded, move_id=f"w-{i}", occurred_on=date(2024, 3, 1), note="n",
                     recorded_by="writer")  # fmt: skip
    app.save(talks)
    # The same first part again, from a snapshot one version earlier folded from the
    # events: stored once, and no error for a role that may only add rows.
    store = app.snapshots
    assert store is not None
    folded: Any = as_known(map(app.mapper.to_domain_event, app.recorder.select_events(UP)), None)  # type: ignore[arg-type]
    earlier: Any = as_known(
        map(app.mapper.to_domain_event, app.recorder.select_events(UP, lte=folded.version - 1)),  # type: ignore[arg-type]
        None,
    )
    store.recorder.insert_events([store.mapper.to_stored_event(StorySnapshot.take(earlier))])
    with get_engine(roles.owner_url).connect() as conn:
        parts = conn.execute(
            select(SNAPSHOTS.c.originator_version).where(SNAPSHOTS.c.topic == PART_TOPIC)
        ).scalars().all()
    assert parts == [0]
    fresh = NegotiationLedger(roles.reader_url)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SnapshotIgnoredWarning)
        loaded: Any = fresh.repository.get(UP)
    assert loaded.version == folded.version
    assert _differing(loaded, folded) == []
    assert verify(roles.reader_url).ok
