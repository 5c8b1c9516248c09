"""`seatledger copy`: a ledger moved to another database with nothing lost, into empty ones only."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from ledger.application import NegotiationLedger
from ledger.integrity.verifier import compute_digest
from projections.api import LedgerViews
from scripts.cli import app as cli
from tests.support.example import record_example


@pytest.fixture
def source(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'source.db'}"
    record_example(url)
    return url


def copy(source: str, target: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["copy", "--from", source, "--to", target])
    return result.exit_code, result.stdout, result.stderr


def test_copy_keeps_digest_and_recorded_times_when_moved_to_another_database(
    source: str, db_url: str
) -> None:
    code, out, err = copy(source, db_url)
    assert code == 0, err
    root = compute_digest(source).root
    assert compute_digest(db_url).root == root
    assert f"digest {root} on both" in out and "ok:" in out
    mine, theirs = LedgerViews(db_url), LedgerViews(source)
    assert mine.history("delhi", None, None) == theirs.history("delhi", None, None)
    assert mine.status().position == theirs.status().position  # views rebuilt there


def test_target_takes_new_moves_after_the_copy_when_it_is_recorded_to(
    source: str, db_url: str
) -> None:
    assert copy(source, db_url)[0] == 0
    app = NegotiationLedger(db_url, recorded_by="analyst")
    result = CliRunner().invoke(
        cli, ["--db", db_url, "note", "delhi", "--on", "2024-06-04", "--note", "results"]
    )
    assert result.exit_code == 0, result.stderr
    assert (
        app.negotiation("delhi").version
        == NegotiationLedger(source).negotiation("delhi").version + 1
    )
    verified = CliRunner().invoke(cli, ["--db", db_url, "verify"])
    assert verified.exit_code == 0, verified.stdout


def test_copy_is_refused_when_the_target_is_not_empty(source: str, db_url: str) -> None:
    record_example(db_url, recorded_by="someone")
    before = compute_digest(db_url)
    code, _, err = copy(source, db_url)
    assert code == 2
    assert "is not empty" in err
    after = compute_digest(db_url)
    assert (after.root, after.events) == (before.root, before.events)


def test_copy_is_refused_when_the_source_does_not_exist(tmp_path: Path, db_url: str) -> None:
    code, _, err = copy(f"sqlite:///{tmp_path / 'missing.db'}", db_url)
    assert code == 2
    assert "no ledger" in err


def test_copy_is_refused_when_source_and_target_are_one_database(source: str) -> None:
    code, _, err = copy(source, source)
    assert code == 2
    assert "same database" in err
