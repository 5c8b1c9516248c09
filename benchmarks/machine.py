"""What the figures were measured on: the machine, the versions and the commit."""

from __future__ import annotations

import os
import platform
import sqlite3
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("eventsourcing", "eventsourcing-sqlalchemy", "SQLAlchemy", "psycopg", "pydantic")


def cpu_model() -> str:
    """The CPU model as /proc/cpuinfo names it (or the platform's guess)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def ram_gib() -> float:
    """Total memory in GiB."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return float("nan")


def load_average() -> str:
    """The 1, 5 and 15 minute load averages: how busy the shared machine was."""
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def git_commit() -> str:
    """The commit measured, with `+dirty` if the working tree has changes."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
        return done.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    # Untracked files count too: a colleague's module not yet committed is still measured.
    dirty = git("status", "--porcelain", "--", "ledger", "projections", "scripts")
    return f"{commit}+dirty" if dirty else commit


def postgres_version(url: str | None) -> str:
    """The server's version string, or why it is unknown."""
    if url is None:
        return "not measured"
    from sqlalchemy import text

    from ledger.persistence.engine import get_engine

    with get_engine(url).connect() as conn:
        return str(conn.execute(text("SHOW server_version")).scalar())


def describe(pg_url: str | None) -> dict[str, Any]:
    """Everything BENCHMARKS.md states about where its figures come from."""
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "absent"
    return {
        "nproc": os.cpu_count(),
        "ram_gib": round(ram_gib(), 1),
        "cpu": cpu_model(),
        "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version,
        "postgresql": postgres_version(pg_url),
        "packages": versions,
        "commit": git_commit(),
        "load_average_at_start": load_average(),
    }
