"""The storage layer's own promises, on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import sqlite3
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import IntegrityError, OperationalError, StoredEvent
from sqlalchemy import Engine, inspect, select

from ledger.persistence.engine import (
    DatabaseURLError,
    dispose_engines,
    get_engine,
    mask_url,
    normalize_url,
    read_transaction,
    translate_db_errors,
    write_transaction,
)
from ledger.persistence.recorders import (
    GENESIS_HASH,
    DuplicateMoveIdError,
    IndexedStoredEvent,
    SqlApplicationRecorder,
    chain_hash,
)
from ledger.persistence.schema import create_schema, events


def _recorder(url: str) -> SqlApplicationRecorder:
    engine = get_engine(url)
    create_schema(engine)
    return SqlApplicationRecorder(engine)


def _move(negotiation: UUID, version: int, move_id: str | None = None) -> IndexedStoredEvent:
    state = json.dumps({"move_id": move_id, "party": "SP", "seats": {"INC": 11}}).encode()
    return IndexedStoredEvent(negotiation, version, "ledger.domain:OfferMade", state, move_id)


def _stored_chain(engine: Engine, negotiation: UUID) -> list[tuple[int, str, bytes, str]]:
    query = (
        select(events.c.originator_version, events.c.topic, events.c.state, events.c.hash)
        .where(events.c.originator_id == negotiation)
        .order_by(events.c.originator_version)
    )
    with engine.connect() as conn:
        return [(r[0], r[1], bytes(r[2]), r[3]) for r in conn.execute(query)]


def test_hashes_link_events_in_version_order_when_appended_in_batches(db_url: str) -> None:
    recorder = _recorder(db_url)
    negotiation, other = uuid4(), uuid4()
    # Versions out of order in one batch, interleaved with another aggregate.
    recorder.insert_events([_move(negotiation, 2), _move(other, 1), _move(negotiation, 1)])
    recorder.insert_events([_move(negotiation, 3), _move(negotiation, 4)])

    rows = _stored_chain(recorder.engine, negotiation)

    prev = GENESIS_HASH
    for version, topic, state, stored_hash in rows:
        prev = chain_hash(prev, topic, str(negotiation), version, state)
        assert stored_hash == prev
    assert [r[0] for r in rows] == [1, 2, 3, 4]


def test_chain_hash_depends_on_the_previous_hash_when_recomputed() -> None:
    negotiation = uuid4()
    first = chain_hash(GENESIS_HASH, "t", negotiation, 1, b"{}")
    assert first == chain_hash(GENESIS_HASH, "t", str(negotiation), 1, b"{}")
    assert chain_hash(first, "t", negotiation, 2, b"{}") != chain_hash(
        GENESIS_HASH, "t", negotiation, 2, b"{}"
    )


def test_duplicate_move_id_is_refused_and_nothing_written_when_another_aggregate_has_it(
    db_url: str,
) -> None:
    recorder = _recorder(db_url)
    up, bihar = uuid4(), uuid4()
    recorder.insert_events([_move(up, 1, "UP-001")])
    before = recorder.max_notification_id()

    with pytest.raises(DuplicateMoveIdError) as caught:
        recorder.insert_events([_move(bihar, 1, "BR-001"), _move(bihar, 2, "UP-001")])

    assert caught.value.move_ids == ["UP-001"]
    assert "UP-001" in str(caught.value)
    assert recorder.select_events(bihar) == []
    assert recorder.find_moves(["BR-001", "UP-001"]) == {"UP-001": (up, 1)}
    assert recorder.max_notification_id() == before


def test_duplicate_move_id_is_refused_when_repeated_within_one_batch(db_url: str) -> None:
    recorder = _recorder(db_url)
    negotiation = uuid4()

    with pytest.raises(DuplicateMoveIdError) as caught:
        recorder.insert_events([_move(negotiation, 1, "UP-7"), _move(negotiation, 2, "UP-7")])

    assert caught.value.move_ids == ["UP-7"]
    assert recorder.max_notification_id() is None


def test_plain_integrity_error_is_raised_when_a_version_is_taken(db_url: str) -> None:
    recorder = _recorder(db_url)
    negotiation = uuid4()
    recorder.insert_events([_move(negotiation, 1, "UP-1")])

    with pytest.raises(IntegrityError) as caught:
        recorder.insert_events([_move(negotiation, 1, "UP-2")])

    assert not isinstance(caught.value, DuplicateMoveIdError)
    assert recorder.find_moves(["UP-2"]) == {}


def test_moves_are_found_by_id_when_many_and_oddly_spelled(db_url: str) -> None:
    # SQLite looks ids up through json_each in batches of 10,000: ids with quotes,
    # backslashes, JSON escapes and non-ASCII text must come back exactly.
    recorder = _recorder(db_url)
    negotiation = uuid4()
    odd = ['a"b', "back\\slash", "tab\there", "newline\nid", "été", "😀", "[1]", "%s?"]
    ids = odd + [f"m-{i}" for i in range(12_005)]
    recorder.insert_events([_move(negotiation, v, m) for v, m in enumerate(ids, start=1)])
    asked = [*ids, "missing", 'a"b', "Été"]
    found = recorder.find_moves(asked)
    assert found == {m: (negotiation, v) for v, m in enumerate(ids, start=1)}
    assert recorder.find_moves(["nothing", "here"]) == {}
    assert recorder.find_moves([]) == {}


def test_notification_ids_follow_the_batch_order_when_many_events_are_inserted(
    db_url: str,
) -> None:
    recorder = _recorder(db_url)
    batch = [StoredEvent(uuid4(), 1, f"topic-{i}", b"{}") for i in range(2500)]

    notification_ids = recorder.insert_events(batch)

    assert notification_ids == list(range(1, 2501))
    notifications = recorder.select_notifications(start=None, limit=3000)
    assert [(n.id, n.topic) for n in notifications] == [
        (i + 1, e.topic) for i, e in enumerate(batch)
    ]


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE seatledger_events SET topic = 'forged'",
        "DELETE FROM seatledger_events",
        "UPDATE seatledger_moves SET move_id = 'forged'",
        "DELETE FROM seatledger_moves",
    ],
    ids=["update-events", "delete-events", "update-moves", "delete-moves"],
)
def test_database_refuses_the_change_when_stored_events_are_rewritten(
    db_url: str, statement: str
) -> None:
    recorder = _recorder(db_url)
    negotiation = uuid4()
    recorder.insert_events([_move(negotiation, 1, "UP-1")])

    with (
        pytest.raises(IntegrityError, match="append-only"),
        write_transaction(recorder.engine) as conn,
    ):
        conn.exec_driver_sql(statement)

    assert len(recorder.select_events(negotiation)) == 1
    assert recorder.find_moves(["UP-1"]) == {"UP-1": (negotiation, 1)}


def test_database_refuses_truncate_when_on_postgres(pg_url: str) -> None:
    recorder = _recorder(pg_url)
    recorder.insert_events([_move(uuid4(), 1)])

    with (
        pytest.raises(IntegrityError, match="append-only"),
        write_transaction(recorder.engine) as conn,
    ):
        conn.exec_driver_sql("TRUNCATE seatledger_events")

    assert recorder.max_notification_id() == 1


def test_ledger_made_before_the_move_event_index_gets_it_when_next_opened(db_url: str) -> None:
    from ledger.integrity.verifier import verify
    from ledger.persistence.schema import moves

    recorder = _recorder(db_url)
    negotiation = uuid4()
    recorder.insert_events([_move(negotiation, 1, "up-1"), _move(negotiation, 2, "up-2")])
    (index,) = moves.indexes
    with write_transaction(get_engine(db_url)) as conn:
        conn.exec_driver_sql(f"DROP INDEX {index.name}")

    assert verify(db_url).ok  # without it verify sorts the index instead
    create_schema(get_engine(db_url))

    with read_transaction(get_engine(db_url)) as conn:
        names = {i["name"] for i in inspect(conn).get_indexes(moves.name)}
    assert index.name in names
    assert verify(db_url).ok


def _snapshot_compression(url: str) -> tuple[str, bool]:
    """How the snapshots' state is compressed ('l' lz4, '' the default), and whether the
    server could compress with lz4."""
    query = (
        "SELECT a.attcompression, 'lz4' = ANY(s.enumvals) FROM pg_attribute a, pg_settings s "
        "WHERE a.attrelid = to_regclass('seatledger_snapshots') AND a.attname = 'state' "
        "AND s.name = 'default_toast_compression'"
    )
    with read_transaction(get_engine(url)) as conn:
        method, available = conn.exec_driver_sql(query).one()
    return method, available


def test_snapshots_are_compressed_with_lz4_where_postgres_has_it(pg_url: str) -> None:
    from ledger.persistence.snapshots import SqlSnapshotRecorder

    create_schema(get_engine(pg_url))
    method, available = _snapshot_compression(pg_url)
    assert method == ("l" if available else "")  # a server built without lz4 keeps pglz

    # A ledger made before: it is given lz4 when its owner next opens it.
    with write_transaction(get_engine(pg_url)) as conn:
        conn.exec_driver_sql(
            "ALTER TABLE seatledger_snapshots ALTER COLUMN state SET COMPRESSION default"
        )
    assert _snapshot_compression(pg_url)[0] == ""
    create_schema(get_engine(pg_url))
    assert _snapshot_compression(pg_url)[0] == ("l" if available else "")

    # What is written is read back as it was, compressed (over 2 KB, in the row's TOAST).
    recorder = SqlSnapshotRecorder(get_engine(pg_url))
    state = json.dumps({"moves": [{"move_id": f"m{i}", "seats": i} for i in range(500)]})
    snapshot = StoredEvent(uuid4(), 7, "ledger.domain:Snapshot", state.encode())
    recorder.insert_events([snapshot])
    (found,) = recorder.select_events(snapshot.originator_id)
    assert found.state == snapshot.state
    with read_transaction(get_engine(pg_url)) as conn:
        stored = conn.exec_driver_sql(
            "SELECT pg_column_compression(state), pg_column_size(state) FROM seatledger_snapshots"
        ).one()
    assert stored[0] == ("lz4" if available else "pglz")
    assert stored[1] < len(snapshot.state)


def test_writer_holds_the_write_lock_from_begin_when_on_sqlite(sqlite_url: str) -> None:
    engine = get_engine(sqlite_url)
    create_schema(engine)
    other = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), timeout=0, isolation_level=None)
    try:
        with write_transaction(engine), pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        with read_transaction(engine) as conn:
            conn.execute(select(events.c.notification_id)).all()
            other.execute("BEGIN IMMEDIATE")  # a reader does not block a writer
            other.execute("ROLLBACK")
    finally:
        other.close()


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://alice:s3cr3t-pw@db.example/ledger",
        "postgres://alice:s3cr3t-pw@db.example:5433/ledger?sslmode=require",
        "postgresql+psycopg://alice@db.example/ledger?password=s3cr3t-pw",
    ],
)
def test_password_is_hidden_when_url_is_masked(url: str) -> None:
    masked = mask_url(url)

    assert "s3cr3t-pw" not in masked
    assert "***" in masked
    assert "alice" in masked


def test_password_is_hidden_when_connecting_fails() -> None:
    engine = get_engine("postgresql://alice:s3cr3t-pw@127.0.0.1:1/ledger?connect_timeout=2")

    with pytest.raises(OperationalError) as caught, translate_db_errors():
        engine.connect().close()

    assert "s3cr3t-pw" not in str(caught.value)
    dispose_engines()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///ledger.db", "sqlite:///ledger.db"),
        ("sqlite:////var/lib/ledger.db", "sqlite:////var/lib/ledger.db"),
        ("ledger.db", "sqlite:///ledger.db"),
        ("/var/lib/ledger.db", "sqlite:////var/lib/ledger.db"),
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgres://u:pw@h:5433/db", "postgresql+psycopg://u:pw@h:5433/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
    ],
)
def test_url_is_canonical_when_normalized(url: str, expected: str) -> None:
    assert normalize_url(url) == expected


@pytest.mark.parametrize(
    "url",
    ["mysql://root:s3cr3t-pw@h/db", "postgresql+asyncpg://u@h/db", "sqlite://", ""],
)
def test_url_is_refused_without_leaking_password_when_database_is_unsupported(url: str) -> None:
    with pytest.raises(DatabaseURLError) as caught:
        normalize_url(url)

    assert "s3cr3t-pw" not in str(caught.value)
