"""`seatledger diff`: what changed between two dates, as known on one date."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import typer

from projections.diff import LedgerDiff, ledger_diff
from projections.reports.text import moved_text
from scripts.app import app
from scripts.options import DbOpt, DebugOpt, Format, FormatOpt, KnownOnOpt, parse_date, parse_slug
from scripts.output import print_json, print_rows
from scripts.read.views import GIVEN_SHOWN, HISTORY_TABLE, open_views

# One row per party whose seats changed: in one negotiation's split, or in the agreed roll-up.
SEAT_COLUMNS = ["negotiation", "party", "from", "to", "moved"]
AGREED = "(agreed, all talks)"


def _date_option(flag: str, text: str) -> Any:
    return typer.Option(flag, metavar="DATE", parser=parse_date, help=text, show_default=False)


def _shown(move: dict[str, Any]) -> dict[str, Any]:
    """A history item for the moves table, its seats moved in one cell (as `history`)."""
    return {**move, "seats_moved": moved_text(move, GIVEN_SHOWN)}


HELD_COLUMNS = ["negotiation", "constituency", "holder_from", "holder_to", "status_from",
                "status_to"]  # fmt: skip


def held_rows(diff: LedgerDiff) -> list[dict[str, Any]]:
    """Each named seat whose holder changed, per negotiation."""
    return [
        {"negotiation": change.negotiation, **seat.to_json()}
        for change in diff.negotiations
        for seat in change.seats_changed
    ]


def seat_rows(diff: LedgerDiff) -> list[dict[str, Any]]:
    """Seats moved per party, per negotiation, then over the agreed talks."""
    rows: list[dict[str, Any]] = []
    for change in diff.negotiations:
        for party, moved in change.seats_moved.items():
            before, after = change.split_from.get(party, 0), change.split_to.get(party, 0)
            rows.append({"negotiation": change.negotiation, "party": party,
                         "from": before, "to": after, "moved": f"{moved:+d}"})  # fmt: skip
    for party, moved in diff.agreed_seats_moved.items():
        rows.append({"negotiation": AGREED, "party": party, "moved": f"{moved:+d}"})
    return rows


@app.command(rich_help_panel="Reading")
def diff(
    ctx: typer.Context,
    from_date: Annotated[
        date, _date_option("--from", "The earlier date. Example: --from 2024-02-01")
    ],
    to_date: Annotated[
        date | None,
        _date_option("--to", "The later date; default: the latest. Example: --to 2024-02-29"),
    ] = None,
    known_on: KnownOnOpt = None,
    negotiation: Annotated[
        str | None,
        typer.Option(
            "--negotiation", "-n", metavar="N", parser=parse_slug,
            help="One negotiation; default: all. Example: -n uttar-pradesh",
        ),
    ] = None,
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    debug: DebugOpt = False,
) -> None:  # fmt: skip
    """What changed from one date to another: seats moved per party and per constituency
    (named seats that changed holder), moves made, corrections.

    Moves are those dated after --from up to --to; corrections those of these moves, and any
    recorded in that span.
    CSV carries the seats-per-party table only; JSON carries everything (each negotiation's
    "seats_changed").

    Example: seatledger diff --from 2024-02-01 --to 2024-02-29 --format json
    """
    views = open_views(ctx, db, debug)
    found = ledger_diff(views, from_date, to_date, known_on, negotiation)
    if fmt is Format.json:
        print_json(found.to_json())
        return
    span = f"from {from_date.isoformat()} to {to_date.isoformat() if to_date else 'the latest'}"
    known = f", as known on {known_on.isoformat()}" if known_on else ""
    print_rows(seat_rows(found), SEAT_COLUMNS, fmt.value, title=f"Seats moved {span}{known}")
    if fmt is Format.table:
        held = held_rows(found)
        if held:
            print_rows(held, HELD_COLUMNS, "table", title=f"Seats that changed holder {span}")
        moves = [_shown(move.to_json()) for move in found.moves]
        print_rows(moves, HISTORY_TABLE, "table", title=f"Moves made {span}")
        fixes = [_shown(move.to_json()) for move in found.corrections]
        print_rows(fixes, HISTORY_TABLE, "table", title=f"Corrections recorded {span}")
