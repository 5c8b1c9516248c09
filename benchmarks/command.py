"""`seatledger split` wall time against `python -c` importing the modules it imports."""

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


def split_wall_times(url: str, meta: dict[str, Any], repeats: int) -> tuple[float, float]:
    """(seatledger split, python -c importing the same modules): median wall seconds."""
    # This checkout's code first, even where the console script was installed from another.
    root = str(Path(__file__).resolve().parent.parent)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])),
    }
    as_of = date.fromisoformat(meta["first_day"]) + timedelta(days=meta["days"] // 2)
    slug = "n000-constituency-cluster"
    command = [
        *seatledger(),
        "--db",
        url,
        "split",
        slug,
        "--as-of",
        as_of.isoformat(),
        "--format",
        "json",
    ]
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
