"""Reading who holds each seat: `seats` (every listed constituency) and `seat` (one, with its
history of holders), as of D, as known on K."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from projections.reports.seats import status_word
from scripts.app import app
from scripts.options import AsOfOpt, DbOpt, DebugOpt, Format, FormatOpt, KnownOnOpt
from scripts.output import print_json, print_rows
from scripts.read.views import NegotiationArg, open_views, when

SEAT_KEYS = ["constituency", "holder", "status"]
HISTORY_KEYS = ["on", "move", "holder", "status"]


@app.command(rich_help_panel="Reading")
def seats(
    ctx: typer.Context,
    negotiation: NegotiationArg,
    as_of: AsOfOpt = None,
    known_on: KnownOnOpt = None,
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Who holds each listed constituency on a date: agreed, settled, on the table or unassigned.

    JSON: a list of {"constituency", "holder", "status"} in list order (holder null when
    unassigned).

    Example: seatledger seats delhi --as-of 2024-03-01 --known-on 2024-03-10 --format json
    """
    found = open_views(ctx, db, debug).seats(negotiation, as_of=as_of, known_on=known_on)
    rows = [seat.to_json() for seat in found]
    if fmt is Format.json:
        print_json(rows)
        return
    if fmt is Format.table:
        rows = _in_words(rows)
    title = f"{negotiation}: {len(rows)} constituencies listed {when(as_of, known_on)}"
    if not rows and fmt is Format.table:
        title = f"{negotiation} lists no constituencies {when(as_of, known_on)}"
    print_rows(rows, SEAT_KEYS, fmt.value, title=title)


@app.command(rich_help_panel="Reading")
def seat(
    ctx: typer.Context,
    negotiation: NegotiationArg,
    constituency: Annotated[
        str,
        typer.Argument(
            metavar="CONSTITUENCY",
            help="A listed constituency (any case). Example: Bhadohi",
            show_default=False,
        ),
    ],
    as_of: AsOfOpt = None,
    known_on: KnownOnOpt = None,
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Who holds one constituency on a date, and each change of holder or status before it.

    JSON: {"negotiation", "constituency", "as_of", "known_on", "holder", "status", "history"},
    history items {"on", "move", "holder", "status"}.

    Example: seatledger seat uttar-pradesh Bhadohi --as-of 2024-03-01 --known-on 2024-03-10
    """
    view = open_views(ctx, db, debug).seat(
        negotiation, constituency, as_of=as_of, known_on=known_on
    )
    if fmt is Format.json:
        print_json(view.to_json())
        return
    status = status_word(view.status)
    holder = f"held by {view.holder} ({status})" if view.holder else status
    title = f"{view.constituency} ({negotiation}) {when(as_of, known_on)}: {holder}"
    rows = [change.to_json() for change in view.history]
    print_rows(
        _in_words(rows) if fmt is Format.table else rows, HISTORY_KEYS, fmt.value, title=title
    )


def _in_words(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows for a person to read: each status as the reports and the web view say it
    ("on the table", not JSON's "on_table"); CSV and JSON keep the contract's words."""
    return [{**row, "status": status_word(row.get("status"))} for row in rows]
