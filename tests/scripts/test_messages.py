"""Messages a new user meets, in the user's words: what is wrong and how to fix it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from scripts.cli import app
from tests.scripts.conftest import forbidden_in

Run = Callable[..., Result]
TALKS = ("open", "up", "--title", "UP", "--region", "Uttar Pradesh", "--seats", "80",
         "--parties", "INC,SP,DMK", "--on", "2024-01-09")  # fmt: skip


@pytest.fixture
def run(db_url: str) -> Run:
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(app, ["--db", db_url, *args], env={"SEATLEDGER_USER": "analyst"})

    return invoke


def refused(result: Result, *fragments: str) -> str:
    """The error text of a refused command (exit 2), holding every fragment."""
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    text = result.stderr
    for fragment in fragments:
        assert fragment in text, (fragment, text)
    assert not forbidden_in(text)
    return text


def timeline(tmp_path: Path, moves: str, parties: str = "[{code: INC}, {code: SP}]") -> str:
    path = tmp_path / "talks.yaml"
    path.write_text(
        "format: seatledger/timeline@1\n"
        f"parties: {parties}\n"
        "negotiations: [{id: up, seats: 80, parties: [INC, SP], opened_on: 2024-01-09}]\n"
        f"moves:\n{moves}",
        encoding="utf-8",
    )
    return str(path)


def test_unknown_party_message_gives_the_command_that_adds_it(run: Run) -> None:
    run(*TALKS)
    text = refused(run("propose", "up", "--by", "RLD", "--split", "SP=10", "--on", "2024-01-10"))
    assert "unknown party 'RLD'" in text and "seatledger parties add RLD" in text


def test_unknown_party_message_suggests_the_code_when_only_its_case_differs(run: Run) -> None:
    run(*TALKS)
    refused(
        run("propose", "up", "--by", "SP", "--split", "dmk=3,SP=10", "--on", "2024-01-10"),
        "unknown party 'dmk'",
        "did you mean DMK?",
    )


def test_unknown_field_in_a_file_is_named_with_the_nearest_field(run: Run, tmp_path: Path) -> None:
    path = timeline(tmp_path, "  []\n", parties='[{code: INC, colur: "#123456"}, {code: SP}]')
    refused(run("import", path), "party #1 (INC): unknown field 'colur'", "did you mean 'colour'?")


def test_unknown_move_type_is_named_with_the_nearest_valid_type(run: Run, tmp_path: Path) -> None:
    path = timeline(
        tmp_path,
        "  - {id: m1, negotiation: up, type: propose, on: 2024-01-10, by: INC, split: {INC: 3}}\n",
    )
    refused(
        run("import", path),
        "move 'm1' (#1): type: unknown move type 'propose'",
        "did you mean 'proposal'?",
    )


def test_a_refused_move_of_a_file_is_named_once(run: Run, tmp_path: Path) -> None:
    path = timeline(
        tmp_path,
        "  - {id: m1, negotiation: up, type: counter_offer, on: 2024-01-10, by: INC,"
        " split: {INC: 3}}\n",
    )
    text = refused(run("import", path), "move 'm1' (#1): INC has no open proposal")
    assert text.count("m1") == 1


@pytest.mark.parametrize("command", [("splits",), ("init",), ("history",)])
def test_missing_folder_of_the_ledger_file_is_named_as_such(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    missing = tmp_path / "no-such-folder" / "ledger.db"
    result = CliRunner().invoke(app, ["--db", f"sqlite:///{missing}", *command])
    refused(result, f"the folder {missing.parent} does not exist")
    assert not missing.parent.exists()


def test_late_move_says_the_state_on_its_date_and_now(run: Run) -> None:
    run(*TALKS)
    run("propose", "up", "--by", "SP", "--split", "SP=60,INC=20", "--on", "2024-02-01")
    run("agree", "up", "--split", "SP=60,INC=20", "--on", "2024-02-10")
    for dry in (("--dry-run",), ()):
        result = run(
            "propose", "up", "--by", "INC", "--split", "INC=30", "--on", "2024-01-20", *dry
        )
        assert result.exit_code == 0, result.stderr
        assert "on 2024-01-20 up negotiating: INC 30 of 80 seats" in result.stdout
        assert "now (on the latest date) up agreed: INC 20, SP 60" in result.stdout


def test_in_order_move_says_the_state_once(run: Run) -> None:
    run(*TALKS)
    result = run("propose", "up", "--by", "SP", "--split", "SP=60", "--on", "2024-02-01")
    assert "recorded; up negotiating: SP 60 of 80 seats" in result.stdout
    assert "now (on the latest date)" not in result.stdout


def test_bad_option_value_is_told_without_library_words(run: Run) -> None:
    run(*TALKS)
    refused(
        run(
            "propose",
            "up",
            "--by",
            "SP",
            "--split",
            "SP=6",
            "--on",
            "2024-02-01",
            "--confidence",
            "maybe",
        ),
        "'maybe' is not one of",
    )


@pytest.mark.parametrize("fmt", ["html", "markdown", "json"])
def test_report_renders_when_a_move_is_dated_on_the_last_day_of_time(
    run: Run, tmp_path: Path, fmt: str
) -> None:
    run("open", "far", "--title", "Far", "--region", "R", "--seats", "10", "--parties", "INC,SP",
        "--on", "9999-12-30")  # fmt: skip
    run("propose", "far", "--by", "INC", "--split", "INC=6,SP=4", "--on", "9999-12-31")
    out = tmp_path / f"far.{fmt}"
    result = run("report", "far", "--format", fmt, "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert "9999-12-31" in out.read_text(encoding="utf-8")
