"""Stored events outlive their classes: a v1 event loads under v2 through its upcast."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar
from uuid import uuid4

import pytest
from eventsourcing.utils import _topic_cache

from ledger.application import NegotiationLedger
from ledger.domain.events import LedgerEvent
from ledger.persistence.mapper import PydanticMapper
from ledger.persistence.recorders import IndexedStoredEvent


class SeatsPledgedV1(LedgerEvent):
    """Version 1: a pledge counted in a field called `amount`."""

    amount: int


class SeatsPledgedV2(LedgerEvent):
    """Version 2: `amount` became `seats`, and a `region` was added."""

    class_version: ClassVar[int] = 2
    seats: int
    region: str

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["seats"] = state.pop("amount")
        state["region"] = "unknown"


SeatsPledged: type[LedgerEvent] = SeatsPledgedV1
TOPIC = f"{__name__}:SeatsPledged"


@pytest.fixture
def pledge_class(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Swap the class behind the stored topic, as a later release would."""

    def use(cls: type[LedgerEvent]) -> None:
        cls.__qualname__ = "SeatsPledged"
        monkeypatch.setitem(globals(), "SeatsPledged", cls)
        _topic_cache.pop(TOPIC, None)

    yield use
    _topic_cache.pop(TOPIC, None)


def test_event_stored_as_v1_loads_as_v2_when_the_class_has_moved_on(
    db_url: str, pledge_class: Any
) -> None:
    app = NegotiationLedger(db_url, recorded_by="analyst")
    pledge_class(SeatsPledgedV1)
    aggregate_id = uuid4()
    old = SeatsPledgedV1(
        originator_id=aggregate_id, originator_version=1, timestamp=datetime.now(UTC),
        recorded_by="analyst", amount=17,
    )  # fmt: skip
    stored = app.mapper.to_stored_event(old)
    assert stored.topic == TOPIC and b"class_version" not in stored.state
    app.recorder.insert_events([stored])

    pledge_class(SeatsPledgedV2)
    (loaded,) = list(app.events.get(aggregate_id))
    assert isinstance(loaded, SeatsPledgedV2)
    assert (loaded.seats, loaded.region, loaded.recorded_by) == (17, "unknown", "analyst")


def test_v2_event_records_its_class_version_and_needs_no_upcast(pledge_class: Any) -> None:
    pledge_class(SeatsPledgedV2)
    mapper = PydanticMapper(transcoder=None)  # type: ignore[arg-type]
    event = SeatsPledgedV2(
        originator_id=uuid4(), originator_version=1, timestamp=datetime.now(UTC),
        recorded_by="analyst", seats=3, region="Delhi",
    )  # fmt: skip
    stored = mapper.to_stored_event(event)
    assert isinstance(stored, IndexedStoredEvent) and b'"class_version":2' in stored.state
    assert mapper.to_domain_event(stored) == event
