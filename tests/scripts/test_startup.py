"""Start-up: a command imports its own module, not every command's (scripts.app.COMMANDS)."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import typer.main

from projections.api import LedgerViews
from scripts.app import COMMANDS, _command_name, app
from tests.support.example import record_example

ROOT = Path(__file__).resolve().parents[2]

RUN_AND_LIST_MODULES = """
import json, sys
from scripts.cli import app
try:
    app(sys.argv[2:])
except SystemExit:
    pass
print(json.dumps(sorted(m for m in sys.modules if m.startswith(sys.argv[1]))), file=sys.stderr)
"""
WRITE_SIDE = {"ledger.application", "ledger.timeline.document", "projections.views.catchup"}


def test_every_command_is_listed_with_the_module_that_registers_it() -> None:
    for module in COMMANDS.values():
        importlib.import_module(module)
    found = {_command_name(info): info.callback.__module__ for info in app.registered_commands}
    for group in app.registered_groups:
        sub = group.typer_instance
        assert sub is not None and group.name is not None
        found[group.name] = sub.registered_commands[0].callback.__module__
    assert found == COMMANDS
    assert list(typer.main.get_command(app).commands) == list(COMMANDS)


def run_listing(prefix: str, *args: str) -> tuple[set[str], subprocess.CompletedProcess[str]]:
    """Run the command line with `args`; the modules it imported whose names start so."""
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": path, "SEATLEDGER_USER": "analyst"}
    done = subprocess.run(
        [sys.executable, "-c", RUN_AND_LIST_MODULES, prefix, *args],
        env=env, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    return set(json.loads(done.stderr.strip().splitlines()[-1])), done


def test_split_imports_only_the_reading_commands_it_belongs_to() -> None:
    # Start-up time is what users wait for: `seatledger split` must not import the
    # recording, upkeep, diff, audit or web commands.
    loaded, done = run_listing("scripts.", "split", "--help")
    assert "Example: seatledger split" in done.stdout
    commands = set(COMMANDS.values())
    assert loaded & commands == {"scripts.read.views"}


def test_a_read_of_up_to_date_views_does_not_import_the_write_side(db_url: str) -> None:
    # The first read builds the views (it folds the log: the write side is needed); the
    # next finds them up to date and answers from them alone. A move recorded after that
    # makes the views lag, and the read catches them up before answering.
    record_example(db_url)
    split = ("--db", db_url, "split", "uttar-pradesh", "--format", "json")
    first, done = run_listing("", *split)
    assert first >= WRITE_SIDE
    second, again = run_listing("", *split)
    assert not WRITE_SIDE & second
    assert json.loads(again.stdout) == json.loads(done.stdout)
    note = ("--on", "2024-03-01", "--by", "SP", "--note", "talks go on")
    run_listing("", "--db", db_url, "note", "uttar-pradesh", *note)
    assert LedgerViews(db_url).status().lag > 0
    third, _ = run_listing("", *split)
    assert third >= WRITE_SIDE
    assert LedgerViews(db_url).status().lag == 0
