"""docs/cli.md is the program's own reference: it matches the Typer app and the JSON it prints."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scripts.cli import app
from scripts.reference import OUTPUTS, Output, reference
from tests.support.example import EXAMPLE

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "cli.md"


def test_docs_cli_md_matches_the_command_line_when_regenerated() -> None:
    assert DOC.read_text(encoding="utf-8") == reference(), (
        "docs/cli.md is out of date: run `python3.11 dev.py docs` and commit it"
    )


def test_every_command_has_a_section_with_its_help_when_the_reference_is_written() -> None:
    text = reference()
    for line in text.splitlines():
        if line.startswith("## `seatledger "):
            name = line.strip("#` ")
            section = text.split(line, 1)[1].split("\n## ", 1)[0]
            # Every command's section opens with its help text, not straight with usage.
            assert section.strip().split("\n", 1)[0] not in ("", "```"), name


def test_readme_and_docs_link_only_inside_the_repository() -> None:
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for target in re.findall(r"\]\(([^)#\s]+)", path.read_text(encoding="utf-8")):
            if target.startswith(("http://", "https://", "mailto:")):
                continue
            assert (path.parent / target).resolve().is_relative_to(ROOT), (path.name, target)
            assert (path.parent / target).exists(), (path.name, target)


@pytest.fixture(scope="module")
def example_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('reference') / 'ledger.db'}"
    done = CliRunner().invoke(app, ["--db", url, "import", str(EXAMPLE)])
    assert done.exit_code == 0, done.output
    return url


@pytest.mark.parametrize("out", OUTPUTS, ids=lambda out: " ".join(out.command[:2]))
def test_documented_json_keys_are_the_keys_the_command_prints(example_db: str, out: Output) -> None:
    done = CliRunner().invoke(app, ["--db", example_db, *out.command, "--format", "json"])
    assert done.exit_code == 0, done.output
    payload = json.loads(done.stdout)
    items = [payload] if out.shape == "object" else payload
    assert items, "the example ledger should give at least one item"
    for item in items:
        keys = set(item)
        assert set(out.keys) <= keys, f"documented but missing: {set(out.keys) - keys}"
        assert keys <= set(out.keys) | set(out.optional), (
            f"printed but not documented: {keys - set(out.keys) - set(out.optional)}"
        )
