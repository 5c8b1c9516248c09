"""One shared way to print: Rich tables for people; JSON, CSV and Markdown for programs.

Every string from the ledger reaches a surface through here, as data: Rich never reads it as
markup (cells and titles are `Text`), control and bidi characters are shown escaped
(`ledger.inert`), long values are cut short on a terminal, CSV cells never start a formula,
and JSON escapes what its encoder would leave raw while keeping the data exact.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from ledger.domain.alliance import AllianceState
from ledger.domain.state import NegotiationState
from ledger.inert import json_inert, shorten, visible

Row = Mapping[str, Any]
ProgressFn = Callable[[int, int], None]


PIPE_WIDTH = 160  # Rich assumes 80 columns off a terminal; tables read better unwrapped
_IDS = {"id", "negotiation", "on"}
CELL_LIMIT = 300  # characters of one value on a terminal; JSON and CSV carry it whole
LINE_LIMIT = 1000  # characters of one line of a message
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # OWASP: what a spreadsheet may run
SIGNED_NUMBER = re.compile(r"[+-][0-9]+")  # seats moved ('+16', '-3'): a number, never a formula


def terminal(text: str, limit: int = CELL_LIMIT) -> str:
    """Ledger text for a terminal: cut to `limit` characters, control characters escaped."""
    return visible(shorten(text, limit))


def echo(message: str, *, err: bool = False) -> None:
    """Print lines that may carry ledger text (each line escaped and cut short)."""
    lines = message.split("\n")
    typer.echo("\n".join(terminal(line, LINE_LIMIT) for line in lines), err=err)


def csv_cell(value: Any) -> str:
    """A CSV cell a spreadsheet shows as text: escaped controls, a quote before a formula."""
    text = visible(cell(value, machine=True))
    if SIGNED_NUMBER.fullmatch(text):
        return text
    if isinstance(value, str | Mapping | list | tuple) and text.startswith(FORMULA_START):
        return "'" + text
    return text


def stdout() -> Console:
    """A console on standard output (looked up at call time, so tests can capture it)."""
    console = Console(file=sys.stdout, soft_wrap=False)
    if not console.is_terminal:
        console.width = PIPE_WIDTH
    return console


def stderr() -> Console:
    """A console on standard error, for progress bars."""
    return Console(file=sys.stderr)


def print_json(payload: Any) -> None:
    """Print JSON exactly as the library built it (dates as ISO strings)."""
    text = json.dumps(payload, indent=2, ensure_ascii=False, default=_iso)
    sys.stdout.write(json_inert(text) + "\n")


def _iso(value: Any) -> Any:
    isoformat = getattr(value, "isoformat", None)
    if callable(isoformat):
        return isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def split_text(split: Mapping[str, int] | None, sep: str = " ") -> str:
    """'SP 63, INC 17' for people; with sep='=' and no spaces it is the --split syntax."""
    if not split:
        return ""
    joiner = "," if sep == "=" else ", "
    return joiner.join(f"{party}{sep}{seats}" for party, seats in split.items())


def cell(value: Any, *, machine: bool = False) -> str:
    """One value as text: splits as PARTY=SEATS (machine) or 'PARTY SEATS', lists joined."""
    if value is None:
        return ""
    if isinstance(value, Mapping):
        return split_text(value, "=" if machine else " ")
    if isinstance(value, list | tuple | set | frozenset):
        return ",".join(str(v) for v in value) if machine else ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    isoformat = getattr(value, "isoformat", None)
    if callable(isoformat):
        return str(isoformat())
    return str(value)


def print_rows(
    rows: Sequence[Row],
    columns: Sequence[str],
    fmt: str,
    *,
    title: str | None = None,
    payload: Any = None,
) -> None:
    """Print rows as a table, CSV or Markdown; JSON prints `payload` (default: the rows)."""
    if fmt == "json":
        print_json(list(rows) if payload is None else payload)
    elif fmt == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([csv_cell(row.get(c)) for c in columns])
    elif fmt == "markdown":
        sys.stdout.write(markdown_table(rows, columns, title=title))
    else:
        table = Table(show_lines=False)
        for column in columns:
            table.add_column(column.replace("_", " "), overflow="fold", no_wrap=column in _IDS)
        for row in rows:
            table.add_row(*(Text(terminal(cell(row.get(c)))) for c in columns))
        if not rows:
            table.caption = "(nothing)"
        console = stdout()
        if title:
            console.print(Text(terminal(title, LINE_LIMIT), style="bold"))
        console.print(table)


def markdown_table(rows: Sequence[Row], columns: Sequence[str], *, title: str | None = None) -> str:
    """A GitHub-flavoured Markdown table (pipes in values escaped)."""
    lines = [f"### {visible(title)}", ""] if title else []
    lines.append("| " + " | ".join(columns) + " |")
    lines.append("| " + " | ".join("---" for _ in columns) + " |")
    for row in rows:
        values = (visible(cell(row.get(c)).replace("\n", " ")).replace("|", "\\|") for c in columns)
        lines.append("| " + " | ".join(values) + " |")
    return "\n".join(lines) + "\n"


def describe_state(state: NegotiationState | AllianceState | None) -> str:
    """Where talks stand, in one line: status, the split on the table and who made it."""
    if isinstance(state, AllianceState):
        return f"alliance {state.alliance}: members {', '.join(sorted(state.members)) or 'none'}"
    if not isinstance(state, NegotiationState):
        return ""
    text = f"{state.negotiation} {state.status}"
    split = state.split
    if split:
        unallocated = state.seats - sum(split.values())
        text += f": {split_text(split)} of {state.seats} seats ({unallocated} unallocated)"
        if state.maker:
            text += f", on the table from {state.maker}"
    elif state.status == "negotiating":
        text += ": nothing on the table"
    return text


@contextmanager
def progress_bar(label: str, *, at_least: int = 0) -> Iterator[ProgressFn]:
    """A callback(done, total) drawing a Rich bar on stderr once total reaches `at_least`."""
    bar: Progress | None = None
    task: Any = None

    def update(done: int, total: int) -> None:
        nonlocal bar, task
        if total < at_least:
            return
        if bar is None:
            bar = Progress(
                TextColumn("{task.description}", markup=False),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=stderr(),
                transient=True,
            )
            bar.start()
            task = bar.add_task(terminal(label), total=max(total, 1))
        bar.update(task, completed=done, total=max(total, 1))

    try:
        yield update
    finally:
        if bar is not None:
            bar.stop()
