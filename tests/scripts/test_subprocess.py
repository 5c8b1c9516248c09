"""The real thing: seatledger run as a process, its exit codes and what it writes where."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.scripts.test_upkeep import tamper
from tests.support.example import EXAMPLE

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(sys.executable).parent / "seatledger"


def seatledger(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `python -m scripts.cli ARGS` in `cwd`, without SEATLEDGER_DB unless given."""
    base = {k: v for k, v in os.environ.items() if k != "SEATLEDGER_DB"}
    base["PYTHONPATH"] = os.pathsep.join([str(ROOT), base.get("PYTHONPATH", "")])
    return subprocess.run(
        [sys.executable, "-m", "scripts.cli", *args],
        cwd=cwd,
        env={**base, "SEATLEDGER_USER": "analyst", **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def refused_cleanly(done: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    assert 1 <= len(done.stderr.strip().splitlines()) <= 2, done.stderr
    for needle in needles:
        assert needle in done.stderr


def test_import_then_split_exit_0_with_json_on_stdout(db_url: str, tmp_path: Path) -> None:
    assert seatledger("--db", db_url, "import", str(EXAMPLE), cwd=tmp_path).returncode == 0
    done = seatledger("--db", db_url, "split", "uttar-pradesh", "--format", "json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["split"] == {"SP": 63, "INC": 17}


def test_a_refused_move_exits_2_with_a_short_message_and_no_traceback(
    db_url: str, tmp_path: Path
) -> None:
    assert seatledger("--db", db_url, "import", str(EXAMPLE), cwd=tmp_path).returncode == 0
    over = seatledger(
        "propose", "delhi", "--by", "AAP", "--split", "AAP=5,INC=3", "--on", "2024-02-01",
        "--db", db_url, cwd=tmp_path,
    )  # fmt: skip
    refused_cleanly(over, "8 seats", "only 7")
    bad_date = seatledger("--db", db_url, "split", "delhi", "--as-of", "2024-02-30", cwd=tmp_path)
    refused_cleanly(bad_date, "--as-of")


def test_verify_exits_1_when_an_event_was_changed(db_url: str, tmp_path: Path) -> None:
    assert seatledger("--db", db_url, "import", str(EXAMPLE), cwd=tmp_path).returncode == 0
    assert seatledger("--db", db_url, "verify", cwd=tmp_path).returncode == 0
    tamper(db_url)
    done = seatledger("--db", db_url, "verify", cwd=tmp_path)
    assert done.returncode == 1 and "hash-mismatch" in done.stdout
    assert "Traceback" not in done.stderr


def test_the_default_ledger_is_seatledger_db_in_the_current_folder(tmp_path: Path) -> None:
    opened = seatledger(
        "open", "delhi", "--seats", "7", "--parties", "AAP,INC", "--on", "2024-01-08", cwd=tmp_path
    )
    assert opened.returncode == 0, opened.stderr
    assert opened.stdout.splitlines()[0] == "delhi/opened"
    assert (tmp_path / "seatledger.db").exists()


def test_the_environment_names_the_ledger_when_no_db_is_given(tmp_path: Path) -> None:
    env = {"SEATLEDGER_DB": f"sqlite:///{tmp_path / 'from-env.db'}"}
    assert seatledger("init", cwd=tmp_path, env=env).returncode == 0
    assert (tmp_path / "from-env.db").exists() and not (tmp_path / "seatledger.db").exists()


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    seatledger("init", cwd=tmp_path)
    done = seatledger(
        "--debug", "propose", "nowhere", "--by", "SP", "--split", "SP=1", "--on", "2024-01-01",
        cwd=tmp_path,
    )  # fmt: skip
    assert (
        done.returncode != 0 and "Traceback" in done.stderr and "UnknownPartyError" in done.stderr
    )


def test_version_and_help_exit_0(tmp_path: Path) -> None:
    version = seatledger("--version", cwd=tmp_path)
    assert version.returncode == 0 and version.stdout.startswith("seatledger ")
    assert seatledger("split", "--help", cwd=tmp_path).returncode == 0


@pytest.mark.skipif(not SCRIPT.exists(), reason=f"console script not installed at {SCRIPT}")
def test_the_console_script_runs(tmp_path: Path) -> None:
    done = subprocess.run(
        [str(SCRIPT), "--help"], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0 and "import" in done.stdout
