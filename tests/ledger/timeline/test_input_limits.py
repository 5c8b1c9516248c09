"""The input limits of docs/guarantees.md, at their edges: the last value accepted, the first one
refused naming its field."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from ledger.domain.errors import InputError
from ledger.timeline.parsing import parse_timeline


def timeline(move_id: str = "m1", code: str = "SP", note: str = "n", seats: int = 80) -> str:
    document: dict[str, Any] = {
        "format": "seatledger/timeline@1",
        "parties": [{"code": code, "name": note}],
        "negotiations": [
            {"id": "up", "seats": seats, "parties": [code], "opened_on": "2024-01-09"}
        ],
        "moves": [
            {"id": move_id, "negotiation": "up", "type": "proposal", "on": "2024-01-10",
             "by": code, "split": {code: seats}, "note": note},
        ],
    }  # fmt: skip
    return orjson.dumps(document).decode()


@pytest.mark.parametrize(
    ("field", "at_limit", "over", "named"),
    [
        ("move_id", "m" * 128, "m" * 129, r"\(#1\): id: '.*' is not a valid id"),
        ("code", "P" * 32, "P" * 33, r"code: '.*' is not a valid party code: use 1-32"),
        ("note", "n" * 10_000, "n" * 10_001, r"note: String should have at most 10000 char"),
        ("seats", 100_000, 100_001, r"seats: should be less than or equal to 100000"),
    ],
)
def test_a_value_is_accepted_at_its_limit_and_refused_one_past_it_naming_the_field(
    field: str, at_limit: Any, over: Any, named: str
) -> None:
    assert parse_timeline(timeline(**{field: at_limit})).moves
    with pytest.raises(InputError, match=named):
        parse_timeline(timeline(**{field: over}))
