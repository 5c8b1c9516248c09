"""JSON timelines are validated straight from their bytes; errors read as they always did."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from ledger.domain.errors import InputError
from ledger.timeline.parsing import parse_timeline, read_timeline


def _document(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "format": "seatledger/timeline@1",
        "parties": [{"code": "SP"}, {"code": "INC"}],
        "negotiations": [
            {"id": "up", "seats": 80, "parties": ["SP", "INC"], "opened_on": "2024-01-09"}
        ],
        "moves": [
            {"id": "sp-offer", "negotiation": "up", "type": "proposal", "on": "2024-01-20",
             "by": "SP", "split": {"SP": 63, "INC": 17}},
            {"negotiation": "up", "type": "note", "on": "2024-01-21T10:00:00+05:30",
             "note": "talks resume"},
        ],
    }  # fmt: skip
    document.update(changes)
    return document


def _read(tmp_path: Path, document: object) -> Any:
    path = tmp_path / "timeline.json"
    path.write_text(json.dumps(document) if not isinstance(document, str) else document)
    return read_timeline(path)


def _refused(tmp_path: Path, document: object) -> str:
    with pytest.raises(InputError) as error:
        _read(tmp_path, document)
    return str(error.value)


def test_a_json_file_reads_as_the_same_timeline_as_its_text(tmp_path: Path) -> None:
    timeline = _read(tmp_path, _document())
    assert timeline == parse_timeline(json.dumps(_document()))
    assert timeline.moves[0].on == date(2024, 1, 20)
    assert timeline.moves[1].on.utcoffset() is not None


def test_a_bad_field_names_the_move_and_the_field(tmp_path: Path) -> None:
    document = _document()
    document["moves"][0]["split"]["SP"] = "many"
    message = _refused(tmp_path, document)
    assert "move 'sp-offer' (#1): split.SP" in message


def test_a_move_without_id_is_named_by_its_place(tmp_path: Path) -> None:
    document = _document()
    document["moves"][1]["on"] = 20240121
    message = _refused(tmp_path, document)
    assert "move #2: on" in message and "is not a date" in message


def test_wrong_format_unknown_field_and_broken_json_are_refused(tmp_path: Path) -> None:
    assert "format must be 'seatledger/timeline@1'" in _refused(
        tmp_path, _document(format="other@1")
    )
    document = _document()
    document["moves"][0]["colour"] = "red"
    assert "move 'sp-offer' (#1): unknown field 'colour'" in _refused(tmp_path, document)
    assert "not valid YAML or JSON" in _refused(tmp_path, '{"format": "seatledger/timeline@1",')


def test_references_are_checked_after_a_json_parse(tmp_path: Path) -> None:
    document = _document()
    document["moves"][0]["by"] = "RLD"
    message = _refused(tmp_path, document)
    assert "party 'RLD' is not in the file's parties list" in message


def test_each_spec_keeps_its_own_given_fields(tmp_path: Path) -> None:
    document = _document()
    document["moves"].append(
        {"negotiation": "up", "type": "note", "on": "2024-01-22", "note": "again"}
    )
    timeline = _read(tmp_path, document)
    first, second = timeline.moves[1], timeline.moves[2]
    assert (
        first.model_fields_set == second.model_fields_set == {"negotiation", "type", "on", "note"}
    )
    changed = first.model_copy(update={"by": "SP"})
    assert "by" in changed.model_fields_set and "by" not in second.model_fields_set
    assert second.model_dump(exclude_unset=True)["note"] == "again"
    assert set(timeline.moves[0].model_dump(exclude_unset=True)) == {
        "id", "negotiation", "type", "on", "by", "split"
    }  # fmt: skip


@pytest.mark.parametrize(
    "twice",
    [
        '"format": "seatledger/timeline@1", "format": "seatledger/timeline@1"',
        '"moves": [{"id": "a", "note": "x", "note": "y"}]',
    ],
    ids=["top-level", "in-a-move"],
)
def test_json_file_giving_a_key_twice_is_refused_naming_the_key(tmp_path: Path, twice: str) -> None:
    text = json.dumps(_document())[:-1] + ", " + twice + "}"
    key = "format" if "format" in twice else "note"
    with pytest.raises(InputError, match=f"'{key}' is given twice"):
        _read(tmp_path, text)
    with pytest.raises(InputError, match=f"'{key}' is given twice"):
        parse_timeline(text)


@pytest.mark.parametrize(
    ("move", "named"),
    [
        ({"type": "proposal", "by": "RLD", "split": {"SP": 63, "INC": 17}}, "'RLD'"),
        ({"type": "proposal", "by": "SP", "split": {"SP": 63, "RLD": 17}}, "'RLD'"),
        ({"type": "party_joined", "party": "RLD"}, "'RLD'"),
        ({"type": "meeting", "parties": ["SP", "RLD"]}, "'RLD'"),
        ({"type": "agreement", "split": {"SP": 63, "INC": 17}, "signatories": ["RLD"]}, "'RLD'"),
        ({"type": "note", "note": "x", "by": "RLD"}, "'RLD'"),
    ],
)
def test_every_field_that_names_a_party_is_checked(
    tmp_path: Path, move: dict[str, Any], named: str
) -> None:
    document = _document()
    document["moves"].append({"negotiation": "up", "on": "2024-01-22", **move})
    assert f"move #3: party {named} is not in the file's parties list" in _refused(
        tmp_path, document
    )


def test_a_move_naming_an_alliance_the_file_lacks_is_refused(tmp_path: Path) -> None:
    document = _document()
    document["moves"].append(
        {"negotiation": "up", "on": "2024-01-22", "type": "note", "note": "x", "alliance": "nda"}
    )
    assert "move #3: alliance 'nda' is not one of the file's" in _refused(tmp_path, document)
