"""Reports show each negotiation's constituencies (holder and status, in the party's colour)
and the pacts on the chart, and `verify --report` still checks every holder they show."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scripts.cli import app as cli
from tests.projections.reports.test_check import FORMATS, run
from tests.support.example import SEATS_EXAMPLE, record_example


@pytest.fixture
def seats_ledger(db_url: str) -> str:
    """The 2024 talks seat by seat (timeline@2)."""
    return record_example(db_url, example=SEATS_EXAMPLE)


def report(url: str, folder: Path, fmt: str, negotiation: str) -> Path:
    path = folder / FORMATS[fmt]
    code, _, err = run("--db", url, "report", negotiation, "--format", fmt, "-o", str(path))
    assert code == 0, err
    return path


def test_html_report_shows_bhadohi_held_by_tmc_in_tmcs_colour(
    seats_ledger: str, tmp_path: Path
) -> None:
    page = report(seats_ledger, tmp_path, "html", "uttar-pradesh").read_text()
    rows = re.findall(r'<tr class="seat (\w+)"><td>([^<]*)</td><td>(.*?)</td>', page)
    assert len(rows) == 80
    bhadohi = next(held for status, name, held in rows if name == "Bhadohi")
    colour = re.search(r"background:(#[0-9a-fA-F]{6})", bhadohi)
    assert colour is not None and bhadohi.endswith("TMC")
    swatch = re.search(r'swatch" style="background:(#[0-9a-fA-F]{6})"></span>TMC</td>', page)
    assert swatch is not None and swatch.group(1) == colour.group(1)  # TMC's own colour
    assert "Bhadohi: SP → TMC" in page  # the amendment's seats moved


def test_markdown_and_json_reports_list_every_seat_with_its_holder(
    seats_ledger: str, tmp_path: Path
) -> None:
    text = report(seats_ledger, tmp_path, "markdown", "uttar-pradesh").read_text()
    assert "### Constituencies (80)" in text and "| Bhadohi | TMC | agreed |" in text
    data = json.loads(report(seats_ledger, tmp_path, "json", "delhi").read_text())
    (delhi,) = data["negotiations"]
    first = {"constituency": "Chandni Chowk", "holder": "INC", "status": "agreed"}
    assert delhi["seats"][0] == first


def test_tamil_nadu_chart_marks_each_pact_with_the_parties_it_settled(
    seats_ledger: str, tmp_path: Path
) -> None:
    page = report(seats_ledger, tmp_path, "html", "tamil-nadu").read_text()
    chart = page[page.index("<svg") : page.index("</svg>")]
    for word in ("pact IUML", "pact KMDK", "pact CPI", "pact CPIM", "pact VCK", "pact MDMK"):
        assert f">{word}<" in chart, word


def test_report_before_any_seat_was_named_shows_them_unassigned(
    seats_ledger: str, tmp_path: Path
) -> None:
    path = tmp_path / "early.md"
    code, _, err = run("--db", seats_ledger, "report", "delhi", "--as-of", "2024-02-01",
                       "--format", "markdown", "-o", str(path))  # fmt: skip
    assert code == 0, err
    assert "| New Delhi |  | unassigned |" in path.read_text()


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_hand_edited_holder_is_named_when_the_report_is_verified(
    seats_ledger: str, tmp_path: Path, fmt: str
) -> None:
    path = report(seats_ledger, tmp_path, fmt, "uttar-pradesh")
    text = path.read_text()
    if fmt == "json":
        data = json.loads(text)
        seat = next(s for s in data["negotiations"][0]["seats"] if s["constituency"] == "Bhadohi")
        seat["holder"] = "SP"
        path.write_text(json.dumps(data, indent=2))
    else:
        edited = {"html": ("</span>TMC</td><td>agreed", "</span>SP</td><td>agreed"),
                  "markdown": ("| Bhadohi | TMC |", "| Bhadohi | SP |")}[fmt]  # fmt: skip
        assert edited[0] in text
        path.write_text(text.replace(*edited, 1))
    code, out, _ = run("--db", seats_ledger, "verify", "--report", str(path), "--format", "json")
    assert code == 1
    (found,) = json.loads(out)["findings"]["report"]
    assert "SP" in found["description"] and "TMC" in found["description"]


def test_constituency_names_are_shown_as_text_in_every_report(
    db_url: str, tmp_path: Path
) -> None:
    invoke = CliRunner().invoke
    for args in (
        ["parties", "add", "AAP", "--name", "Aam Aadmi Party"],
        ["parties", "add", "INC", "--name", "Congress"],
        ["open", "delhi", "--seats", "7", "--parties", "AAP,INC", "--on", "2024-02-01",
         "--constituencies", "<script>alert(1)</script>;*Bold* | pipe"],
        ["agree", "delhi", "--split", "AAP=<script>alert(1)</script>,INC=6", "--on",
         "2024-02-24"],
    ):  # fmt: skip
        done = invoke(cli, ["--db", db_url, *args], env={"SEATLEDGER_USER": "analyst"})
        assert done.exit_code == 0, done.stderr
    page = report(db_url, tmp_path, "html", "delhi").read_text()
    assert "<script>" not in page
    assert "<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>" in page
    text = report(db_url, tmp_path, "markdown", "delhi").read_text()
    assert "<script>" not in text and "| \\*Bold\\* \\| pipe |  | unassigned |" in text
