#!/usr/bin/env python3
"""Set up and run seatledger with nothing but Python 3.11: `python3.11 dev.py demo|test|bench`.

Each command creates `.venv` (if missing), installs the project into it (again only when
pyproject.toml changed), then runs. Standard library only, so it works on a fresh machine.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"
EXAMPLE = ROOT / "examples" / "india-bloc-2024-seats.yaml"  # timeline@2: seat by seat


def say(text: str) -> None:
    print(f"\033[1m==> {text}\033[0m", flush=True)


def run(*args: str | Path, check: bool = True) -> int:
    """Run a command, echoing it; stop on failure."""
    print("$ " + " ".join(str(a) for a in args), flush=True)
    code = subprocess.call([str(a) for a in args], cwd=ROOT)
    if check and code != 0:
        sys.exit(code)
    return code


def ensure_env(extras: str) -> None:
    """Create the virtual environment and install the project (with `extras`) into it."""
    if sys.version_info[:2] != (3, 11):
        sys.exit(f"seatledger needs Python 3.11; this is {sys.version.split()[0]}")
    if not PY.exists():
        say(f"creating {VENV.relative_to(ROOT)}")
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    stamp = VENV / f".installed-{extras or 'base'}"
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == wanted:
        return
    say(f"installing seatledger{f'[{extras}]' if extras else ''} into .venv")
    run(PY, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    target = f".[{extras}]" if extras else "."
    run(PY, "-m", "pip", "install", "--quiet", "-e", target)
    stamp.write_text(wanted)


def demo(args: list[str]) -> None:
    """The main job: record the example timeline, show splits and seats on dates, a report."""
    ensure_env("")
    cli = BIN / "seatledger"
    out = ROOT / "out"
    out.mkdir(exist_ok=True)
    say("recording the example timeline into ./seatledger.db (re-running changes nothing)")
    if run(cli, "import", EXAMPLE, check=False) != 0:
        sys.exit(
            "seatledger.db holds other moves under the example's ids (made by an older demo?): "
            "move it aside and run the demo again"
        )
    say("every negotiation's split on 2024-02-01 (talks under way)")
    run(cli, "splits", "--as-of", "2024-02-01")
    say("every negotiation's split on 2024-04-30 (deals done)")
    run(cli, "splits", "--as-of", "2024-04-30")
    say("national roll-up of agreed seats on 2024-04-30")
    run(cli, "rollup", "--as-of", "2024-04-30")
    say("Uttar Pradesh's history: SP gives Bhadohi to TMC on 15 March")
    run(cli, "history", "uttar-pradesh")
    say("who held Bhadohi on 1 March, and since when it is TMC's")
    run(cli, "seat", "uttar-pradesh", "Bhadohi", "--as-of", "2024-03-01")
    run(cli, "seat", "uttar-pradesh", "Bhadohi")
    say("Delhi's seven seats as agreed on 24 February")
    run(cli, "seats", "delhi", "--as-of", "2024-02-24")
    say("Tamil Nadu on 8 March: the DMK's pacts settled, the alliance not yet signed")
    run(cli, "split", "tamil-nadu", "--as-of", "2024-03-08")
    run(cli, "seats", "tamil-nadu", "--as-of", "2024-03-08")
    report = out / "india-bloc-report.html"
    say(f"audit report -> {report.relative_to(ROOT)}")
    run(cli, "report", "--all", "--format", "html", "-o", report)
    run(cli, "verify", "--report", report)
    say(f"done: open {report} in a browser")


def test(args: list[str]) -> None:
    """The whole test suite, on SQLite and PostgreSQL (a throwaway server if none runs)."""
    ensure_env("test")
    code = run(PY, "-m", "pytest", *(args or ["-q"]), check=False)
    sys.exit(code)


def bench(args: list[str]) -> None:
    """The benchmarks (see BENCHMARKS.md); `--sizes 10000` for a quick run."""
    ensure_env("test")
    sys.exit(run(PY, "-m", "benchmarks", *args, check=False))


def docs(args: list[str]) -> None:
    """Rewrite docs/cli.md from the command line's own definitions (a test keeps them equal)."""
    ensure_env("")
    target = ROOT / "docs" / "cli.md"
    text = subprocess.run(
        [str(PY), "-m", "scripts.reference"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout
    target.write_text(text, encoding="utf-8")
    say(f"wrote {target.relative_to(ROOT)}")


COMMANDS = {"demo": demo, "test": test, "bench": bench, "docs": docs}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(f"usage: python3.11 dev.py {{{'|'.join(COMMANDS)}}} [args...]\n{__doc__}")
    COMMANDS[sys.argv[1]](sys.argv[2:])
