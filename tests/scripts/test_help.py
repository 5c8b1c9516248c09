"""Every command teaches: help text with an example, help on every option, a README entry."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from scripts.cli import app

README = Path(__file__).resolve().parents[2] / "README.md"


def commands(group: Any = None, path: tuple[str, ...] = ()) -> Iterator[tuple[str, Any]]:
    """(`seatledger a b`, command) for every leaf command, groups walked."""
    group = group or typer.main.get_command(app)
    for name, command in getattr(group, "commands", {}).items():
        if getattr(command, "commands", None):
            yield from commands(command, (*path, name))
        else:
            yield " ".join(("seatledger", *path, name)), command


ALL = sorted(commands())
NAMES = [name for name, _ in ALL]


def test_the_commands_of_cli_md_all_exist() -> None:
    documented = {
        "init", "open", "propose", "counter", "accept", "reject", "withdraw", "agree", "amend",
        "meet", "join", "walkout", "end", "note", "correct", "import", "export", "split",
        "splits", "rollup", "history", "report", "replay", "verify", "digest",
        "projections status", "projections catch-up", "projections rebuild",
    }  # fmt: skip
    assert {f"seatledger {c}" for c in documented} <= set(NAMES)


@pytest.mark.parametrize(("name", "command"), ALL, ids=NAMES)
def test_every_command_has_help_with_an_example(name: str, command: Any) -> None:
    assert command.help and len(command.help.strip()) > 20, name
    assert "Example: seatledger" in command.help, f"{name}: give an example in the docstring"


@pytest.mark.parametrize(("name", "command"), ALL, ids=NAMES)
def test_every_option_and_argument_has_help(name: str, command: Any) -> None:
    for param in command.params:
        assert getattr(param, "help", None), f"{name}: {param.name} has no help text"


@pytest.mark.parametrize("name", NAMES)
def test_help_runs_for_every_command(name: str) -> None:
    result = CliRunner().invoke(app, [*name.split()[1:], "--help"])
    assert result.exit_code == 0 and "Example" in result.stdout


def test_every_command_is_in_the_readme_command_reference() -> None:
    if not README.exists():
        pytest.skip("README.md is not written yet; its '## Command reference' is checked then")
    text = README.read_text(encoding="utf-8")
    found = re.search(r"^## Command reference\s*$(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert found, "README.md has no '## Command reference' section"
    section = found.group(1)
    missing = [name for name in NAMES if not re.search(rf"{re.escape(name)}(?![\w-])", section)]
    assert not missing, f"not in the README's command reference: {', '.join(missing)}"
