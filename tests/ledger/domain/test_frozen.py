"""quick_init: the same objects as the dataclass's own __init__, built faster."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date

import pytest

from ledger.domain.frozen import quick_init
from ledger.domain.moves import Move
from ledger.domain.state import NegotiationState, Offer, Seating


@dataclass(frozen=True, slots=True)
class _Plain:
    a: int
    b: str = "b"
    c: dict[str, int] = field(default_factory=dict)


@quick_init
@dataclass(frozen=True, slots=True)
class _Quick:
    a: int
    b: str = "b"
    c: dict[str, int] = field(default_factory=dict)


def test_same_fields_defaults_and_factories() -> None:
    plain, quick = _Plain(1), _Quick(1)
    assert dataclasses.astuple(plain) == dataclasses.astuple(quick)
    assert quick.c == {} and quick.c is not _Quick(1).c
    assert dataclasses.astuple(_Quick(2, c={"x": 1}, b="z")) == (2, "z", {"x": 1})


def test_still_frozen_and_checks_arguments() -> None:
    move = Move("m", "note", date(2024, 1, 1), 1, source="s")
    with pytest.raises(dataclasses.FrozenInstanceError):
        move.kind = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        Move("m", "note")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Move("m", "note", date(2024, 1, 1), 1, nope=1)  # type: ignore[call-arg]


def test_the_domain_classes_equal_their_fields() -> None:
    move = Move("m", "proposal", date(2024, 1, 1), 3, by="SP", split={"SP": 2})
    assert move == dataclasses.replace(move) and move.confidence == "confirmed"
    assert Offer("m", "SP", {"SP": 2}).named == {}
    assert Seating().settled == {} and Seating().settled is not Seating().settled
    state = NegotiationState(negotiation="n", seats=4)
    assert (state.status, state.offers, dict(state.positions)) == ("unopened", (), {})


def test_refuses_what_it_cannot_copy() -> None:
    @dataclass
    class Mutable:
        a: int

    @dataclass(frozen=True)
    class WithoutSlots:
        a: int

    for cls in (Mutable, WithoutSlots):
        with pytest.raises(TypeError):
            quick_init(cls)
