"""Tampering by direct SQL, as an owner of the database could, and what verify says about it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import Connection, delete, func, insert, select, text, update
from sqlalchemy import exc as sa_exc

from ledger.application import NegotiationLedger
from ledger.domain.negotiation import negotiation_id
from ledger.integrity import log_reader
from ledger.integrity.digest import digest_in
from ledger.integrity.verifier import (
    BAD_VERSION,
    DIGEST,
    HASH_MISMATCH,
    MISSING_VERSIONS,
    MOVE_INDEX,
    NOTIFICATION_ORDER,
    Problem,
    compute_digest,
    verify,
)
from ledger.persistence.chain import chain_hash
from ledger.persistence.engine import get_engine
from ledger.persistence.schema import TABLES
from ledger.timeline.document import NoteSpec

EVENTS, MOVES = TABLES.events, TABLES.moves
UP = negotiation_id("uttar-pradesh")


@contextmanager
def as_owner(url: str) -> Iterator[Connection]:
    """A transaction of someone who owns the tables and has dropped the append-only triggers."""
    with get_engine(url).begin() as conn:
        for table in (EVENTS.name, MOVES.name):
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql(f"DROP TRIGGER {table}_no_change ON {table}")
            else:
                conn.exec_driver_sql(f"DROP TRIGGER {table}_no_update")
                conn.exec_driver_sql(f"DROP TRIGGER {table}_no_delete")
        yield conn


def stored(conn: Connection, version: int) -> Any:
    """The stored row of one version of the Uttar Pradesh talks."""
    query = select(EVENTS).where(
        EVENTS.c.originator_id == UP, EVENTS.c.originator_version == version
    )
    return conn.execute(query).one()


def at(version: int) -> Any:
    return (EVENTS.c.originator_id == UP) & (EVENTS.c.originator_version == version)


def next_notification_id(conn: Connection) -> int:
    return int(conn.execute(select(func.max(EVENTS.c.notification_id))).scalar_one()) + 1


def found(problems: list[Problem], kind: str) -> list[Problem]:
    return [p for p in problems if p.kind == kind]


def test_ok_when_nobody_touched_the_ledger(example_ledger: str) -> None:
    report = verify(example_ledger)

    assert report.ok, [p.describe() for p in report.problems]
    assert (report.events_checked, report.aggregates, report.problems) == (68, 9, [])
    assert report.summary().startswith("ok: 68 events in 9 aggregates")


def test_changed_seat_number_is_named_when_the_agreement_is_edited_in_place(
    example_ledger: str,
) -> None:
    with as_owner(example_ledger) as conn:
        agreement = stored(conn, 9)
        assert b'"INC":17' in agreement.state
        # Plain SQL string functions (on SQLite the edited state even becomes TEXT).
        edit = (
            "convert_to(replace(convert_from(state, 'UTF8'), :was, :now), 'UTF8')"
            if conn.dialect.name == "postgresql"
            else "replace(state, :was, :now)"
        )
        conn.execute(
            text(f"UPDATE seatledger_events SET state = {edit} WHERE notification_id = :nid"),
            {"was": '"INC":17', "now": '"INC":27', "nid": agreement.notification_id},
        )

    report = verify(example_ledger)

    assert not report.ok
    [problem] = report.problems
    assert (problem.kind, problem.version, problem.move_id) == (HASH_MISMATCH, 9, "up-agreement")
    assert (problem.slug, problem.notification_id) == ("uttar-pradesh", agreement.notification_id)
    assert "negotiation uttar-pradesh, event v9" in problem.describe()
    assert str(UP) in problem.describe()


def test_deleted_middle_event_is_named_when_a_counter_offer_is_removed(example_ledger: str) -> None:
    with as_owner(example_ledger) as conn:
        conn.execute(delete(EVENTS).where(at(5)))

    problems = verify(example_ledger).problems

    [gap] = found(problems, MISSING_VERSIONS)
    assert (gap.version, gap.move_id, gap.slug) == (6, "up-sp-final-offer-17", "uttar-pradesh")
    assert "v5 missing before this event" in gap.describe()
    [index] = found(problems, MOVE_INDEX)
    assert (index.move_id, index.version) == ("up-inc-seeks-25", 5)
    assert len(problems) == 2


def test_deleted_tail_is_named_by_the_digest_when_the_last_moves_are_removed(
    example_ledger: str,
) -> None:
    digest = compute_digest(example_ledger)
    with as_owner(example_ledger) as conn:
        # A careful attacker removes the move-index rows too: the chain that is
        # left is whole, and only the digest remembers how far it went.
        moves = [stored(conn, 9).state, stored(conn, 10).state]
        conn.execute(delete(EVENTS).where(at(9) | at(10)))
        conn.execute(
            delete(MOVES).where(MOVES.c.originator_id == UP, MOVES.c.originator_version > 8)
        )
    assert b"up-agreement" in moves[0]

    assert verify(example_ledger).ok
    report = verify(example_ledger, digest=digest)

    assert not report.ok
    tail = next(p for p in report.problems if p.aggregate_id == str(UP))
    assert (tail.kind, tail.version, tail.slug) == (DIGEST, 10, "uttar-pradesh")
    assert "ends at v8: versions 9-10 deleted" in tail.describe()


def test_deleted_aggregate_is_named_by_the_digest_when_all_its_events_are_removed(
    example_ledger: str,
) -> None:
    digest = compute_digest(example_ledger)
    gujarat = negotiation_id("gujarat")
    with as_owner(example_ledger) as conn:
        conn.execute(delete(EVENTS).where(EVENTS.c.originator_id == gujarat))
        conn.execute(delete(MOVES).where(MOVES.c.originator_id == gujarat))

    assert verify(example_ledger).ok  # every chain left is whole
    problems = verify(example_ledger, digest=digest).problems

    [gone, root] = problems
    assert (gone.kind, gone.aggregate_id, root.kind) == (DIGEST, str(gujarat), DIGEST)
    assert "holds none of its events (deleted)" in gone.describe()
    assert "1 of its 9 heads no longer exist" in root.describe()


def test_both_events_are_named_when_two_are_swapped(example_ledger: str) -> None:
    with as_owner(example_ledger) as conn:
        offer, counter = stored(conn, 3), stored(conn, 5)
        conn.execute(update(EVENTS).where(at(3)).values(topic=counter.topic, state=counter.state))
        conn.execute(update(EVENTS).where(at(5)).values(topic=offer.topic, state=offer.state))

    problems = verify(example_ledger).problems

    mismatched = found(problems, HASH_MISMATCH)
    assert [(p.version, p.move_id) for p in mismatched] == [
        (3, "up-inc-seeks-25"),
        (5, "up-sp-offers-11"),
    ]
    assert {p.move_id for p in found(problems, MOVE_INDEX)} == {
        "up-sp-offers-11",
        "up-inc-seeks-25",
    }


def test_reordered_pair_is_named_when_notification_ids_are_exchanged(example_ledger: str) -> None:
    with as_owner(example_ledger) as conn:
        first, second = stored(conn, 3).notification_id, stored(conn, 4).notification_id
        conn.execute(update(EVENTS).where(at(3)).values(notification_id=-1))
        conn.execute(update(EVENTS).where(at(4)).values(notification_id=first))
        conn.execute(update(EVENTS).where(at(3)).values(notification_id=second))

    [problem] = verify(example_ledger).problems

    assert (problem.kind, problem.version, problem.notification_id) == (
        NOTIFICATION_ORDER,
        4,
        first,
    )


def test_event_is_named_when_its_type_alone_is_changed_in_place(example_ledger: str) -> None:
    with as_owner(example_ledger) as conn:
        versions = {stored(conn, v).topic: v for v in range(2, 11)}
        offer = stored(conn, 3)
        other = next(topic for topic in versions if topic != offer.topic)
        conn.execute(update(EVENTS).where(at(3)).values(topic=other))

    problems = verify(example_ledger).problems

    assert {(p.kind, p.version) for p in problems if p.slug == "uttar-pradesh"} == {
        (HASH_MISMATCH, 3)
    }


def test_event_is_named_when_it_is_moved_to_other_talks(example_ledger: str) -> None:
    delhi = negotiation_id("delhi")
    with as_owner(example_ledger) as conn:
        count = select(func.count()).where(EVENTS.c.originator_id == delhi)
        version = int(conn.execute(count).scalar_one()) + 1
        conn.execute(update(EVENTS).where(at(4)).values(originator_id=delhi,
                                                       originator_version=version))  # fmt: skip

    problems = verify(example_ledger).problems

    kinds = {(p.kind, p.slug, p.version) for p in problems}
    assert (HASH_MISMATCH, "delhi", version) in kinds  # where it landed
    assert (MISSING_VERSIONS, "uttar-pradesh", 5) in kinds  # where it was taken from


def test_forged_event_is_named_when_its_hash_is_made_up(example_ledger: str) -> None:
    state = b'{"by":"INC","move_id":"up-forged-30","note":"INC gets 30 seats"}'
    with as_owner(example_ledger) as conn:
        conn.execute(insert(EVENTS).values(
            notification_id=next_notification_id(conn), originator_id=UP, originator_version=11,
            topic=stored(conn, 7).topic, state=state, hash="ab" * 32,
        ))  # fmt: skip

    [problem] = verify(example_ledger).problems

    assert (problem.kind, problem.version, problem.move_id) == (HASH_MISMATCH, 11, "up-forged-30")


def test_forged_event_is_named_when_its_version_does_not_extend_the_chain(
    example_ledger: str,
) -> None:
    with as_owner(example_ledger) as conn:
        first = stored(conn, 1)
        conn.execute(insert(EVENTS).values(
            notification_id=next_notification_id(conn), originator_id=UP, originator_version=0,
            topic=first.topic, state=first.state, hash=first.hash,
        ))  # fmt: skip

    [problem] = verify(example_ledger).problems

    assert (problem.kind, problem.version, problem.slug) == (BAD_VERSION, 0, "uttar-pradesh")


def test_rehashed_forgery_is_named_by_the_digest_when_it_replaces_the_last_move(
    example_ledger: str,
) -> None:
    digest = compute_digest(example_ledger)
    with as_owner(example_ledger) as conn:
        # Rewrite the last move with a hash that chains correctly: the chain
        # alone cannot tell, the digest taken before can.
        last, before = stored(conn, 10), stored(conn, 9)
        forged = last.state.replace(b'"retract":false', b'"retract":true')
        rehashed = chain_hash(before.hash, last.topic, UP, 10, forged)
        conn.execute(delete(EVENTS).where(at(10)))
        conn.execute(insert(EVENTS).values(
            notification_id=next_notification_id(conn), originator_id=UP, originator_version=10,
            topic=last.topic, state=forged, hash=rehashed,
        ))  # fmt: skip
    assert forged != last.state

    assert verify(example_ledger).ok
    problems = verify(example_ledger, digest=digest).problems

    named = [p for p in problems if p.version == 10]
    assert {p.kind for p in named} == {DIGEST}
    assert {p.slug for p in named} == {"uttar-pradesh"}
    assert any("rewritten" in p.describe() for p in named)
    assert any("written again" in p.describe() for p in named)


def test_head_is_named_when_its_hash_is_overwritten_with_anything(example_ledger: str) -> None:
    digest = compute_digest(example_ledger)
    with as_owner(example_ledger) as conn:
        conn.execute(update(EVENTS).where(at(10)).values(hash="forged"))

    problems = verify(example_ledger, digest=digest).problems

    assert {(p.kind, p.version) for p in problems if p.aggregate_id} == {
        (HASH_MISMATCH, 10),
        (DIGEST, 10),
    }


def test_move_index_row_is_named_when_it_points_at_no_event(example_ledger: str) -> None:
    with as_owner(example_ledger) as conn:
        conn.execute(
            insert(MOVES).values(move_id="up-ghost", originator_id=UP, originator_version=99)
        )

    [problem] = verify(example_ledger).problems

    assert (problem.kind, problem.move_id, problem.version) == (MOVE_INDEX, "up-ghost", 99)


def test_event_slipped_into_the_past_a_digest_covered_is_named_as_inserted(
    example_ledger: str,
) -> None:
    with as_owner(example_ledger) as conn:
        # A gap in the log's ids, as PostgreSQL leaves after a rolled-back append.
        last = conn.execute(select(EVENTS).order_by(EVENTS.c.notification_id.desc())).first()
        assert last is not None and last.originator_id != UP
        gap = last.notification_id
        conn.execute(
            update(EVENTS).where(EVENTS.c.notification_id == gap).values(notification_id=gap + 50)
        )
    digest = compute_digest(example_ledger)
    assert verify(example_ledger, digest=digest).ok
    with get_engine(example_ledger).begin() as conn:  # the triggers are gone already
        head = stored(conn, 10)  # a correction: forge another, with its move-index row
        state = head.state.replace(b'"up-sp-offer-split-corrected"', b'"up-forged-late"')
        assert state != head.state
        conn.execute(insert(EVENTS).values(
            notification_id=gap, originator_id=UP, originator_version=11, topic=head.topic,
            state=state, hash=chain_hash(head.hash, head.topic, UP, 11, state),
        ))  # fmt: skip
        conn.execute(
            insert(MOVES).values(move_id="up-forged-late", originator_id=UP, originator_version=11)
        )

    assert verify(example_ledger).ok  # a well-chained event: only the digest can tell
    problems = verify(example_ledger, digest=digest).problems

    [problem] = problems
    assert (problem.kind, problem.slug, problem.version) == (DIGEST, "uttar-pradesh", 11)
    assert "inserted" in problem.describe()


def test_ok_with_the_digest_when_moves_are_recorded_after_it(example_ledger: str) -> None:
    digest = compute_digest(example_ledger)
    note = NoteSpec(type="note", negotiation="uttar-pradesh", on=date(2024, 3, 20), note="later")
    NegotiationLedger(example_ledger, recorded_by="analyst").record(note)

    report = verify(example_ledger, digest=digest)

    assert report.ok, [p.describe() for p in report.problems]
    assert report.events_checked == 69
    assert "is still there" in report.summary()


def test_digest_taken_while_moves_are_recorded_is_exact_for_its_position(
    example_ledger: str,
) -> None:
    def record(count: int) -> None:
        app = NegotiationLedger(example_ledger, recorded_by="writer")
        for n in range(count):
            talks = "uttar-pradesh" if n % 2 else "delhi"
            app.record(NoteSpec(type="note", negotiation=talks, on=date(2024, 3, 20), note=f"{n}"))

    writer = threading.Thread(target=record, args=(150,))
    writer.start()
    digests = []
    while writer.is_alive():
        digests.append(compute_digest(example_ledger))
    writer.join()

    distinct = list({digest.position: digest for digest in digests}.values())
    assert len(distinct) >= 2  # taken while the log grew
    for digest in distinct[:: max(1, len(distinct) // 12)]:
        assert verify(example_ledger, digest=digest).ok
        with log_reader.ledger_snapshot(example_ledger) as conn:
            then = digest_in(conn, at=digest.position)
        assert (then.root, then.events, then.heads) == (digest.root, digest.events, digest.heads)


def test_digest_is_named_when_its_own_root_was_altered(example_ledger: str) -> None:
    digest = compute_digest(example_ledger)
    altered = digest.model_copy(update={"root": "0" * 64})

    [problem] = verify(example_ledger, digest=altered).problems

    assert problem.kind == DIGEST
    assert problem.describe().startswith("digest: the digest's root does not match")


def test_every_problem_is_named_when_the_log_spans_many_pages(
    example_ledger: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    digest = compute_digest(example_ledger)
    monkeypatch.setattr(log_reader, "PAGE_SIZE", 4)
    monkeypatch.setattr(log_reader, "FETCH_SIZE", 4)
    with as_owner(example_ledger) as conn:
        for version in (4, 8):
            edited = stored(conn, version).state + b" "
            conn.execute(update(EVENTS).where(at(version)).values(state=edited))
    seen: list[tuple[int, int]] = []

    report = verify(example_ledger, progress=lambda done, total: seen.append((done, total)))

    assert compute_digest(example_ledger).heads == digest.heads  # heads read in pages of 4 too
    assert report.events_checked == 68
    assert [p.version for p in found(report.problems, HASH_MISMATCH)] == [4, 8]
    assert seen[-1][0] == seen[-1][1] and len(seen) > 10


@pytest.mark.parametrize("table", [EVENTS, MOVES], ids=["events", "moves"])
def test_triggers_refuse_when_a_row_is_updated(example_ledger: str, table: Any) -> None:
    with (
        pytest.raises(sa_exc.IntegrityError, match="append-only"),
        get_engine(example_ledger).begin() as c,
    ):
        c.execute(update(table).values(originator_version=table.c.originator_version + 1))


@pytest.mark.parametrize("table", [EVENTS, MOVES], ids=["events", "moves"])
def test_triggers_refuse_when_a_row_is_deleted(example_ledger: str, table: Any) -> None:
    with (
        pytest.raises(sa_exc.IntegrityError, match="append-only"),
        get_engine(example_ledger).begin() as c,
    ):
        c.execute(delete(table))


@pytest.mark.parametrize(
    "ghost",
    ["00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff"],
    ids=["before-every-aggregate", "after-every-aggregate"],
)
def test_move_index_row_is_named_when_its_aggregate_has_no_events(
    example_ledger: str, ghost: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The index is read in the log's order alongside it: rows sorting before the first
    # aggregate, after the last, or (in pages of 4) anywhere between must all be seen.
    monkeypatch.setattr(log_reader, "FETCH_SIZE", 4)
    with as_owner(example_ledger) as conn:
        conn.execute(
            insert(MOVES).values(move_id="ghost", originator_id=UUID(ghost), originator_version=1)
        )

    [problem] = verify(example_ledger).problems

    assert (problem.kind, problem.move_id, problem.aggregate_id) == (MOVE_INDEX, "ghost", ghost)
    assert (problem.version, problem.notification_id) == (1, None)


def test_move_index_rows_are_named_when_two_point_at_one_event(example_ledger: str) -> None:
    with as_owner(example_ledger) as conn:
        nid = stored(conn, 9).notification_id
        conn.execute(insert(MOVES).values(
            move_id="up-forged-index", originator_id=UP, originator_version=9,
        ))  # fmt: skip

    [problem] = verify(example_ledger).problems

    assert (problem.kind, problem.move_id, problem.version) == (MOVE_INDEX, "up-forged-index", 9)
    assert problem.notification_id == nid
    assert "the event says 'up-agreement'" in problem.describe()


def test_move_index_problems_are_named_in_move_id_order(example_ledger: str) -> None:
    with as_owner(example_ledger) as conn:
        for move_id, version in (("zz-ghost", 98), ("aa-ghost", 99), ("mm-ghost", 97)):
            conn.execute(
                insert(MOVES).values(move_id=move_id, originator_id=UP, originator_version=version)
            )

    problems = verify(example_ledger).problems

    assert [p.move_id for p in problems] == ["aa-ghost", "mm-ghost", "zz-ghost"]


def test_duplicated_version_is_named_when_the_unique_constraint_was_dropped(
    example_ledger: str,
) -> None:
    with as_owner(example_ledger) as conn:
        if conn.dialect.name != "postgresql":
            pytest.skip("SQLite cannot drop a table's constraint")
        conn.exec_driver_sql(f"ALTER TABLE {EVENTS.name} DROP CONSTRAINT {EVENTS.name}_version_key")
        copy = stored(conn, 4)
        conn.execute(insert(EVENTS).values(
            notification_id=next_notification_id(conn), originator_id=UP, originator_version=4,
            topic=copy.topic, state=copy.state, hash=copy.hash,
        ))  # fmt: skip

    problems = verify(example_ledger).problems

    # The copy comes after the original (notification ids break the tie): it is the
    # one that does not extend the chain, and its move is checked against the index.
    assert [(p.kind, p.version) for p in problems] == [(BAD_VERSION, 4)]
    assert problems[0].notification_id != copy.notification_id
