"""Reading through the command line on any (as of, known on), every format, both databases."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from ledger.application import NegotiationLedger
from scripts.cli import app
from tests.support.example import EXAMPLE

Run = Callable[..., Result]
SPLIT_KEYS = {
    "negotiation", "region", "seats", "as_of", "known_on", "status", "split", "unallocated", "by",
    "named", "settled",
}  # fmt: skip
MOVE_KEYS = {"id", "type", "on", "recorded_at", "recorded_by", "by", "split", "source", "note"}


@pytest.fixture
def run(db_url: str) -> Run:
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(app, [*args, "--db", db_url], env={"SEATLEDGER_USER": "analyst"})

    return invoke


@pytest.fixture
def example(run: Run) -> None:
    ok(run("import", str(EXAMPLE)))


def ok(result: Result) -> Result:
    assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr)
    return result


def as_json(result: Result) -> object:
    return json.loads(ok(result).stdout)


def test_import_twice_records_once_and_then_says_unchanged(run: Run) -> None:
    first = ok(run("import", str(EXAMPLE)))
    assert "45 move(s) recorded" in first.stdout
    again = ok(run("import", str(EXAMPLE)))
    assert again.stdout.startswith("unchanged")


def test_import_dry_run_checks_everything_and_writes_nothing(run: Run, db_url: str) -> None:
    result = ok(run("import", str(EXAMPLE), "--dry-run"))
    assert "dry run, nothing written" in result.stdout and "45 move(s)" in result.stdout
    assert NegotiationLedger(db_url).recorder.max_notification_id() is None


def test_split_json_has_exactly_the_documented_keys(run: Run, example: None) -> None:
    data = as_json(run("split", "uttar-pradesh", "--as-of", "2024-01-31", "--format", "json"))
    assert isinstance(data, dict) and set(data) == SPLIT_KEYS
    assert data["status"] == "negotiating" and data["by"] == "SP"
    assert data["split"] == {"SP": 62, "INC": 11} and data["unallocated"] == 7
    assert data["as_of"] == "2024-01-31" and data["known_on"] is None


def test_split_once_agreed_has_no_maker(run: Run, example: None) -> None:
    data = as_json(run("split", "uttar-pradesh", "-f", "json"))
    assert isinstance(data, dict)
    assert (data["status"], data["split"], data["by"]) == ("agreed", {"SP": 63, "INC": 17}, None)


def test_split_table_and_csv_show_the_same_split(run: Run, example: None) -> None:
    table = ok(run("split", "uttar-pradesh", "--as-of", "2024-02-20"))
    assert "negotiating" in table.stdout and "on the table from SP" in table.stdout
    rows = list(csv.DictReader(io.StringIO(ok(run("split", "uttar-pradesh", "--as-of",
                                                  "2024-02-20", "-f", "csv")).stdout)))  # fmt: skip
    assert rows[0]["split"] == "SP=63,INC=17" or rows[0]["split"] == "INC=17,SP=63"


def test_known_on_before_anything_was_recorded_finds_nothing(run: Run, example: None) -> None:
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    result = run("split", "uttar-pradesh", "--known-on", yesterday)
    assert result.exit_code == 2 and "uttar-pradesh" in result.stderr
    listed = as_json(run("splits", "--known-on", yesterday, "-f", "json"))
    assert listed == []


def test_known_on_takes_a_datetime_with_offset(run: Run, example: None) -> None:
    later = (datetime.now(UTC) + timedelta(hours=1)).astimezone().isoformat(timespec="minutes")
    data = as_json(run("split", "west-bengal", "--known-on", later, "-f", "json"))
    assert isinstance(data, dict) and data["status"] == "no_deal"


def test_splits_lists_every_negotiation_on_a_date(run: Run, example: None) -> None:
    data = as_json(run("splits", "--as-of", "2024-02-29", "--format", "json"))
    assert isinstance(data, list) and len(data) == 7
    assert all(set(item) == SPLIT_KEYS for item in data)
    by_slug = {item["negotiation"]: item["status"] for item in data}
    assert by_slug["west-bengal"] == "no_deal" and by_slug["delhi"] == "agreed"
    assert "uttar-pradesh" in ok(run("splits", "--as-of", "2024-02-29")).stdout
    assert ok(run("splits", "-f", "csv")).stdout.startswith("negotiation,region,seats")


def test_rollup_sums_agreed_talks_per_party(run: Run, example: None) -> None:
    data = as_json(run("rollup", "--as-of", "2024-04-30", "--format", "json"))
    assert isinstance(data, dict) and set(data) == {"as_of", "known_on", "parties"}
    assert data["parties"]["SP"] == 63 and data["parties"]["INC"] == 17 + 9 + 17 + 3 + 24 + 9
    early = as_json(run("rollup", "--as-of", "2024-01-31", "-f", "json"))
    assert isinstance(early, dict) and early["parties"] == {}
    assert "party,seats" in ok(run("rollup", "-f", "csv")).stdout


def test_history_lists_moves_with_their_corrections(run: Run, example: None) -> None:
    moves = as_json(run("history", "uttar-pradesh", "--format", "json"))
    assert isinstance(moves, list) and all(set(m) >= MOVE_KEYS for m in moves)
    by_id = {m["id"]: m for m in moves}
    assert by_id["up-sp-offers-11"]["corrected_by"] == ["up-sp-offer-split-corrected"]
    assert by_id["up-sp-offer-split-corrected"]["corrects"] == "up-sp-offers-11"
    assert by_id["up-agreement"]["recorded_by"] == "analyst"
    markdown = ok(run("history", "uttar-pradesh", "--format", "markdown")).stdout
    assert "| id | type | on |" in markdown and "up-agreement" in markdown
    assert "up-inc-accepts-17" in ok(run("history", "uttar-pradesh")).stdout
    early = as_json(run("history", "uttar-pradesh", "--as-of", "2024-01-31", "-f", "json"))
    assert isinstance(early, list) and "up-agreement" not in {m["id"] for m in early}


def test_report_writes_html_markdown_and_json(run: Run, example: None, tmp_path: Path) -> None:
    html = tmp_path / "report.html"
    ok(run("report", "--all", "--format", "html", "-o", str(html)))
    assert "<html" in html.read_text().lower()
    markdown = tmp_path / "up.md"
    ok(run("report", "uttar-pradesh", "--as-of", "2024-02-01", "-o", str(markdown)))
    assert "uttar-pradesh" in markdown.read_text()
    data = as_json(run("report", "uttar-pradesh", "--format", "json", "-o", "-"))
    assert isinstance(data, dict)


def test_report_needs_a_negotiation_or_all(run: Run, example: None, tmp_path: Path) -> None:
    result = run("report", "-o", str(tmp_path / "r.html"))
    assert result.exit_code == 2 and "--all" in result.stderr


def test_replay_folds_the_log_to_the_same_answers_as_the_views(run: Run, example: None) -> None:
    for day in ("2024-01-31", "2024-02-29", "2024-04-30"):
        views = as_json(run("splits", "--as-of", day, "-f", "json"))
        assert as_json(run("replay", "--as-of", day, "-f", "json")) == views
    assert as_json(run("replay", "--view", "rollup", "-f", "json")) == as_json(
        run("rollup", "-f", "json")
    )
    replayed = as_json(run("replay", "uttar-pradesh", "--view", "history", "-f", "json"))
    assert replayed == as_json(run("history", "uttar-pradesh", "-f", "json"))


def test_export_then_import_into_an_empty_ledger_gives_the_same_splits(
    run: Run, example: None, tmp_path: Path
) -> None:
    exported = tmp_path / "backup.yaml"
    ok(run("export", "-o", str(exported)))
    copy = f"sqlite:///{tmp_path / 'copy.db'}"
    runner = CliRunner()
    assert runner.invoke(app, ["--db", copy, "import", str(exported)]).exit_code == 0
    for day in ("2024-01-31", "2024-04-30"):
        mine = as_json(run("splits", "--as-of", day, "-f", "json"))
        theirs = json.loads(runner.invoke(app, ["--db", copy, "splits", "--as-of", day,
                                                "-f", "json"]).stdout)  # fmt: skip
        assert mine == theirs
    one = ok(run("export", "--negotiation", "delhi", "--format", "json")).stdout
    assert json.loads(one)["negotiations"][0]["id"] == "delhi"


def test_reading_a_missing_sqlite_ledger_is_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["--db", str(tmp_path / "none.db"), "splits"])
    assert result.exit_code == 2 and "no ledger at" in result.stderr
    assert not (tmp_path / "none.db").exists()


def test_a_file_of_hundreds_of_moves_imports_with_a_progress_bar(run: Run, tmp_path: Path) -> None:
    notes = "".join(
        f'  - {{negotiation: delhi, type: note, "on": 2024-02-{1 + n % 28:02d}, note: "n{n}"}}\n'
        for n in range(250)
    )
    big = tmp_path / "big.yaml"
    big.write_text(
        "format: seatledger/timeline@1\nparties: [{code: AAP}, {code: INC}]\n"
        "negotiations:\n  - {id: delhi, seats: 7, parties: [AAP, INC], opened_on: 2024-01-08}\n"
        "moves:\n" + notes
    )
    result = ok(run("import", str(big)))
    assert "250 move(s) recorded" in result.stdout
    moves = as_json(run("history", "delhi", "-f", "json"))
    assert isinstance(moves, list) and len(moves) == 251  # and the opening
