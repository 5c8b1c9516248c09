"""Refused input: exit 2, one or two lines on stderr naming the problem, nothing written."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from ledger.application import NegotiationLedger
from scripts.cli import app

Run = Callable[..., Result]

SMALL = """\
format: seatledger/timeline@1
parties: [{code: SP}, {code: INC}]
negotiations:
  - {id: uttar-pradesh, seats: 80, parties: [SP, INC], opened_on: 2024-01-09}
moves:
  - {id: up-sp-offers-11, negotiation: uttar-pradesh, type: proposal, "on": 2024-01-27, by: SP,
     split: {SP: 69, INC: 11}}
"""


@pytest.fixture
def run(db_url: str) -> Run:
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(app, ["--db", db_url, *args])

    return invoke


@pytest.fixture
def ledger_with_up(run: Run, tmp_path: Path) -> Path:
    path = tmp_path / "small.yaml"
    path.write_text(SMALL)
    assert run("import", str(path)).exit_code == 0
    return tmp_path


def head(url: str) -> int | None:
    return NegotiationLedger(url).recorder.max_notification_id()


def refused(result: Result, *needles: str) -> None:
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert 1 <= len(lines) <= 2, result.stderr
    for needle in needles:
        assert needle in result.stderr, result.stderr


def test_a_malformed_file_is_refused_naming_the_move_and_field(
    run: Run, db_url: str, ledger_with_up: Path
) -> None:
    bad = ledger_with_up / "bad.yaml"
    bad.write_text(
        SMALL.replace('"on": 2024-01-27', '"on": 27-01-2024').replace("up-sp-offers-11", "up-x")
    )
    before = head(db_url)
    refused(run("import", str(bad)), "up-x", "on")
    assert head(db_url) == before


def test_a_file_that_is_not_yaml_is_refused(run: Run, db_url: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("format: [unclosed\n")
    refused(run("import", str(bad)), "not valid YAML or JSON")


def test_a_missing_file_is_refused(run: Run, tmp_path: Path) -> None:
    refused(run("import", str(tmp_path / "nope.yaml")), "nope.yaml", "cannot read")


def test_an_unknown_party_is_refused(run: Run, db_url: str, ledger_with_up: Path) -> None:
    before = head(db_url)
    result = run(
        "propose", "uttar-pradesh", "--by", "RLD", "--split", "RLD=7", "--on", "2024-01-28"
    )
    refused(result, "unknown party 'RLD'")
    assert head(db_url) == before


def test_a_split_over_the_seat_total_is_refused(
    run: Run, db_url: str, ledger_with_up: Path
) -> None:
    before = head(db_url)
    result = run(
        "propose", "uttar-pradesh", "--by", "INC", "--split", "SP=60,INC=25", "--on", "2024-02-06"
    )
    refused(result, "85 seats", "only 80")
    assert head(db_url) == before


def test_a_date_in_a_wrong_format_is_refused_naming_the_option(
    run: Run, db_url: str, ledger_with_up: Path
) -> None:
    before = head(db_url)
    result = run(
        "propose", "uttar-pradesh", "--by", "INC", "--split", "INC=20", "--on", "06/02/2024"
    )
    refused(result, "--on", "06/02/2024")
    assert head(db_url) == before


def test_a_move_that_breaks_the_rules_is_refused(
    run: Run, db_url: str, ledger_with_up: Path
) -> None:
    before = head(db_url)
    refused(
        run("amend", "uttar-pradesh", "--split", "SP=63,INC=17", "--on", "2024-02-10"), "agreement"
    )
    refused(run("accept", "uttar-pradesh", "--by", "SP", "--on", "2024-02-10"), "SP")
    assert head(db_url) == before


def test_a_late_move_that_breaks_a_later_one_is_refused(
    run: Run, db_url: str, ledger_with_up: Path
) -> None:
    before = head(db_url)
    result = run("walkout", "uttar-pradesh", "--party", "SP", "--on", "2024-01-10")
    refused(result, "up-sp-offers-11")
    assert head(db_url) == before


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--split", "SP=63;INC=17"),
        ("--split", "SP=-1"),
        ("--split", "SP=6,SP=7"),
        ("--split", "SP=6.5"),
    ],
)
def test_bad_split_syntax_is_refused_naming_the_option(run: Run, option: str, value: str) -> None:
    result = run("propose", "uttar-pradesh", "--by", "SP", option, value, "--on", "2024-01-27")
    refused(result, "--split")


def test_bad_parties_syntax_is_refused_naming_the_option(run: Run) -> None:
    result = run("open", "kerala", "--seats", "20", "--parties", "INC,,INC", "--on", "2024-01-01")
    refused(result, "--parties", "twice")


def test_a_missing_required_option_is_refused(run: Run) -> None:
    refused(run("propose", "uttar-pradesh", "--by", "SP", "--split", "SP=1"), "--on")


def test_an_unknown_negotiation_is_refused(run: Run, ledger_with_up: Path) -> None:
    refused(
        run("propose", "kerala", "--by", "SP", "--split", "SP=1", "--on", "2024-01-27"), "kerala"
    )


def test_a_known_move_id_with_other_content_is_refused(
    run: Run, db_url: str, ledger_with_up: Path
) -> None:
    before = head(db_url)
    result = run(
        "propose",
        "uttar-pradesh",
        "--by",
        "SP",
        "--split",
        "SP=60",
        "--on",
        "2024-01-27",
        "--id",
        "up-sp-offers-11",
    )
    refused(result, "up-sp-offers-11", "already recorded")
    assert head(db_url) == before


def test_a_correction_that_says_nothing_is_refused(run: Run, ledger_with_up: Path) -> None:
    refused(run("correct", "up-sp-offers-11"), "retract")


def test_an_unsupported_database_url_is_refused_with_the_password_masked() -> None:
    result = CliRunner().invoke(app, ["--db", "mysql://me:hunter2@db/x", "splits"])
    refused(result, "Unsupported database URL", "***")
    assert "hunter2" not in result.stderr


def test_an_unreachable_database_is_named_with_the_password_masked() -> None:
    url = "postgresql+psycopg://me:hunter2@127.0.0.1:9/x?connect_timeout=2"
    result = CliRunner().invoke(
        app, ["--db", url, "propose", "up", "--by", "SP", "--split", "SP=1", "--on", "2024-01-01"]
    )
    refused(result, "cannot reach database", "***")
    assert "hunter2" not in result.stderr
