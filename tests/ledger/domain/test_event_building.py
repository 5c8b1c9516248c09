"""Events built without pydantic's validation are the very events validation builds.

`LedgerEvent.checked` skips pydantic when every value is already of its field's exact
type and passes its field's checks, and otherwise hands over to pydantic (None). These
tests hold it to that: for valid and invalid values alike, either it declines or its
event is indistinguishable from the validated one (values, fields set, stored JSON).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from uuid import UUID, uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from ledger.domain import events as ev
from ledger.domain.alliance import AllianceFormed
from ledger.domain.events import LedgerEvent
from ledger.persistence.mapper import canonical_json
from ledger.spec_events import EVENT_FOR_TYPE

MOVE_CLASSES: list[type[LedgerEvent]] = sorted(
    {*EVENT_FOR_TYPE.values(), ev.NegotiationOpened, ev.AllianceMembershipMirrored, AllianceFormed},
    key=lambda cls: cls.__name__,
)


def _common() -> dict[str, Any]:
    return {
        "originator_id": uuid4(),
        "originator_version": 3,
        "timestamp": datetime(2025, 3, 4, 5, 6, 7, 89100, tzinfo=UTC),
        "recorded_by": "analyst",
        "move_id": "m-1",
        "occurred_on": date(2024, 1, 27),
    }


VALID: dict[str, Any] = {
    "by": "SP",
    "split": {"SP": 69, "INC": 11},
    "party": "INC",
    "parties": ["SP", "INC"],
    "signatories": ["SP", "INC"],
    "venue": "Lucknow",
    "in_reply_to": "m-0",
    "of": "m-0",
    "joined": True,
    "mirror_of": "x/joined",
    "negotiation": "uttar-pradesh",
    "title": "Uttar Pradesh",
    "region": "Uttar Pradesh",
    "seats": 80,
    "alliance": "india-bloc",
    "name": "INDIA",
    "members": ["SP", "INC"],
    "names": ["Amethi", "Rae Bareli"],
    "constituencies": ["Amethi", "Rae Bareli"],
    "named": {"INC": ["Amethi"]},
}


def _valid(cls: type[LedgerEvent]) -> dict[str, Any]:
    values = _common()
    for name in cls.model_fields:
        if name in VALID:
            values[name] = VALID[name]
    return values


def _same_as_validated(cls: type[LedgerEvent], values: dict[str, Any]) -> LedgerEvent | None:
    """Build both ways; fail if `checked` built an event validation would not have."""
    fast = cls.checked(dict(values))
    try:
        slow = cls(**values)
    except (ValidationError, TypeError):
        assert fast is None, f"{cls.__name__}: built from values pydantic refuses: {values}"
        return None
    if fast is None:
        return None
    assert type(fast) is type(slow)
    assert fast.__dict__ == slow.__dict__
    assert list(fast.__dict__) == list(slow.__dict__)
    for name, value in fast.__dict__.items():
        assert type(value) is type(slow.__dict__[name]), name
        if isinstance(value, list | dict):
            assert value is not values.get(name), f"{name}: the caller's container, not a copy"
    assert fast.model_fields_set == slow.model_fields_set
    assert fast.__pydantic_extra__ == slow.__pydantic_extra__
    assert fast.__pydantic_private__ == slow.__pydantic_private__
    assert fast == slow
    columns = {"originator_id", "originator_version"}
    assert canonical_json(fast.model_dump(mode="json", exclude=columns)) == canonical_json(
        slow.model_dump(mode="json", exclude=columns)
    )
    return fast


@pytest.mark.parametrize("cls", MOVE_CLASSES, ids=lambda cls: cls.__name__)
def test_every_move_event_is_built_without_pydantic_when_its_values_are_valid(
    cls: type[LedgerEvent],
) -> None:
    assert _same_as_validated(cls, _valid(cls)) is not None


@pytest.mark.parametrize("cls", MOVE_CLASSES, ids=lambda cls: cls.__name__)
def test_defaults_left_out_are_filled_in_as_validation_fills_them(
    cls: type[LedgerEvent],
) -> None:
    values = {k: v for k, v in _valid(cls).items() if cls.model_fields[k].is_required()}
    built = _same_as_validated(cls, values)
    assert built is not None
    again = cls.checked(dict(values))
    for name, value in built.__dict__.items():
        if isinstance(value, list):
            assert again is not None and again.__dict__[name] is not value  # fresh each time


BAD: list[tuple[str, Any]] = [
    ("by", "S P"),
    ("by", ""),
    ("by", None),
    ("by", 7),
    ("party", "x" * 40),
    ("split", {"SP": True}),
    ("split", {"SP": "3"}),
    ("split", {"SP": 3.0}),
    ("split", {"SP": -1}),
    ("split", {1: 3}),
    ("split", [("SP", 3)]),
    ("parties", ["SP", "bad code"]),
    ("parties", "SP"),
    ("parties", {"SP"}),
    ("parties", ("SP", "INC")),
    ("signatories", ("SP",)),
    ("members", ["SP", None]),
    ("seats", -1),
    ("seats", 100_001),
    ("seats", True),
    ("seats", "80"),
    ("negotiation", "no spaces allowed"),
    ("alliance", "-leading-dash"),
    ("joined", 1),
    ("venue", 3),
    ("occurred_on", datetime(2024, 1, 27, 10, 0)),
    ("occurred_on", datetime(2024, 1, 27, 10, 0, tzinfo=timezone(timedelta(hours=5)))),
    ("occurred_on", "2024-01-27"),
    ("occurred_on", 20240127),
    ("timestamp", datetime(2024, 1, 27, 10, 0)),
    ("timestamp", date(2024, 1, 27)),
    ("confidence", "rumoured"),
    ("confidence", "reported"),
    ("source", 12),
    ("note", None),
    ("recorded_by", None),
    ("originator_id", str(UUID(int=5))),
    ("originator_version", "3"),
    ("move_id", 12),
    ("unknown_field", "x"),
]


@pytest.mark.parametrize("cls", MOVE_CLASSES, ids=lambda cls: cls.__name__)
@pytest.mark.parametrize(("name", "value"), BAD, ids=[f"{n}={v!r}" for n, v in BAD])
def test_other_values_are_left_to_pydantic_or_built_exactly_as_it_builds_them(
    cls: type[LedgerEvent], name: str, value: Any
) -> None:
    values = _valid(cls)
    if name not in cls.model_fields and name != "unknown_field":
        return
    values[name] = value
    _same_as_validated(cls, values)


def test_missing_required_fields_are_left_to_pydantic() -> None:
    values = _valid(ev.ProposalMade)
    del values["split"]
    assert ev.ProposalMade.checked(values) is None
    with pytest.raises(ValidationError):
        ev.ProposalMade(**values)


def test_corrections_always_go_through_pydantic() -> None:
    # A nested model (Changes) is not a type `checked` knows: the class is never fast.
    values = {**_common(), "of": "m-0", "changes": ev.Changes(note="x")}
    del values["occurred_on"]
    assert ev.MoveCorrected.checked(values) is None


def test_updated_is_model_copy_with_an_update() -> None:
    event = ev.CounterOfferMade(**_valid(ev.CounterOfferMade))
    fast, slow = (
        event.updated("in_reply_to", "m-9"),
        event.model_copy(update={"in_reply_to": "m-9"}),
    )
    assert fast == slow and fast.model_fields_set == slow.model_fields_set
    assert event.in_reply_to == "m-0"


codes = st.text(alphabet="AB(1).&+-_ z\n", min_size=0, max_size=6)
seats = st.one_of(st.integers(-3, 100_003), st.booleans(), st.floats(0, 5), st.just("4"))


@settings(max_examples=300, deadline=None)
@given(
    by=codes,
    split=st.dictionaries(codes, seats, max_size=3),
    on=st.one_of(
        st.dates(),
        st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30))])),
        st.datetimes(),
    ),
    confidence=st.sampled_from(["confirmed", "reported", "Confirmed"]),
)
def test_random_offers_build_as_validation_builds_them(
    by: str, split: dict[str, Any], on: Any, confidence: str
) -> None:
    values = {**_common(), "occurred_on": on, "by": by, "split": split, "confidence": confidence}
    _same_as_validated(ev.ProposalMade, values)
    _same_as_validated(ev.AgreementReached, {**values, "signatories": [by]} | {"by": None})


@settings(max_examples=200, deadline=None)
@given(parties=st.lists(codes, max_size=4), seats=seats, slug=codes)
def test_random_openings_build_as_validation_builds_them(
    parties: list[str], seats: Any, slug: str
) -> None:
    values = {
        **_common(),
        "negotiation": slug,
        "title": "t",
        "region": "r",
        "seats": seats,
        "parties": parties,
        "alliance": slug or None,
    }
    _same_as_validated(ev.NegotiationOpened, values)
