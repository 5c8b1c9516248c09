"""Hostile timeline files are refused with a message that names the problem, and change nothing."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

from ledger.application import NegotiationLedger
from ledger.domain.errors import InputError, SeatledgerError
from ledger.timeline.document import MAX_FILE_BYTES
from ledger.timeline.importer import ImportReport, import_timeline
from ledger.timeline.parsing import parse_timeline, read_timeline
from tests.support.hostile import (
    CASE_NAMES,
    CONTROL,
    as_json,
    as_yaml,
    base,
    case,
    check_message,
)
from tests.support.ledgers import check_move_index, fingerprint, scaled

pytestmark = pytest.mark.reliability  # sized by SEATLEDGER_RELIABILITY_SCALE

EXAMPLES = scaled(250, minimum=50)
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
_prefixes = itertools.count()


@pytest.fixture
def ledger(db_url: str) -> NegotiationLedger:
    """A ledger that already holds the valid base timeline."""
    app = NegotiationLedger(db_url, recorded_by="fuzzer")
    import_timeline(app, parse_timeline(as_yaml(base("seed")).decode()))
    return app


def attempt(app: NegotiationLedger, path: Path) -> tuple[ImportReport | None, str | None]:
    """Import a file; on a refusal check that nothing changed and return the message."""
    before = fingerprint(app.url)
    try:
        report = import_timeline(app, read_timeline(path), name=path.name)
    except SeatledgerError as error:
        assert fingerprint(app.url) == before, f"a refused import changed the ledger: {error}"
        tally(f"refused: {type(error).__name__}")
        return None, str(error)
    tally("imported")
    return report, None


def tally(outcome: str) -> None:
    """Count outcomes in Hypothesis' statistics (pytest --hypothesis-show-statistics)."""
    if currently_in_test_context():
        event(outcome)


def refusal(app: NegotiationLedger, path: Path) -> str:
    """The message of an import that must be refused."""
    report, message = attempt(app, path)
    assert message is not None, f"{path.name} was imported: {report}"
    return message


def clean(message: str) -> None:
    """A message a terminal shows as it is: a few lines, no control characters."""
    assert "Traceback" not in message
    assert not CONTROL.search(message), f"raw control characters in {message!r}"
    assert message.count("\n") <= 8 and len(message) < 4000, message[:500]


def test_problem_is_named_and_nothing_written_when_a_hostile_file_is_imported(
    ledger: NegotiationLedger, tmp_path: Path
) -> None:
    failures = []
    for index, name in enumerate(CASE_NAMES):
        hostile = case(index, prefix=f"c{index}")
        path = tmp_path / "hostile.yaml"
        path.write_bytes(hostile.content)
        try:
            check_message(hostile, refusal(ledger, path))
        except Exception as failure:  # collect them all: one report names every case that fails
            failures.append(f"{name}: {type(failure).__name__}: {failure}")
    assert not failures, "\n".join(failures)


def test_file_is_refused_unread_when_over_the_size_limit(
    ledger: NegotiationLedger, tmp_path: Path
) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("wb") as sparse:
        sparse.truncate(MAX_FILE_BYTES + 1)  # no disk used: a hole the size of the limit
    assert "byte limit" in refusal(ledger, path)


HOSTILE_TEXT = (
    "'; DROP TABLE seatledger_events; --",
    "Robert'); DELETE FROM seatledger_moves WHERE ('1'='1",
    "सपा ने कांग्रेस को 11 सीटें दीं",
    "🙂 ‮evil‬ ﷽",
    "escape \x1b[31m bell \x07 del \x7f",
    "x" * 10_000,
)


@pytest.mark.parametrize("note", HOSTILE_TEXT, ids=["sql", "sql2", "hindi", "bidi", "ctrl", "max"])
def test_free_text_is_stored_verbatim_when_it_looks_hostile(
    ledger: NegotiationLedger, tmp_path: Path, note: str
) -> None:
    prefix = f"text{next(_prefixes)}"
    timeline = base(prefix)
    timeline["moves"][0]["note"] = note
    timeline["moves"][1]["venue"] = note
    path = tmp_path / "text.json"
    path.write_bytes(as_json(timeline))
    report, message = attempt(ledger, path)
    assert message is None and report is not None and report.recorded == 3
    stored = ledger.negotiation(f"{prefix}-up").recorded
    assert stored[f"{prefix}-sp-offers-11"].note == note
    assert stored[f"{prefix}-they-meet"].venue == note
    check_move_index(ledger.url)


# -- properties -----------------------------------------------------------------------


@FUZZ
@given(
    content=st.one_of(
        st.binary(max_size=4096),
        st.text(max_size=2048).map(str.encode),
        st.text(max_size=2048).map(lambda t: f"format: seatledger/timeline@1\n{t}".encode()),
    )
)
def test_import_refuses_cleanly_or_succeeds_when_given_arbitrary_bytes(
    ledger: NegotiationLedger, tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / "random.yaml"
    path.write_bytes(content)
    _, message = attempt(ledger, path)
    if message is not None:
        clean(message)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=8,
)


def _paths(node: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [at] if at else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*at, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*at, index))
    return found


PATHS = _paths(base())


def mutate(timeline: dict[str, Any], path: tuple[Any, ...], action: str, value: Any) -> None:
    """Replace, delete, or add a key next to, the node at `path`."""
    *parents, last = path
    node: Any = timeline
    for key in parents:
        node = node[key]
    if action == "replace":
        node[last] = value
    elif action == "delete":
        del node[last]
    elif isinstance(node, dict):
        node[f"extra_{abs(hash(str(value))) % 1000}"] = value
    else:
        node.append(value)


def encode(timeline: dict[str, Any], as_text: str) -> bytes:
    """YAML or JSON (YAML when JSON cannot hold a value, e.g. an integer over 64 bits)."""
    if as_text == "json":
        try:
            return as_json(timeline)
        except orjson.JSONEncodeError:
            pass
    return as_yaml(timeline)


@FUZZ
@given(
    path=st.sampled_from(PATHS),
    action=st.sampled_from(["replace", "delete", "add"]),
    value=JSON_VALUES,
    as_text=st.sampled_from(["yaml", "json"]),
)
def test_import_refuses_cleanly_or_lands_whole_when_one_thing_in_a_file_is_broken(
    ledger: NegotiationLedger, tmp_path: Path, path: tuple[Any, ...], action: str, value: Any,
    as_text: str,
) -> None:  # fmt: skip
    prefix = f"m{next(_prefixes)}"
    timeline = base(prefix)
    mutate(timeline, tuple(prefix + k[1:] if k == "t-up" else k for k in path), action, value)
    file = tmp_path / f"mutated.{as_text}"
    file.write_bytes(encode(timeline, as_text))
    report, message = attempt(ledger, file)
    if message is not None:
        clean(message)
    else:
        assert report is not None
        moves = timeline.get("moves") or []
        assert report.recorded + report.unchanged == len(moves)


@FUZZ
@given(seats=st.integers())
def test_seat_count_is_accepted_exactly_when_it_fits_the_pool(
    ledger: NegotiationLedger, tmp_path: Path, seats: int
) -> None:
    prefix = f"s{next(_prefixes)}"
    timeline = base(prefix)
    timeline["moves"][0]["split"] = {"SP": seats, "INC": 11}
    file = tmp_path / "seats.yaml"
    file.write_bytes(as_yaml(timeline))
    _, message = attempt(ledger, file)
    if 0 <= seats <= 80 - 11:
        assert message is None
        assert ledger.negotiation(f"{prefix}-up").state.split == {"SP": seats, "INC": 11}
    else:
        assert message is not None and f"{prefix}-sp-offers-11" in message
        clean(message)


def _expected_on(text: str) -> date | datetime | None:
    """What a date field must read as: an ISO date, or an ISO datetime with an offset."""
    text = text.strip()
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        parsed = datetime.fromisoformat(text)
        if parsed.utcoffset() is None:
            return None
        parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        return None
    return parsed


DATE_TEXT = st.one_of(
    st.dates().map(date.isoformat),
    st.datetimes(timezones=st.timezones()).map(datetime.isoformat),
    st.datetimes().map(datetime.isoformat),  # naive
    st.datetimes(timezones=st.timezones()).map(lambda d: d.strftime("%d/%m/%Y")),
    st.integers(min_value=-(10**12), max_value=10**12).map(str),
    st.text(alphabet="0123456789-:T+Z. ", max_size=32),
)


@FUZZ
@given(on=DATE_TEXT)
def test_date_is_read_as_written_or_refused_naming_the_field_when_fuzzed(
    ledger: NegotiationLedger, tmp_path: Path, on: str
) -> None:
    prefix = f"d{next(_prefixes)}"
    timeline = base(prefix)
    move = timeline["moves"][1]  # the meeting
    move["on"] = on
    file = tmp_path / "dates.json"
    file.write_bytes(as_json(timeline))
    _, message = attempt(ledger, file)
    expected = _expected_on(on)
    if message is None:
        assert expected is not None, f"{on!r} was accepted as a date"
        recorded = ledger.negotiation(f"{prefix}-up").recorded[f"{prefix}-they-meet"].on
        assert recorded == expected
    else:
        clean(message)
        if expected is None:
            assert f"'{prefix}-they-meet' (#2): on" in message, message
        else:  # a valid date that breaks a rule: before the opening, or after the acceptance
            assert "before the talks opened" in message or prefix in message, message


def test_binary_file_is_refused_as_bad_input_when_read(tmp_path: Path) -> None:
    path = tmp_path / "image.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    with pytest.raises(InputError, match="binary file"):
        read_timeline(path)
