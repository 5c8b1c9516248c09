"""Reports carry their proof: `verify --report FILE` names any number edited by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ledger.integrity.verifier import compute_digest
from scripts.cli import app as cli

FORMATS = {"html": "report.html", "markdown": "report.md", "json": "report.json"}


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def report(url: str, folder: Path, fmt: str, *extra: str) -> Path:
    path = folder / FORMATS[fmt]
    code, _, err = run("--db", url, "report", "--all", "--format", fmt, "-o", str(path), *extra)
    assert code == 0, err
    return path


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_report_states_both_digests_when_written(
    example_ledger: str, tmp_path: Path, fmt: str
) -> None:
    text = report(example_ledger, tmp_path, fmt).read_text()
    assert compute_digest(example_ledger).root in text
    if fmt == "json":
        views = json.loads(text)["views"]
        assert len(views["digest"]) == 64 and views["known_through"]
    else:
        assert "Views digest" in text and "seatledger-report" in text


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_report_verifies_when_moves_were_recorded_after_it(
    example_ledger: str, tmp_path: Path, fmt: str
) -> None:
    path = report(example_ledger, tmp_path, fmt)
    for move in (
        ["amend", "uttar-pradesh", "--split", "SP=60,INC=20", "--on", "2024-03-25"],
        ["note", "delhi", "--on", "2024-02-01", "--note", "a late fact, dated back"],
        ["correct", "delhi-agreement", "--split", "AAP=5,INC=2"],
    ):
        assert run("--db", example_ledger, *move)[0] == 0
    code, out, _ = run("--db", example_ledger, "verify", "--report", str(path))
    assert code == 0, out


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_hand_edited_number_is_named_when_the_report_is_verified(
    example_ledger: str, tmp_path: Path, fmt: str
) -> None:
    path = report(example_ledger, tmp_path, fmt)
    text = path.read_text()
    if fmt == "json":
        data = json.loads(text)
        delhi = next(n for n in data["negotiations"] if n["negotiation"] == "delhi")
        delhi["split"]["AAP"] = 7
        path.write_text(json.dumps(data, indent=2))
    else:
        assert "AAP 4 · INC 3" in text
        path.write_text(text.replace("AAP 4 · INC 3", "AAP 7 · INC 0", 1))
    code, out, _ = run("--db", example_ledger, "verify", "--report", str(path), "--format", "json")
    assert code == 1
    (found,) = json.loads(out)["findings"]["report"]
    if fmt == "json":
        assert (
            "negotiations[1:delhi].split.AAP: the report says 7, the ledger 4"
            in found["description"]
        )
    else:
        assert "[7]" in found["description"] and "[4]" in found["description"]


def test_report_is_named_when_its_ledger_digest_was_edited(
    example_ledger: str, tmp_path: Path
) -> None:
    path = report(example_ledger, tmp_path, "markdown")
    root = compute_digest(example_ledger).root
    path.write_text(path.read_text().replace(root, "0" * 64))
    code, out, _ = run("--db", example_ledger, "verify", "--report", str(path))
    assert code == 1
    assert "ledger digest: the report says root 0000000000000000" in out


def test_file_that_is_not_a_report_is_refused(example_ledger: str, tmp_path: Path) -> None:
    path = tmp_path / "notes.md"
    path.write_text("# My notes\n\nAAP 4, INC 3\n")
    code, _, err = run("--db", example_ledger, "verify", "--report", str(path))
    assert code == 2
    assert "not a seatledger report" in err


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_report_limited_to_an_alliance_verifies_when_other_talks_exist(
    example_ledger: str, tmp_path: Path, fmt: str
) -> None:
    opened = ["open", "up-2019", "--seats", "80", "--parties", "SP,INC", "--on", "2019-01-04",
              "--election", "Lok Sabha 2019"]  # fmt: skip
    assert run("--db", example_ledger, *opened)[0] == 0
    path = report(example_ledger, tmp_path, fmt, "--alliance", "india-bloc")
    assert "up-2019" not in path.read_text()
    code, out, _ = run("--db", example_ledger, "verify", "--report", str(path))
    assert code == 0, out
    whole = report(example_ledger, tmp_path, fmt)  # the same file name, now of every talks
    text = whole.read_text()
    assert "up-2019" in text
    path.write_text(text.replace("up-2019", "up-2O19"))
    assert run("--db", example_ledger, "verify", "--report", str(path))[0] == 1
