"""Elections and alliances: scoped views, roll-ups per election, timeline@2, both databases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from projections import reference
from projections.answers import Scope
from projections.api import LedgerViews
from scripts.cli import app
from tests.scripts.test_read import Run, ok, run
from tests.support.example import EXAMPLE

__all__ = ["run"]  # the fixture, shared with the other reading tests
LOK_SABHA_2019 = """
format: seatledger/timeline@2
parties: [{code: SP}, {code: BSP}, {code: RLD}]
negotiations:
  - {id: up-2019, region: Uttar Pradesh, seats: 80, parties: [SP, BSP, RLD],
     opened_on: 2019-01-04, election: Lok Sabha 2019}
moves:
  - {id: up-2019-pact, negotiation: up-2019, type: agreement, "on": 2019-01-12,
     split: {BSP: 38, SP: 37, RLD: 3}}
"""


def refused(result: Result) -> str:
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    return result.stderr


@pytest.fixture
def two_elections(run: Run, tmp_path: Path) -> None:
    """The bundled 2024 talks (no election given) and SP-BSP-RLD's 2019 pact."""
    ok(run("import", str(EXAMPLE)))
    file = tmp_path / "up-2019.yaml"
    file.write_text(LOK_SABHA_2019, encoding="utf-8")
    ok(run("import", str(file)))


def test_rollup_is_given_per_election_when_the_ledger_holds_two_elections(
    run: Run, two_elections: None, db_url: str
) -> None:
    rollup = json.loads(ok(run("rollup", "--format", "json")).stdout)
    assert set(rollup) == {"as_of", "known_on", "elections"}
    assert rollup["elections"]["Lok Sabha 2019"] == {"BSP": 38, "SP": 37, "RLD": 3}
    assert rollup["elections"][""]["SP"] == 63  # 2024 alone: never 63 + 37
    assert LedgerViews(db_url).rollup() == reference.replay_rollup(db_url)


def test_rollup_has_the_single_election_shape_when_limited_to_one_election(
    run: Run, two_elections: None
) -> None:
    rollup = json.loads(ok(run("rollup", "--election", "Lok Sabha 2019", "-f", "json")).stdout)
    assert rollup == {
        "as_of": None, "known_on": None, "parties": {"BSP": 38, "SP": 37, "RLD": 3},
    }  # fmt: skip


def test_splits_show_only_the_talks_of_one_alliance_when_limited_to_it(
    run: Run, two_elections: None, db_url: str
) -> None:
    listed = json.loads(ok(run("splits", "--alliance", "india-bloc", "-f", "json")).stdout)
    assert "up-2019" not in {split["negotiation"] for split in listed}
    assert "uttar-pradesh" in {split["negotiation"] for split in listed}
    scope = Scope(alliance="india-bloc")
    assert LedgerViews(db_url).splits(scope=scope) == reference.replay_splits(db_url, scope=scope)
    only_2019 = json.loads(ok(run("splits", "--election", "Lok Sabha 2019", "-f", "json")).stdout)
    assert [(s["negotiation"], s["election"]) for s in only_2019] == [("up-2019", "Lok Sabha 2019")]


def test_export_writes_timeline_at_2_only_when_an_election_is_recorded(
    run: Run, two_elections: None, tmp_path: Path
) -> None:
    at_2 = ok(run("export", "--election", "Lok Sabha 2019")).stdout
    assert "format: seatledger/timeline@2" in at_2 and "election: Lok Sabha 2019" in at_2
    at_1 = ok(run("export", "--alliance", "india-bloc")).stdout
    assert "format: seatledger/timeline@1" in at_1 and "up-2019" not in at_1
    copy = tmp_path / "copy.db"
    runner = CliRunner()
    file = tmp_path / "2019.yaml"
    file.write_text(at_2, encoding="utf-8")
    ok(runner.invoke(app, ["import", str(file), "--db", f"sqlite:///{copy}"]))
    split = runner.invoke(app, ["split", "up-2019", "-f", "json", "--db", f"sqlite:///{copy}"])
    assert json.loads(ok(split).stdout)["election"] == "Lok Sabha 2019"


def test_report_of_one_election_leaves_the_other_out_when_limited(
    run: Run, two_elections: None, tmp_path: Path
) -> None:
    out = tmp_path / "report.json"
    ok(run("report", "--all", "--election", "Lok Sabha 2019", "-f", "json", "-o", str(out)))
    facts = json.loads(out.read_text(encoding="utf-8"))
    assert [part["negotiation"] for part in facts["negotiations"]] == ["up-2019"]
    assert facts["rollup"]["parties"] == {"BSP": 38, "SP": 37, "RLD": 3}


def test_open_records_the_election_when_given(run: Run) -> None:
    ok(run("open", "delhi", "--seats", "7", "--parties", "AAP,INC", "--on", "2024-02-01",
           "--election", "Lok Sabha 2024"))  # fmt: skip
    assert json.loads(ok(run("split", "delhi", "-f", "json")).stdout)["election"] == (
        "Lok Sabha 2024"
    )


def test_an_election_is_refused_when_the_file_says_timeline_at_1(run: Run, tmp_path: Path) -> None:
    file = tmp_path / "old.yaml"
    file.write_text(LOK_SABHA_2019.replace("@2", "@1"), encoding="utf-8")
    message = refused(run("import", str(file)))
    assert "negotiation 'up-2019': election needs 'format: seatledger/timeline@2'" in message


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ("opened_on: 2019-01-04,", "constituencies"),
        ("split: {BSP: 38,", "named seats in the split"),
        ("type: agreement,", "type partial_agreement"),
    ],
)
def test_seat_level_parts_are_refused_when_the_file_says_timeline_at_1(
    run: Run, tmp_path: Path, change: str, named: str
) -> None:
    edits = {
        "constituencies": "opened_on: 2019-01-04, constituencies: [Amethi],",
        "named seats in the split": "split: {BSP: [Amethi],",
        "type partial_agreement": "type: partial_agreement, signatories: [SP, BSP],",
    }
    text = LOK_SABHA_2019.replace(change, edits[named]).replace("@2", "@1")
    file = tmp_path / "seats.yaml"
    file.write_text(text.replace(" election: Lok Sabha 2019", ""), encoding="utf-8")
    message = refused(run("import", str(file)))
    assert f"{named} needs 'format: seatledger/timeline@2'" in message
    after = run("splits", "-f", "json")  # nothing written: no ledger, or no talks in it
    assert "no ledger" in after.stderr if after.exit_code else json.loads(after.stdout) == []


@pytest.mark.parametrize("fmt", ["html", "markdown"])
def test_report_of_everything_gives_a_roll_up_per_election_when_there_are_two(
    run: Run, two_elections: None, tmp_path: Path, fmt: str
) -> None:
    out = tmp_path / f"report.{fmt}"
    ok(run("report", "--all", "-f", fmt, "-o", str(out)))
    text = out.read_text(encoding="utf-8")
    assert "Lok Sabha 2019" in text and "No election given" in text


@pytest.mark.parametrize(
    ("command", "option", "value", "known"),
    [
        ("splits", "--election", "LS 2019", "'Lok Sabha 2019'"),
        ("rollup", "--election", "LS 2019", "'Lok Sabha 2019'"),
        ("splits", "--alliance", "india", "'india-bloc'"),
    ],
)
def test_a_mistyped_scope_is_refused_naming_what_the_ledger_holds_when_no_talks_have_it(
    run: Run, two_elections: None, command: str, option: str, value: str, known: str
) -> None:
    message = refused(run(command, option, value))
    assert repr(value) in message and known in message


def test_a_known_election_gives_an_empty_answer_when_its_talks_had_not_opened_by_the_date(
    run: Run, two_elections: None
) -> None:
    found = json.loads(
        ok(
            run("splits", "--election", "Lok Sabha 2019", "--as-of", "2018-12-31", "-f", "json")
        ).stdout
    )
    assert found == []
