"""Audit: write a report for people, and replay the event log itself as a cross-check."""

from __future__ import annotations

import sys
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from ledger.domain.errors import InputError
from projections.answers import Scope
from projections.reference import replay_history, replay_rollup, replay_split, replay_splits
from scripts.app import app, database
from scripts.options import (
    AsOfOpt,
    DbOpt,
    DebugOpt,
    HistoryFormat,
    KnownOnOpt,
    OnlyAllianceOpt,
    OnlyElectionOpt,
    parse_date,
    parse_slug,
)
from scripts.read.views import open_views, show_history, show_rollup, show_split, show_splits, when
from scripts.store import require_ledger


class ReportFormat(StrEnum):
    """Audit report formats; each carries the same facts."""

    html = "html"
    markdown = "markdown"
    json = "json"


class ReplayView(StrEnum):
    """What to replay."""

    splits = "splits"
    rollup = "rollup"
    history = "history"


_SUFFIXES = {
    ".md": ReportFormat.markdown,
    ".markdown": ReportFormat.markdown,
    ".json": ReportFormat.json,
}
MaybeNegotiationArg = Annotated[
    str | None,
    typer.Argument(
        metavar="[NEGOTIATION]",
        parser=parse_slug,
        help="One negotiation; leave it out for all of them. Example: uttar-pradesh",
        show_default=False,
    ),
]


@app.command(rich_help_panel="Reading")
def report(
    ctx: typer.Context,
    output: Annotated[
        Path,
        typer.Option(
            "--output", "-o", metavar="FILE",
            help="Where to write it (- for standard output). Example: -o report.html",
        ),
    ],
    negotiation: MaybeNegotiationArg = None,
    all_: Annotated[bool, typer.Option("--all", help="Report on every negotiation.")] = False,
    as_of: AsOfOpt = None,
    known_on: KnownOnOpt = None,
    fmt: Annotated[
        ReportFormat | None,
        typer.Option(
            "--format", "-f", help="html, markdown or json; default: from FILE's suffix, else html."
        ),
    ] = None,
    diff_from: Annotated[
        date | None,
        typer.Option(
            "--diff-from", metavar="DATE", parser=parse_date,
            help="Add a 'what changed' section: from DATE to --as-of (as `seatledger diff`).",
        ),
    ] = None,
    election: OnlyElectionOpt = None,
    alliance: OnlyAllianceOpt = None,
    db: DbOpt = None,
    debug: DebugOpt = False,
) -> None:  # fmt: skip
    """Write an audit report: status and split, seats over time, every move and its source.

    The HTML file is self-contained (styles and charts inline; it fetches nothing) and names
    the ledger digest it was made from.

    Example: seatledger report --all --as-of 2024-04-30 --format html -o report.html
    """
    if (negotiation is None) != all_:
        raise InputError("give one NEGOTIATION, or --all for every negotiation (not both)")
    if negotiation is not None and (election is not None or alliance is not None):
        raise InputError(
            "--election and --alliance limit a report of --all, not of one NEGOTIATION"
        )
    chosen = fmt or _SUFFIXES.get(output.suffix.lower(), ReportFormat.html)
    open_views(ctx, db, debug)  # catch the views up first (with a bar on a long backlog)
    url = require_ledger(database(ctx, db, debug))
    from projections.reports.gather import build_report  # here: not every command's start-up

    text = build_report(
        url, negotiation, as_of, known_on, chosen.value, diff_from, Scope(election, alliance)
    )
    if str(output) == "-":
        sys.stdout.write(text)
        return
    output.write_text(text, encoding="utf-8")
    typer.echo(
        f"wrote the {chosen.value} report of {negotiation or 'every negotiation'} to {output}"
    )


@app.command(rich_help_panel="Reading")
def replay(
    ctx: typer.Context,
    negotiation: MaybeNegotiationArg = None,
    view: Annotated[
        ReplayView,
        typer.Option("--view", help="splits, rollup or history. Example: --view rollup"),
    ] = ReplayView.splits,
    as_of: AsOfOpt = None,
    known_on: KnownOnOpt = None,
    fmt: Annotated[
        HistoryFormat, typer.Option("--format", "-f", help="table, json, csv or markdown.")
    ] = HistoryFormat.table,
    db: DbOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Fold the event log itself (no projection tables): the same answers, checked another way.

    Example: seatledger replay --as-of 2024-02-29 --format json
    """
    url = require_ledger(database(ctx, db, debug))
    said = f"replayed from the event log {when(as_of, known_on)}"
    if view is ReplayView.rollup:
        show_rollup(replay_rollup(url, as_of, known_on), fmt.value, said)
    elif view is ReplayView.history:
        moves = replay_history(url, negotiation, as_of, known_on)
        show_history(moves, fmt.value, f"History of {negotiation or 'the ledger'} {said}")
    elif negotiation is not None:
        show_split(replay_split(url, negotiation, as_of, known_on), fmt.value, said)
    else:
        show_splits(replay_splits(url, as_of, known_on), fmt.value, f"Splits {said}")
