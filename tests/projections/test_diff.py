"""What changed between two dates: the read side's diff and `seatledger diff`, on both databases."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ledger.domain.errors import InputError, NotFoundError
from projections.api import LedgerViews
from projections.diff import ledger_diff, split_difference
from scripts.cli import app
from tests.support.example import record_example


@pytest.fixture
def views(db_url: str) -> LedgerViews:
    record_example(db_url)
    return LedgerViews(db_url)


def test_split_difference_names_only_the_parties_whose_seats_changed() -> None:
    assert split_difference({"SP": 62, "INC": 11}, {"SP": 63, "INC": 17, "RLD": 0}) == {
        "INC": 6,
        "SP": 1,
    }
    assert split_difference({"AAP": 3}, {}) == {"AAP": -3}


def test_congress_gains_six_seats_in_uttar_pradesh_over_february(views: LedgerViews) -> None:
    found = ledger_diff(views, date(2024, 2, 1), date(2024, 2, 29), negotiation="uttar-pradesh")
    (change,) = found.negotiations
    assert (change.status_from, change.status_to) == ("negotiating", "agreed")
    assert change.seats_moved == {"INC": 6, "SP": 1}
    assert found.agreed_seats_moved == {"SP": 63, "INC": 17}
    assert [m.id for m in found.moves] == [
        "up-inc-seeks-25", "up-sp-final-offer-17", "up-priyanka-call", "up-inc-accepts-17",
        "up-agreement",
    ]  # fmt: skip


def test_moves_on_the_from_date_are_left_out_and_on_the_to_date_kept(views: LedgerViews) -> None:
    found = ledger_diff(views, date(2024, 2, 6), date(2024, 2, 19), negotiation="uttar-pradesh")
    assert [m.id for m in found.moves] == ["up-sp-final-offer-17"]


def test_correction_of_a_move_in_the_span_is_listed_with_it(views: LedgerViews) -> None:
    found = ledger_diff(views, date(2024, 1, 26), date(2024, 1, 27), negotiation="uttar-pradesh")
    assert [m.id for m in found.moves] == ["up-sp-offers-11"]
    assert [m.id for m in found.corrections] == ["up-sp-offer-split-corrected"]
    assert found.negotiations[0].split_to == {"INC": 11, "SP": 62}  # as corrected


def test_corrections_recorded_in_the_span_are_listed_whatever_move_they_fix(
    views: LedgerViews,
) -> None:
    today = datetime.now(UTC).date()
    found = ledger_diff(views, today - timedelta(days=1), today)
    assert {m.id for m in found.corrections} >= {"up-sp-offer-split-corrected"}
    assert found.moves == () and found.negotiations == ()


def test_nothing_recorded_by_known_on_means_nothing_changed(views: LedgerViews) -> None:
    found = ledger_diff(views, date(2024, 1, 1), date(2024, 4, 30), known_on=date(2024, 1, 1))
    assert (found.negotiations, found.moves, found.corrections) == ((), (), ())


def test_from_after_to_is_refused(views: LedgerViews) -> None:
    with pytest.raises(InputError, match="after the to date"):
        ledger_diff(views, date(2024, 3, 1), date(2024, 2, 1))


def test_unknown_negotiation_is_refused(views: LedgerViews) -> None:
    with pytest.raises(NotFoundError, match="kerala"):
        ledger_diff(views, date(2024, 2, 1), date(2024, 3, 1), negotiation="kerala")


def test_diff_command_prints_the_read_sides_diff_as_json_and_csv(
    views: LedgerViews, db_url: str
) -> None:
    runner = CliRunner()
    base = ["diff", "--from", "2024-02-01", "--to", "2024-02-29", "--db", db_url]
    done = runner.invoke(app, [*base, "--format", "json"])
    assert done.exit_code == 0, done.output
    expected = ledger_diff(views, date(2024, 2, 1), date(2024, 2, 29)).to_json()
    assert json.loads(done.stdout) == expected
    table = runner.invoke(app, [*base, "-n", "uttar-pradesh", "--format", "csv"])
    rows = list(csv.DictReader(io.StringIO(table.stdout)))
    assert rows[:2] == [
        {"negotiation": "uttar-pradesh", "party": "INC", "from": "11", "to": "17", "moved": "+6"},
        {"negotiation": "uttar-pradesh", "party": "SP", "from": "62", "to": "63", "moved": "+1"},
    ]
    shown = runner.invoke(app, base)
    assert shown.exit_code == 0 and "Moves made" in shown.stdout and "up-agreement" in shown.stdout


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--from", "2024-03-01", "--to", "2024-02-01"], "after the to date"),
        (["--from", "2024-02-30", "--to", "2024-03-01"], "--from"),
        (["--from", "2024-02-01", "--to", "2024-03-01", "-n", "kerala"], "kerala"),
        (["--to", "2024-03-01"], "--from"),
    ],
)
def test_diff_command_refuses_bad_input_with_exit_2(
    views: LedgerViews, db_url: str, args: list[str], said: str
) -> None:
    done = CliRunner().invoke(app, ["diff", *args, "--db", db_url])
    assert done.exit_code == 2
    assert said in done.stderr


def test_report_with_diff_from_carries_the_diff_in_every_format(
    views: LedgerViews, db_url: str, tmp_path: Path
) -> None:
    runner = CliRunner()
    base = ["report", "uttar-pradesh", "--as-of", "2024-02-29", "--diff-from", "2024-02-01"]
    for suffix in ("json", "html", "md"):
        out = tmp_path / f"report.{suffix}"
        done = runner.invoke(app, [*base, "-o", str(out), "--db", db_url])
        assert done.exit_code == 0, done.output
    expected = ledger_diff(views, date(2024, 2, 1), date(2024, 2, 29), None, "uttar-pradesh")
    found = json.loads((tmp_path / "report.json").read_text())
    assert found["diff"] == expected.to_json()
    page = (tmp_path / "report.html").read_text()
    assert '<section class="diff" id="diff">' in page and "INC +6 · SP +1" in page
    assert "## What changed" in (tmp_path / "report.md").read_text()


def test_report_without_diff_from_has_no_diff(
    views: LedgerViews, db_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "report.json"
    CliRunner().invoke(app, ["report", "--all", "-o", str(out), "--db", db_url])
    assert "diff" not in json.loads(out.read_text())


def test_report_diff_section_escapes_titles_in_html_and_markdown() -> None:
    from projections.reports.diff import diff_html, diff_markdown

    hostile = {
        "from": "2024-02-01", "to": None, "known_on": None,
        "negotiations": [{"title": "<script>alert(1)</script>", "status_from": None,
                          "status_to": "agreed", "split_from": {}, "split_to": {"SP": 1},
                          "seats_moved": {"SP": 1}}],
        "agreed_seats_moved": {}, "moves": [{"id": "<b>x</b>"}], "corrections": [],
    }  # fmt: skip
    page = diff_html(hostile)
    assert "<script>" not in page and "&lt;script&gt;" in page and "<b>" not in page
    text = "\n".join(diff_markdown(hostile))
    assert "<script>" not in text and "<b>" not in text


@pytest.mark.parametrize("fmt", ["html", "markdown", "json"])
def test_report_with_diff_from_verifies_after_later_moves_and_fails_when_edited(
    views: LedgerViews, db_url: str, tmp_path: Path, fmt: str
) -> None:
    from tests.projections.reports.test_check import report, run

    path = report(db_url, tmp_path, fmt, "--diff-from", "2024-02-01")
    assert run("--db", db_url, "correct", "delhi-agreement", "--split", "AAP=5,INC=2")[0] == 0
    code, out, _ = run("--db", db_url, "verify", "--report", str(path))
    assert code == 0, out
    text = path.read_text()
    edited = (
        text.replace("INC +24", "INC +34")
        if fmt != "json"
        else text.replace('"INC": 24,\n', '"INC": 34,\n', 1)
    )
    assert edited != text
    path.write_text(edited)
    code, out, _ = run("--db", db_url, "verify", "--report", str(path))
    assert code == 1, out
