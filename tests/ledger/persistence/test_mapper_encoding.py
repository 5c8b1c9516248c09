"""Events written straight from their fields are the very bytes model_dump gave.

The mapper writes most events with one orjson call over their fields instead of
`model_dump(mode="json")` and then orjson: the stored bytes (and so the hash chain)
must not change by a single byte, for any event, old or new.
"""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, ClassVar
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest
from eventsourcing.persistence import JSONTranscoder
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic_core import TzInfo

from ledger.application import NegotiationLedger
from ledger.domain import events as ev
from ledger.domain.alliance import AllianceFormed, PartiesRegistered, TalksRegistered
from ledger.domain.events import LedgerEvent
from ledger.domain.negotiation import Negotiation
from ledger.domain.snapshot import StorySnapshot
from ledger.persistence.engine import dispose_engines
from ledger.persistence.mapper import PydanticMapper, _encoding, canonical_json
from ledger.spec_events import EVENT_FOR_TYPE

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "ledger-v1.db"
COLUMNS = {"originator_id", "originator_version"}


def reference(event: LedgerEvent | StorySnapshot) -> bytes:
    """What the mapper stored before it wrote events straight from their fields."""
    state = event.model_dump(mode="json", exclude=COLUMNS)
    version = getattr(type(event), "class_version", 1)
    if version > 1:
        state["class_version"] = version
    return canonical_json(state)


MAPPER = PydanticMapper(transcoder=JSONTranscoder())


def encode(event: LedgerEvent | StorySnapshot) -> bytes:
    return MAPPER.to_stored_event(event).state


_MOVES: set[type[LedgerEvent]] = {
    *EVENT_FOR_TYPE.values(),
    ev.NegotiationOpened,
    ev.AllianceMembershipMirrored,
}
MOVE_CLASSES = [*sorted(_MOVES, key=lambda c: c.__name__), AllianceFormed, TalksRegistered]


@pytest.mark.parametrize("cls", MOVE_CLASSES, ids=lambda c: c.__name__)
def test_move_events_are_written_straight_from_their_fields(cls: type[LedgerEvent]) -> None:
    assert _encoding(cls) is not None


@pytest.mark.parametrize("cls", [ev.MoveCorrected, PartiesRegistered], ids=lambda c: c.__name__)
def test_events_with_nested_or_free_form_fields_go_through_model_dump(
    cls: type[LedgerEvent],
) -> None:
    assert _encoding(cls) is None


def test_every_event_of_the_old_ledger_encodes_as_before(tmp_path: Path) -> None:
    copy = tmp_path / "ledger.db"
    shutil.copy(FIXTURE, copy)
    app = NegotiationLedger(f"sqlite:///{copy}", recorded_by="t")
    try:
        notifications = app.recorder.select_notifications(1, 100_000)
        assert len(notifications) > 20
        for notification in notifications:
            event = app.mapper.to_domain_event(notification)
            assert isinstance(event, LedgerEvent)
            assert encode(event) == reference(event), notification.topic
    finally:
        dispose_engines()


class Versioned(ev.MoveEvent):
    """A later class version: the tag is written as model_dump's path wrote it."""

    class_version: ClassVar[int] = 3
    seats: int


def test_class_version_is_tagged_as_before() -> None:
    event = Versioned(
        originator_id=uuid4(), originator_version=1, timestamp=datetime.now(UTC),
        recorded_by="t", move_id="m", occurred_on=date(2024, 1, 1), seats=3,
    )  # fmt: skip
    assert _encoding(Versioned) is not None
    assert encode(event) == reference(event)
    assert b'"class_version":3' in encode(event)


ZONES = [
    UTC,
    timezone(timedelta(0)),
    timezone(timedelta(hours=5, minutes=30)),
    timezone(timedelta(hours=-9, minutes=-30)),
    timezone(timedelta(seconds=30)),  # pydantic and orjson round this one differently
    timezone(timedelta(hours=-1, seconds=-7)),
    TzInfo(19800),
    TzInfo(0),
    ZoneInfo("Asia/Kolkata"),  # +05:53:28 before 1942
    ZoneInfo("America/St_Johns"),
]
instants = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.sampled_from(ZONES)
)
texts = st.text(max_size=12)


@settings(max_examples=400, deadline=None)
@given(
    on=st.one_of(st.dates(), instants),
    at=instants,
    note=st.one_of(st.none(), texts),
    by=st.sampled_from(["SP", "INC", "A(1)", "x&y"]),
    split=st.dictionaries(st.sampled_from(["SP", "INC", "RJD"]), st.integers(0, 100_000)),
    confidence=st.sampled_from(["confirmed", "reported"]),
)
def test_random_events_encode_as_model_dump_encodes_them(
    on: Any, at: datetime, note: str | None, by: str, split: dict[str, int], confidence: str
) -> None:
    common: dict[str, Any] = {
        "originator_id": uuid4(),
        "originator_version": 7,
        "timestamp": at,
        "recorded_by": "analyst\u00e9",
        "move_id": "m-1",
        "occurred_on": on,
        "note": note,
        "confidence": confidence,
    }
    events: list[LedgerEvent] = [
        ev.ProposalMade(**common, by=by, split=split),
        ev.AgreementReached(**common, split=split, signatories=[by]),
        ev.MeetingHeld(**common, parties=[by], venue=note),
        ev.NoteRecorded(**common, by=None),
        ev.ProposalAccepted(**common, by=by, of=note),
    ]
    for event in events:
        assert encode(event) == reference(event)


def test_snapshots_encode_as_model_dump_encodes_them() -> None:
    up = Negotiation.open(
        negotiation="uttar-pradesh", title="Uttar Pradesh", region="Uttar Pradesh",
        seats=80, parties=["SP", "INC"], move_id="uttar-pradesh/opened",
        occurred_on=date(2024, 1, 9), recorded_by="analyst",
    )  # fmt: skip
    up.record(
        ev.ProposalMade, move_id="p1", occurred_on=datetime(2024, 1, 27, 9, tzinfo=ZONES[2]),
        by="SP", split={"SP": 69, "INC": 11}, recorded_by="analyst\u00e9", note='a "quoted" note',
    )  # fmt: skip
    snapshot = StorySnapshot.take(up)
    assert _encoding(StorySnapshot) is not None
    assert encode(snapshot) == reference(snapshot)


@pytest.mark.parametrize(
    "odd",
    [
        datetime(2024, 1, 1, tzinfo=timezone(timedelta(seconds=30))),
        datetime(2024, 1, 1, tzinfo=UTC),
        date(2024, 1, 1),
        {"a", "b"},
        ("a", 1),
        uuid4(),
        b"bytes",
        float("inf"),
        {1: "int key"},
        [{"deep": [None, True, 1.5]}],
    ],
    ids=repr,
)
def test_free_form_snapshot_state_encodes_as_model_dump_encodes_it(odd: Any) -> None:
    snapshot = StorySnapshot(
        originator_id=uuid4(), originator_version=200, timestamp=datetime.now(UTC),
        topic="ledger.domain.negotiation:Negotiation", state={"slug": "x", "odd": odd},
    )  # fmt: skip
    assert encode(snapshot) == reference(snapshot)
