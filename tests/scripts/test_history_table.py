"""The history table for people: each source as its domain, each note shortened; --wide in full."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner, Result

from scripts.cli import app
from scripts.read.views import NOTE_WIDTH
from tests.support.example import EXAMPLE

WIDE_TERMINAL = {"SEATLEDGER_USER": "analyst"}


@pytest.fixture
def ledger(sqlite_url: str) -> str:
    """The INDIA bloc example, imported through the command line."""
    done = CliRunner().invoke(app, ["--db", sqlite_url, "import", str(EXAMPLE)])
    assert done.exit_code == 0, done.stderr
    return sqlite_url


def history(url: str, *args: str) -> Result:
    result = CliRunner().invoke(app, ["--db", url, "history", "bihar", *args], env=WIDE_TERMINAL)
    assert result.exit_code == 0, result.stderr
    return result


def bihar_meeting(url: str) -> dict[str, str]:
    moves = json.loads(history(url, "--format", "json").stdout)
    found: dict[str, str] = next(m for m in moves if m["id"] == "bihar-talks-open")
    return found


def rows(table: str) -> dict[str, dict[str, str]]:
    """The table's rows by move id, each cell's wrapped lines joined again."""
    lines = table.splitlines()
    header = next(line for line in lines if line.startswith("┃") and " id " in line)
    names = [cell.strip() for cell in header.strip("┃").split("┃")]
    found: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] = {}
    for line in lines:
        if not line.startswith("│"):
            continue
        cells = [cell.strip() for cell in line.strip("│").split("│")]
        if cells[0]:
            current = found.setdefault(cells[0], {name: [] for name in names})
        for name, cell in zip(names, cells, strict=True):
            if cell:
                current[name].append(cell)
    glue = {"source": "", "id": ""}  # long values fold mid-word; words wrap at spaces
    return {
        move: {name: glue.get(name, " ").join(parts) for name, parts in cells.items()}
        for move, cells in found.items()
    }


def test_history_table_shows_the_source_domain_and_a_short_note(ledger: str) -> None:
    meeting = bihar_meeting(ledger)
    row = rows(history(ledger).stdout)["bihar-talks-open"]
    assert row["source"] == "latestly.com"
    assert meeting["note"].startswith(row["note"].removesuffix(" …"))
    assert row["note"].endswith("…") and len(row["note"]) <= NOTE_WIDTH


def test_history_table_shows_sources_and_notes_in_full_when_wide(ledger: str) -> None:
    meeting = bihar_meeting(ledger)
    row = rows(history(ledger, "--wide").stdout)["bihar-talks-open"]
    assert row["source"] == meeting["source"]
    assert " ".join(row["note"].split()) == " ".join(meeting["note"].split())


def test_history_json_keeps_full_sources_and_notes(ledger: str) -> None:
    meeting = bihar_meeting(ledger)
    assert meeting["source"].startswith("https://www.latestly.com/")
    assert len(meeting["note"]) > NOTE_WIDTH
