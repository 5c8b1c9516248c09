"""Hostile input on the command line: exit 2, a message on stderr that names the problem, no
traceback, and a ledger that is unchanged (same log position, same digest)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import event, given
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

from ledger.application import NegotiationLedger
from ledger.timeline.importer import import_timeline
from ledger.timeline.parsing import parse_timeline
from scripts.cli import app as cli
from tests.ledger.timeline.test_hostile_files import FUZZ
from tests.support.hostile import CASE_NAMES, as_yaml, base, case, check_message
from tests.support.killing import ROOT
from tests.support.ledgers import Fingerprint, fingerprint, scale

pytestmark = pytest.mark.reliability  # sized by SEATLEDGER_RELIABILITY_SCALE

# Through a real process in CI; every case at full size.
SUBPROCESS_SAMPLE = (
    "a binary file",
    "a YAML bomb",
    "a 10 MB note",
    "date 20240127",
    "date '2024-02-02T10:00'",
    "seats over the total",
    "a NUL in a note",
)


@pytest.fixture
def url(db_url: str) -> str:
    """A ledger holding the base timeline (talks "seed-up": SP, INC at the table; BSP known)."""
    import_timeline(
        NegotiationLedger(db_url, recorded_by="fuzzer"),
        parse_timeline(as_yaml(base("seed")).decode()),
    )
    return db_url


def invoke(url: str, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--db", url, *args])


def refused_cleanly(
    code: int, stderr: str, url: str, before: Fingerprint, max_lines: int = 2
) -> None:
    """Exit 2, `error: ...` in a few lines, no traceback, nothing written."""
    assert code == 2, (code, stderr)
    assert stderr.startswith("error: "), stderr
    assert "Traceback" not in stderr
    assert 1 <= len(stderr.strip().splitlines()) <= max_lines, stderr
    assert fingerprint(url) == before


def test_import_command_exits_2_naming_the_problem_when_given_a_hostile_file(
    url: str, tmp_path: Path
) -> None:
    failures = []
    for index, name in enumerate(CASE_NAMES):
        if name in SUBPROCESS_SAMPLE:
            continue  # a real process imports these (the 10 MB YAML note alone takes seconds)
        hostile = case(index, prefix=f"c{index}")
        path = tmp_path / "hostile.yaml"
        path.write_bytes(hostile.content)
        before = fingerprint(url)
        result = invoke(url, "import", str(path))
        try:
            refused_cleanly(result.exit_code, result.stderr, url, before, max_lines=8)
            check_message(hostile, result.stderr)
        except AssertionError as failure:
            failures.append(f"{name}: {failure}")
    assert not failures, "\n".join(failures)


@pytest.mark.slow
def test_real_process_exits_2_naming_the_problem_when_given_a_hostile_file(
    url: str, tmp_path: Path
) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    chosen = CASE_NAMES if scale() >= 1 else SUBPROCESS_SAMPLE
    failures = []
    for name in chosen:
        index = CASE_NAMES.index(name)
        hostile = case(index, prefix=f"p{index}")
        path = tmp_path / f"hostile-{index}.yaml"
        path.write_bytes(hostile.content)
        before = fingerprint(url)
        done = subprocess.run(
            [sys.executable, "-m", "scripts.cli", "--db", url, "import", str(path)],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        try:
            refused_cleanly(done.returncode, done.stderr, url, before, max_lines=8)
            check_message(hostile, done.stderr)
        except AssertionError as failure:
            failures.append(f"{name}: {failure}")
    assert not failures, "\n".join(failures)


# -- fuzzing the arguments ------------------------------------------------------------

HOSTILE = st.one_of(
    st.text(max_size=40),  # any Unicode, control characters included
    st.integers().map(str),
    st.sampled_from(
        [
            "", " ", "-1", "0", "1e400", "NaN", "0x10", "²", "١٢", "9" * 40,
            "'; DROP TABLE seatledger_events; --", "seed-up; DELETE FROM seatledger_moves",
            "SP=", "=5", "SP=-1", "SP=1.5", "SP=5,SP=6", "SP=100000000", "SP=81", "SP=70,INC=11",
            "SP=69,BJP=11", "SP=69,BSP=11", "SP,INC", "SP,SP", "BSP", "S🙂P",
            "2024-13-01", "2024-02-30", "01/02/2024", "20240127", "1706313600", "0000-01-01",
            "9999-12-31", "9999-12-31T23:00-05:00", "0001-01-01T00:00+05:00", "2024-02-02T10:00",
            "2024-02-02T00:00:00", "2024-02-02T10:00+05:30", "x" * 20_000,
        ]
    ),
)  # fmt: skip
NEGOTIATION = st.one_of(st.just("seed-up"), st.just("unknown-talks"), HOSTILE)
PARTY = st.one_of(st.sampled_from(["SP", "INC", "BSP", "BJP"]), HOSTILE)
SPLIT = st.one_of(st.sampled_from(["SP=63,INC=17", "SP=69", "INC=11"]), HOSTILE)
WHEN = st.one_of(st.sampled_from(["2024-02-20", "2024-01-01", "2024-02-25T10:00+05:30"]), HOSTILE)


def outcome_is_clean(url: str, result: Result, before: Fingerprint, writes: bool) -> None:
    """Done (exit 0), or refused cleanly having written nothing; never a crash (exit 1, 3)."""
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    event(f"exit {result.exit_code}")
    if result.exit_code == 0:
        if not writes:
            assert fingerprint(url) == before
        return
    refused_cleanly(result.exit_code, result.stderr, url, before)


def _option(args: list[str], name: str, value: str | None) -> list[str]:
    return args if value is None else [*args, name, value]


PROPOSE = {"NEGOTIATION": "seed-up", "--by": "SP", "--split": "SP=63,INC=17", "--on": "2024-02-20"}


@FUZZ
@given(
    hostile=st.sampled_from([*PROPOSE, "--note", "--source", None]),
    value=HOSTILE,
    split=st.sampled_from(["SP=63,INC=17", "SP=69", "INC=11", "SP=0,INC=80"]),
    on=st.sampled_from(["2024-02-20", "2024-02-25T10:00+05:30", "2024-03-01"]),
)
def test_propose_records_or_exits_2_cleanly_when_an_argument_is_hostile(
    url: str, hostile: str | None, value: str, split: str, on: str
) -> None:
    before = fingerprint(url)
    given_ = {**PROPOSE, "--split": split, "--on": on}
    if hostile is not None:
        given_[hostile] = value
    args = ["propose", given_.pop("NEGOTIATION")]
    for option, text in given_.items():
        args += [option, text]
    outcome_is_clean(url, invoke(url, *args), before, writes=True)


@FUZZ
@given(
    negotiation=NEGOTIATION,
    seats=st.one_of(st.integers().map(str), HOSTILE),
    parties=st.one_of(st.sampled_from(["SP,INC", "SP"]), HOSTILE),
    on=WHEN,
    title=st.none() | HOSTILE,
)
def test_open_opens_or_exits_2_cleanly_when_arguments_are_hostile(
    url: str, negotiation: str, seats: str, parties: str, on: str, title: str | None
) -> None:
    before = fingerprint(url)
    args = ["open", negotiation, "--seats", seats, "--parties", parties, "--on", on]
    result = invoke(url, *_option(args, "--title", title))
    outcome_is_clean(url, result, before, writes=True)


@FUZZ
@given(
    command=st.sampled_from(["split", "history", "accept", "note", "meet", "correct"]),
    target=NEGOTIATION,
    as_of=st.none() | WHEN,
    known_on=st.none() | WHEN,
    extra=st.lists(HOSTILE, max_size=3),
)
def test_commands_answer_or_exit_2_cleanly_when_arguments_are_hostile(
    url: str, command: str, target: str, as_of: str | None, known_on: str | None,
    extra: list[str],
) -> None:  # fmt: skip
    before = fingerprint(url)
    args = [command, target]
    if command in ("split", "history"):
        args = _option(_option(args, "--as-of", as_of), "--known-on", known_on)
    else:
        second = "--by" if command == "accept" else "--note"
        args = _option(_option(args, "--on", as_of), second, known_on)
    result = invoke(url, *args, *extra)
    outcome_is_clean(url, result, before, writes=command not in ("split", "history"))
