"""Hostile text stored in the ledger is data on every surface: no command crashes on it, and
no terminal escape, control or bidi character reaches the output raw."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text
from starlette.testclient import TestClient
from typer.testing import CliRunner, Result

from ledger.inert import UNSAFE, visible
from ledger.persistence.engine import get_engine, write_transaction
from scripts.cli import app as cli
from scripts.output import FORMULA_START, SIGNED_NUMBER, csv_cell, terminal
from tests.ledger.timeline.test_hostile_files import FUZZ
from web.app import create_app

HIDDEN = "al\x1b[8mHIDDEN\x1b[0mice"
HOSTILE = (
    "[/x]",
    "[/bold] evil",
    "[bold red]loud[/bold red]",
    HIDDEN,
    "\x1b]8;;https://evil.example/\x07click\x1b]8;;\x07",  # OSC 8 hyperlink
    "\x1b[2J\x1b[Hcleared",
    "\x9b31mred",  # C1 CSI
    "\u202eevil\u202c right-to-left",
    "\u2066isolated\u2069",
    "del\x7fete",
    "over\rwrite",
    '=HYPERLINK("https://evil.example","x")',
    "+1+1",
    "-2-2",
    "@SUM(A1)",
    "x" * 5_000 + "\x1b[31m",
)
# Raw in any output: every unsafe character but the line breaks and tabs of a document.
RAW = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)
READS = (
    ["split", "hx"], ["split", "hx", "-f", "json"], ["split", "hx", "-f", "csv"],
    ["splits"], ["splits", "-f", "json"], ["splits", "-f", "csv"],
    ["rollup"], ["rollup", "-f", "json"], ["rollup", "-f", "csv"],
    ["history"], ["history", "hx"], ["history", "hx", "-f", "json"],
    ["history", "hx", "-f", "csv"], ["history", "-f", "markdown"],
    ["parties", "list"], ["parties", "list", "-f", "json"], ["parties", "list", "-f", "csv"],
    ["replay"], ["replay", "--view", "history", "-f", "markdown"],
    ["replay", "--view", "history", "-f", "csv"], ["replay", "--view", "rollup", "-f", "json"],
    ["report", "--all", "-f", "html", "-o", "-"], ["report", "hx", "-f", "markdown", "-o", "-"],
    ["report", "--all", "-f", "json", "-o", "-"],
    ["export"], ["export", "-f", "json"],
    ["verify"], ["verify", "-f", "json"], ["verify", "-f", "csv"],
    ["projections", "status"], ["projections", "status", "-f", "json"],
    ["projections", "status", "-f", "csv"], ["digest"],
    ["diff", "--from", "2024-01-01"], ["diff", "--from", "2024-01-01", "-f", "json"],
    ["diff", "--from", "2024-01-01", "-n", "hx", "-f", "csv"],
)  # fmt: skip
PAGES = (
    "/", "/index.json", "/n/hx", "/n/hx.json", "/n/hx?as_of=2024-01-04",
    "/diff?from=2024-01-01", "/diff.json?from=2024-01-01",
)  # fmt: skip


def run(url: str, *args: str, user: str = "tester") -> Result:
    """The command, in-process, as `user`; a crash (exit 3) or a traceback fails the test."""
    result = CliRunner().invoke(cli, ["--db", url, *args], env={"SEATLEDGER_USER": user})
    assert result.exit_code in (0, 1, 2), (args, result.exit_code, result.output[-2000:])
    output = result.stdout + result.stderr
    raw = RAW.search(output)
    assert raw is None, (args, repr(output[max(raw.start() - 80, 0) : raw.end() + 80]))
    assert "Traceback" not in output
    return result


def record_hostile_ledger(url: str, hostile: str, index: int) -> None:
    """Every free-text field the command line records, and the recorder's name, hold `hostile`."""
    code = f"H{index}"
    assert run(url, "parties", "add", "INC", "--name", hostile).exit_code == 0
    assert run(url, "parties", "add", code, "--name", hostile).exit_code == 0
    run(url, "alliance", "form", "hb", "--name", hostile, "--members", f"INC,{code}",
        "--on", "2024-01-01")  # fmt: skip
    opened = run(
        url, "open", "hx", "--title", hostile, "--region", hostile, "--seats", "10",
        "--parties", f"INC,{code}", "--on", "2024-01-02", "--alliance", "hb",
        "--source", hostile, "--note", hostile, user=hostile,
    )  # fmt: skip
    assert opened.exit_code == 0, opened.output
    for args in (
        ["propose", "hx", "--by", "INC", "--split", f"INC=6,{code}=4", "--on", "2024-01-03",
         "--id", "hx-offer", "--source", hostile, "--note", hostile, "--as", hostile],
        ["meet", "hx", "--parties", f"INC,{code}", "--on", "2024-01-04", "--venue", hostile],
        ["note", "--on", "2024-01-05", "--note", hostile, "--source", hostile],
        ["correct", "hx-offer", "--split", f"INC=5,{code}=5", "--reason", hostile,
         "--note", hostile],
        ["agree", "hx", "--split", f"INC=5,{code}=5", "--on", "2024-01-06", "--note", hostile],
    ):  # fmt: skip
        assert run(url, *args, user=hostile).exit_code == 0, args


def hostile_moves(hostile: str) -> list[list[str]]:
    """Every other recording command, on talks "hy" and on "hx" and "hb", with hostile text."""
    text = ["--source", hostile, "--note", hostile, "--as", hostile]
    return [
        ["parties", "add", "H2", "--name", hostile],
        ["open", "hy", "--title", hostile, "--seats", "10", "--parties", "INC,H1",
         "--on", "2024-01-02", "--alliance", "hb", "--note", hostile],
        ["propose", "hy", "--by", "INC", "--split", "INC=6", "--on", "2024-01-03", *text],
        ["counter", "hy", "--by", "H1", "--split", "H1=5", "--on", "2024-01-04", *text],
        ["reject", "hy", "--by", "INC", "--on", "2024-01-05", *text],
        ["propose", "hy", "--by", "INC", "--split", "INC=7", "--on", "2024-01-06", *text],
        ["withdraw", "hy", "--by", "INC", "--on", "2024-01-07", *text],
        ["propose", "hy", "--by", "H1", "--split", "H1=4", "--on", "2024-01-08", *text],
        ["accept", "hy", "--by", "INC", "--on", "2024-01-09", *text],
        ["join", "hy", "--party", "H2", "--on", "2024-01-10", *text],
        ["walkout", "hy", "--party", "H2", "--on", "2024-01-11", *text],
        ["end", "hy", "--on", "2024-01-12", *text],
        ["amend", "hx", "--split", "INC=4,H1=6", "--on", "2024-01-07", *text],
        ["alliance", "join", "hb", "--party", "H2", "--on", "2024-01-13", *text],
        ["alliance", "leave", "hb", "--party", "H2", "--on", "2024-01-14", *text],
    ]  # fmt: skip


@pytest.fixture(params=range(len(HOSTILE)), ids=[f"h{i}" for i in range(len(HOSTILE))])
def hostile(request: pytest.FixtureRequest) -> str:
    """One hostile string."""
    value: str = HOSTILE[request.param]
    return value


def test_every_read_and_format_shows_hostile_text_escaped_when_every_field_holds_it(
    sqlite_url: str, hostile: str
) -> None:
    record_hostile_ledger(sqlite_url, hostile, 1)
    for args in READS:
        result = run(sqlite_url, *args)
        assert result.exit_code == 0, (args, result.output[-2000:])
    table = run(sqlite_url, "parties", "list").stdout
    shown = terminal(hostile)
    assert shown[:20] in table.replace("\n", "")  # the start of the name, escaped, not obeyed


def test_every_surface_stays_clean_when_hostile_text_is_stored_on_both_databases(
    db_url: str,
) -> None:
    for index, hostile in enumerate(HOSTILE[:4] + HOSTILE[6:8]):
        run(db_url, "parties", "add", f"Q{index}", "--name", hostile, user=hostile)
        run(db_url, "note", "--on", "2024-01-05", "--note", hostile, "--as", hostile)
    record_hostile_ledger(db_url, HIDDEN, 1)
    for args in READS:
        assert run(db_url, *args).exit_code == 0, args


def test_every_recording_and_upkeep_command_prints_hostile_text_escaped_when_given_it(
    sqlite_url: str, hostile: str, tmp_path: Path
) -> None:
    record_hostile_ledger(sqlite_url, hostile, 1)
    for args in hostile_moves(hostile):
        dry = args[:2] != ["parties", "add"] and args[0] != "open"
        if dry:  # what it would leave, then the move itself
            assert run(sqlite_url, *args, "--dry-run").exit_code == 0, args
        assert run(sqlite_url, *args).exit_code == 0, args
    exported = tmp_path / "hostile.yaml"
    copied, imported = (f"sqlite:///{tmp_path / name}" for name in ("copied.db", "imported.db"))
    for args in (
        ["export", "-o", str(exported)], ["projections", "catch-up"],
        ["projections", "rebuild"], ["init"],
    ):  # fmt: skip
        assert run(sqlite_url, *args).exit_code == 0, args
    assert run(sqlite_url, "copy", "--from", sqlite_url, "--to", copied).exit_code == 0
    assert run(imported, "import", str(exported), "--dry-run", user=hostile).exit_code == 0
    assert run(imported, "import", str(exported), user=hostile).exit_code == 0
    for url in (copied, imported):
        assert run(url, "history", "hy").exit_code == 0


def test_every_served_page_shows_hostile_text_escaped_when_every_field_holds_it(
    sqlite_url: str, hostile: str
) -> None:
    record_hostile_ledger(sqlite_url, hostile, 1)
    with TestClient(create_app(sqlite_url)) as client:
        for path in PAGES:
            page = client.get(path)
            assert page.status_code == 200, (path, page.text[-2000:])
            raw = RAW.search(page.text)
            assert raw is None, (path, repr(page.text[max(raw.start() - 80, 0) : raw.end() + 80]))
            assert "[/bold]" not in page.text or "[/bold]" in hostile  # data, never markup


def test_json_carries_hostile_text_exactly_when_it_escapes_it(sqlite_url: str) -> None:
    record_hostile_ledger(sqlite_url, HOSTILE[7], 1)  # a right-to-left override
    parties = json.loads(run(sqlite_url, "parties", "list", "-f", "json").stdout)
    assert parties["H1"] == HOSTILE[7]
    history = json.loads(run(sqlite_url, "history", "hx", "-f", "json").stdout)
    assert {move["recorded_by"] for move in history} == {HOSTILE[7]}
    report = json.loads(run(sqlite_url, "report", "hx", "-f", "json", "-o", "-").stdout)
    assert HOSTILE[7] in json.dumps(report, ensure_ascii=False)


def test_csv_cells_start_no_formula_when_names_look_like_one(sqlite_url: str) -> None:
    for index, formula in enumerate(HOSTILE[11:15]):
        run(sqlite_url, "parties", "add", f"F{index}", "--name", formula)
    rows = list(csv.reader(io.StringIO(run(sqlite_url, "parties", "list", "-f", "csv").stdout)))
    names = {row[0]: row[1] for row in rows[1:]}  # code, name (then the colour)
    for index, formula in enumerate(HOSTILE[11:15]):
        assert names[f"F{index}"] == "'" + formula


def test_nul_in_free_text_is_refused_with_exit_2_when_given_on_the_command_line(
    sqlite_url: str,
) -> None:
    result = run(sqlite_url, "parties", "add", "NUL", "--name", "a\x00b")
    assert result.exit_code == 2
    assert "\\x00" in result.stderr


def test_plain_verify_lists_every_problem_with_exit_1_when_a_tampered_move_id_holds_markup(
    db_url: str,
) -> None:
    record_hostile_ledger(db_url, "[/bold] evil", 1)
    forged = '"move_id":"[/bold]\x1b[31mforged"'
    with write_transaction(get_engine(db_url)) as conn:
        if conn.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER IF EXISTS seatledger_events_no_update"))
            state = "CAST(REPLACE(CAST(state AS TEXT), :old, :new) AS BLOB)"
        else:
            conn.execute(
                text("DROP TRIGGER IF EXISTS seatledger_events_no_change ON seatledger_events")
            )
            state = "convert_to(replace(convert_from(state, 'UTF8'), :old, :new), 'UTF8')"
        conn.execute(
            text(f"UPDATE seatledger_events SET state = {state} WHERE state IS NOT NULL"),
            {"old": '"move_id":"hx-offer"', "new": forged.replace("\x1b", "\\u001b")},
        )
    for fmt in ("table", "csv", "json"):
        result = run(db_url, "verify", "-f", fmt)
        assert result.exit_code == 1, (fmt, result.output)
        assert "hash-mismatch" in result.stdout


# -- the layer itself -----------------------------------------------------------------


@FUZZ
@given(st.text())
def test_terminal_text_holds_no_unsafe_character_when_given_any_text(value: str) -> None:
    assert UNSAFE.search(terminal(value, limit=10**6)) is None
    assert UNSAFE.search(csv_cell(value)) is None
    safe = csv_cell(value)
    assert not safe.startswith(FORMULA_START) or SIGNED_NUMBER.fullmatch(safe)


@pytest.mark.parametrize("value", ["+16", "-3", "+0"])
def test_csv_keeps_a_signed_seat_count_a_number_when_it_starts_with_a_sign(value: str) -> None:
    assert csv_cell(value) == value


@pytest.mark.parametrize("value", ["+1+cmd|' /C calc'!A0", "-2+3", "=1", "+16 ", "@SUM(A1)"])
def test_csv_quotes_a_formula_when_it_only_starts_like_a_number(value: str) -> None:
    assert csv_cell(value).startswith("'")


@FUZZ
@given(st.text())
def test_escaping_changes_nothing_when_text_is_already_safe(value: str) -> None:
    if UNSAFE.search(value) is None:
        assert visible(value) == value
