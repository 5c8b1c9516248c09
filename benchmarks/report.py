"""Figures as rows, printed as a table and written into BENCHMARKS.md."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

START = "<!-- results:start (written by `python -m benchmarks --markdown BENCHMARKS.md`) -->"
END = "<!-- results:end -->"


@dataclass
class Figure:
    """One measured figure, its same-run baseline and the ratio the target is about."""

    figure: str
    backend: str
    size: int | None
    value: str
    baseline: str
    ratio: float | None
    target: str
    met: bool | None
    note: str = ""

    def row(self) -> list[str]:
        size = "" if self.size is None else f"{self.size:,}"
        ratio = "" if self.ratio is None else f"{self.ratio:.2f}"
        met = {True: "yes", False: "NO", None: ""}[self.met]
        return [
            self.figure,
            self.backend,
            size,
            self.value,
            self.baseline,
            ratio,
            self.target,
            met,
            self.note,
        ]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


HEADERS = ["figure", "db", "events", "ours", "baseline", "ratio", "target", "met", "note"]


@dataclass
class RecorderFigure:
    """Application saves through one recorder: batched and one save per event."""

    recorder: str
    backend: str
    batched: str
    single: str
    note: str = ""

    def row(self) -> list[str]:
        return [self.recorder, self.backend, self.batched, self.single, self.note]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


RECORDER_HEADERS = ["recorder", "db", "saves of 100-event aggregates", "one save per event", "note"]


def rate(events: float, seconds: float) -> str:
    """Events per second, readable."""
    return f"{events / seconds:,.0f}/s" if seconds > 0 else "-"


def text_table(figures: list[Figure] | list[RecorderFigure], headers: list[str] = HEADERS) -> str:
    """A plain table for the terminal."""
    rows = [headers, *[f.row() for f in figures]]
    widths = [max(len(r[i]) for r in rows) for i in range(len(headers))]
    lines = []
    for n, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def markdown_table(
    figures: list[Figure] | list[RecorderFigure], headers: list[str] = HEADERS
) -> str:
    """The same table in Markdown."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for f in figures:
        cells = [c.replace("|", "\\|") for c in f.row()]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def machine_block(machine: dict[str, Any], command: str) -> str:
    """Where and how the figures were measured."""
    packages = ", ".join(f"{k} {v}" for k, v in machine["packages"].items())
    return "\n".join(
        [
            f"- command: `{command}`",
            f"- commit: `{machine['commit']}`"
            + (
                " (`+dirty`: uncommitted changes in ledger/, projections/ or scripts/ were "
                "measured too)"
                if machine["commit"].endswith("+dirty")
                else ""
            ),
            f"- machine: {machine['nproc']} CPUs ({machine['cpu']}), {machine['ram_gib']} GiB RAM, "
            f"load average at start {machine['load_average_at_start']} (shared with other "
            "engineers' test runs: absolute numbers are noisy, ratios less so)",
            f"- Python {machine['python']}, SQLite {machine['sqlite']}, "
            f"PostgreSQL {machine['postgresql']}; {packages}",
        ]
    )


def write_markdown(
    path: Path,
    figures: list[Figure],
    recorders: list[RecorderFigure],
    machine: dict[str, Any],
    command: str,
) -> None:
    """Replace the results block of `path` (between the markers), keeping the prose around it."""
    block = "\n\n".join(
        [
            START,
            machine_block(machine, command),
            markdown_table(figures),
            "Recorder choice (the same Application and events, only the recorder differs; "
            "events/s, same run):",
            markdown_table(recorders, RECORDER_HEADERS)
            if recorders
            else "_not measured in this run_",
            END,
        ]
    )
    text = path.read_text() if path.exists() else f"# Benchmarks\n\n{START}\n{END}\n"
    if START not in text:
        text = text.rstrip() + f"\n\n{START}\n{END}\n"
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.DOTALL)
    path.write_text(pattern.sub(lambda _: block, text, count=1))
