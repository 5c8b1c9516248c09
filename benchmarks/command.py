"""Whole processes, as a user waits for them: `seatledger split` against `python -c`
importing the modules it imports, and `seatledger import` of a ledger's files followed by
the first read (which catches the views up)."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

PROJECT = {"ledger", "projections", "scripts", "benchmarks", "tests", "__main__"}


def seatledger() -> list[str]:
    """The console script next to this interpreter, else the module it runs."""
    script = Path(sys.executable).with_name("seatledger")
    if script.exists():
        return [sys.executable, str(script)]
    return [sys.executable, "-m", "scripts.cli"]


def imported_modules(command: list[str], env: dict[str, str]) -> list[str]:
    """Every module the command imports that is not the project's own, in import order."""
    done = subprocess.run(
        [command[0], "-X", "importtime", *command[1:]],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    names = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        name = line.rsplit("|", 1)[1].strip()
        if name and name != "imported package" and name.split(".")[0] not in PROJECT:
            names.append(name)
    return names


def wall(command: list[str], env: dict[str, str], repeats: int) -> float:
    """Median wall time of a command, after one warm-up run."""
    subprocess.run(command, env=env, capture_output=True, check=True)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run(command, env=env, capture_output=True, check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def checkout_env() -> dict[str, str]:
    """The environment with this checkout's code first, even where the console script
    was installed from another."""
    root = str(Path(__file__).resolve().parent.parent)
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])),
    }


def split_command(url: str, meta: dict[str, Any]) -> list[str]:
    """`seatledger split` of the first talks in the middle of the season, as JSON."""
    as_of = date.fromisoformat(meta["first_day"]) + timedelta(days=meta["days"] // 2)
    slug = "n000-constituency-cluster"
    return [*seatledger(), "--db", url, "split", slug, "--as-of", as_of.isoformat(),
            "--format", "json"]  # fmt: skip


def split_wall_times(url: str, meta: dict[str, Any], repeats: int) -> tuple[float, float]:
    """(seatledger split, python -c importing the same modules): median wall seconds."""
    env = checkout_env()
    command = split_command(url, meta)
    subprocess.run(command, env=env, capture_output=True, check=True)  # catches the views up
    modules = imported_modules(command, env)
    program = (
        "import importlib\n"
        f"for name in {modules!r}:\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except Exception:\n"
        "        pass\n"
    )
    baseline = [sys.executable, "-c", program]
    return wall(command, env, repeats), wall(baseline, env, repeats)


def import_wall_times(url: str, meta: dict[str, Any]) -> tuple[float, float]:
    """(`seatledger import` of each file in turn, the first `seatledger split` after it):
    wall seconds of the whole processes, start-up included, into the empty ledger at `url`."""
    env = checkout_env()
    started = time.perf_counter()
    for path in meta["files"]:
        done = subprocess.run(
            [*seatledger(), "--db", url, "import", str(path)], env=env, capture_output=True
        )
        if done.returncode != 0:
            raise RuntimeError(f"seatledger import {path}: {done.stderr.decode()[-400:]}")
    imported = time.perf_counter() - started
    started = time.perf_counter()
    subprocess.run(split_command(url, meta), env=env, capture_output=True, check=True)
    return imported, time.perf_counter() - started
