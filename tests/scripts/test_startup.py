"""Start-up: a command imports its own module, not every command's (scripts.app.COMMANDS)."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import typer.main

from scripts.app import COMMANDS, _command_name, app

ROOT = Path(__file__).resolve().parents[2]

RUN_AND_LIST_MODULES = """
import json, sys
from scripts.cli import app
try:
    app(sys.argv[1:])
except SystemExit:
    pass
print(json.dumps(sorted(m for m in sys.modules if m.startswith("scripts."))), file=sys.stderr)
"""


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


def test_split_imports_only_the_reading_commands_it_belongs_to() -> None:
    # Start-up time is what users wait for: `seatledger split` must not import the
    # recording, upkeep, diff, audit or web commands.
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": path}
    done = subprocess.run(
        [sys.executable, "-c", RUN_AND_LIST_MODULES, "split", "--help"],
        env=env, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    loaded = set(json.loads(done.stderr.strip().splitlines()[-1]))
    assert "Example: seatledger split" in done.stdout
    commands = set(COMMANDS.values())
    assert loaded & commands == {"scripts.read.views"}
