"""Reading commands: the split, every split, the roll-up and the history of the talks.

Each answers "as of D, as known on K" and prints with the shared --format option.
"""

from __future__ import annotations

from datetime import date
from textwrap import shorten
from typing import Annotated, Any

import typer

from projections.answers import MoveView, RollupView, Scope, SplitView
from projections.api import LedgerViews
from projections.reports.text import moved_text, web_link
from scripts.app import app, database
from scripts.options import (
    AsOfOpt,
    DbOpt,
    DebugOpt,
    Format,
    FormatOpt,
    HistoryFormat,
    HistoryFormatOpt,
    KnownOnOpt,
    OnlyAllianceOpt,
    OnlyElectionOpt,
    parse_slug,
)
from scripts.output import print_json, print_rows, progress_bar
from scripts.store import require_ledger

SPLIT_KEYS = [
    "negotiation",
    "region",
    "seats",
    "as_of",
    "known_on",
    "status",
    "split",
    "unallocated",
    "by",
]
SPLIT_TABLE = ["negotiation", "status", "split", "unallocated", "by"]
HISTORY_KEYS = [
    "id", "type", "on", "recorded_at", "recorded_by", "by", "split", "seats_moved", "source",
    "note", "corrects", "corrected_by",
]  # fmt: skip
HISTORY_TABLE = [
    "id",
    "type",
    "on",
    "by",
    "split",
    "seats_moved",
    "recorded_at",
    "recorded_by",
    "source",
    "note",
    "corrects",
    "corrected_by",
]
NOTE_WIDTH = 40  # a table's note is cut to this many characters unless --wide
GIVEN_SHOWN = 3  # a table names this many seats that changed hands unless --wide
CATCH_UP_BAR_FROM = 500  # events behind: below this a catch-up is quicker than a bar

NegotiationArg = Annotated[
    str,
    typer.Argument(
        metavar="NEGOTIATION", parser=parse_slug, help="Example: uttar-pradesh", show_default=False
    ),
]


def open_views(ctx: typer.Context, db: str | None, debug: bool) -> LedgerViews:
    """The read views of an existing ledger, up to date or answering by replay (said once)."""
    url = require_ledger(database(ctx, db, debug))
    # LedgerViews.open decides (catch up, or replay where this role may not write the views);
    # the bar only draws on a long backlog.
    with progress_bar("updating views", at_least=CATCH_UP_BAR_FROM) as progress:
        views, freshness = LedgerViews.open(url, progress)
    notice = freshness.notice()
    if notice is not None:
        typer.echo(notice, err=True)
    return views


def when(as_of: date | None, known_on: date | None) -> str:
    """'as of D, as known on K' in words, for table titles."""
    known = f"on {known_on.isoformat()}" if known_on else "now"
    return f"as of {as_of.isoformat() if as_of else 'the latest date'}, as known {known}"


def show_split(view: SplitView, fmt: str, when: str) -> None:
    """One split: for people a party/seats table under a title; for programs one record."""
    data = view.to_json()
    if fmt == "json":
        print_json(data)
    elif fmt == "csv":
        print_rows([data], SPLIT_KEYS, "csv")
    else:
        maker = f", on the table from {view.by}" if view.by else ""
        title = (
            f"{view.negotiation} ({view.region or 'no region'}, {view.seats} seats) "
            f"{when}: {view.status}{maker}"
        )
        rows: list[dict[str, Any]] = [{"party": p, "seats": n} for p, n in view.split.items()]
        rows.append({"party": "unallocated", "seats": view.unallocated})
        print_rows(rows, ["party", "seats"], fmt, title=title)


def show_splits(views: list[SplitView], fmt: str, title: str) -> None:
    """Splits as a table (one row per negotiation), a JSON list, CSV or Markdown."""
    rows = [view.to_json() for view in views]
    print_rows(rows, SPLIT_TABLE if fmt == "table" else SPLIT_KEYS, fmt, title=title)


def show_rollup(view: RollupView, fmt: str, when: str) -> None:
    """Seats per party (per election, if several): a table, or the cli.md JSON object."""
    title = f"Seats per party in agreed talks {when}"
    if view.elections:
        rows = [
            {"election": election or "(none)", "party": party, "seats": seats}
            for election, parties in view.elections.items()
            for party, seats in parties.items()
        ]
        columns = ["election", "party", "seats"]
        print_rows(rows, columns, fmt, title=title, payload=view.to_json())
        return
    rows = [{"party": party, "seats": seats} for party, seats in view.parties.items()]
    print_rows(rows, ["party", "seats"], fmt, title=title, payload=view.to_json())


def scope_words(scope: Scope) -> str:
    """' of election E, alliance A' for titles; '' when not scoped."""
    parts = [f"election {scope.election or '(none)'}"] if scope.election is not None else []
    parts += [f"alliance {scope.alliance}"] if scope.alliance is not None else []
    return f" of {', '.join(parts)}" if parts else ""


def show_history(moves: list[MoveView], fmt: str, title: str, *, wide: bool = False) -> None:
    """Moves in date order; the table shows each source as its domain and notes shortened
    (as the HTML report does), in full with `wide`; the other formats keep every value."""
    rows = [move.to_json() for move in moves]
    columns = HISTORY_KEYS
    if fmt != "json":  # one cell: "SP -1 · TMC +1; Bhadohi: SP → TMC"
        limit = GIVEN_SHOWN if fmt == "table" and not wide else None
        rows = [{**row, "seats_moved": moved_text(row, limit)} for row in rows]
    if fmt == "table":  # to the minute, for people; the other formats keep the full instant
        rows = [_for_people(row, wide) for row in rows]
        # Correction columns only when some move has one: they are empty in most talks.
        columns = [
            c for c in HISTORY_TABLE
            if c not in ("corrects", "corrected_by") or any(r.get(c) for r in rows)
        ]  # fmt: skip
    print_rows(rows, columns, fmt, title=title)


def _for_people(row: dict[str, Any], wide: bool) -> dict[str, Any]:
    shown = {**row, "recorded_at": _minute(row["recorded_at"])}
    if wide:
        return shown
    link = web_link(row.get("source"))
    if link is not None:
        shown["source"] = link[1]
    elif row.get("source"):
        shown["source"] = shorten(str(row["source"]), NOTE_WIDTH // 2, placeholder=" …")
    if row.get("note"):
        shown["note"] = shorten(str(row["note"]), NOTE_WIDTH, placeholder=" …")
    return shown


def _minute(instant: str) -> str:
    return instant[:16].replace("T", " ") + (" UTC" if instant.endswith("+00:00") else "")


@app.command(rich_help_panel="Reading")
def split(
    ctx: typer.Context,
    negotiation: NegotiationArg,
    as_of: AsOfOpt = None,
    known_on: KnownOnOpt = None,
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    debug: DebugOpt = False,
) -> None:
    """The split of one negotiation on a date: agreed, on the table (and whose), or no deal.

    Example: seatledger split uttar-pradesh --as-of 2024-01-31 --known-on 2024-01-28 --format json
    """
    view = open_views(ctx, db, debug).split(negotiation, as_of=as_of, known_on=known_on)
    show_split(view, fmt.value, when(as_of, known_on))


@app.command(rich_help_panel="Reading")
def splits(
    ctx: typer.Context,
    as_of: AsOfOpt = None,
    known_on: KnownOnOpt = None,
    fmt: FormatOpt = Format.table,
    election: OnlyElectionOpt = None,
    alliance: OnlyAllianceOpt = None,
    db: DbOpt = None,
    debug: DebugOpt = False,
) -> None:
    """The split of every negotiation on a date (of one election or alliance, if given).

    Example: seatledger splits --as-of 2024-02-29 --format csv
    """
    scope = Scope(election, alliance)
    views = open_views(ctx, db, debug).splits(as_of, known_on, scope)
    show_splits(views, fmt.value, f"Splits{scope_words(scope)} {when(as_of, known_on)}")


@app.command(rich_help_panel="Reading")
def rollup(
    ctx: typer.Context,
    as_of: AsOfOpt = None,
    known_on: KnownOnOpt = None,
    fmt: FormatOpt = Format.table,
    election: OnlyElectionOpt = None,
    alliance: OnlyAllianceOpt = None,
    db: DbOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Seats per party, summed over the negotiations agreed by that date.

    Talks of different elections are never added up: a ledger holding several gives one
    roll-up per election, unless --election picks one.

    Example: seatledger rollup --as-of 2024-04-30 --election "Lok Sabha 2024" --format json
    """
    scope = Scope(election, alliance)
    view = open_views(ctx, db, debug).rollup(as_of, known_on, scope)
    show_rollup(view, fmt.value, f"{scope_words(scope)} {when(as_of, known_on)}".strip())


@app.command(rich_help_panel="Reading")
def history(
    ctx: typer.Context,
    negotiation: Annotated[
        str | None,
        typer.Argument(
            metavar="[NEGOTIATION]",
            parser=parse_slug,
            help="The talks; leave it out for every move of the ledger. Example: uttar-pradesh",
            show_default=False,
        ),
    ] = None,
    as_of: AsOfOpt = None,
    known_on: KnownOnOpt = None,
    fmt: HistoryFormatOpt = HistoryFormat.table,
    wide: Annotated[
        bool,
        typer.Option("--wide", help="In the table, show sources and notes in full."),
    ] = False,
    db: DbOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Every move of a negotiation in date order, who recorded it and when, and its corrections.

    Seats moved: per party, then each named seat that changed hands ("Bhadohi: SP → TMC").
    The table shows each source as its domain, each note shortened and three named seats
    moved; --wide shows them in full (the json, csv and markdown formats always do).

    Example: seatledger history uttar-pradesh --format markdown
    """
    moves = open_views(ctx, db, debug).history(negotiation, as_of, known_on)
    title = f"History of {negotiation or 'the ledger'} {when(as_of, known_on)}"
    show_history(moves, fmt.value, title, wide=wide)
