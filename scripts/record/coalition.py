"""Alliances and parties: form an alliance, record parties joining or leaving it, and keep the
list of party codes the ledger knows (so that a typo is refused, not recorded)."""

from __future__ import annotations

from typing import Annotated

import typer

from ledger.timeline.document import AllianceSpec, PartySpec, PartySpecMove
from scripts.app import app, remember
from scripts.options import (
    Codes,
    Confidence,
    DbOpt,
    DebugOpt,
    Format,
    FormatOpt,
    parse_codes,
    parse_colour,
    parse_party,
    parse_slug,
)
from scripts.output import echo, print_rows
from scripts.record.common import (
    AsOpt,
    Common,
    ConfidenceOpt,
    DryRunOpt,
    IdOpt,
    NoteOpt,
    OnOpt,
    PartyOpt,
    SourceOpt,
    build,
    ledger,
    record_move,
    show,
)

alliance_app = typer.Typer(no_args_is_help=True)
parties_app = typer.Typer(no_args_is_help=True)
app.add_typer(alliance_app, name="alliance", rich_help_panel="Recording")
app.add_typer(parties_app, name="parties", rich_help_panel="Recording")


@alliance_app.callback()
def alliance_group(ctx: typer.Context, db: DbOpt = None, debug: DebugOpt = False) -> None:
    """Alliances: the coalition that talks belong to, and who joins or leaves it.

    Example: seatledger alliance form india-bloc --members INC,SP,TMC --on 2023-07-18
    """
    remember(ctx, db, debug)


@parties_app.callback()
def parties_group(ctx: typer.Context, db: DbOpt = None, debug: DebugOpt = False) -> None:
    """The party codes the ledger knows.

    Example: seatledger parties add VBA --name "Vanchit Bahujan Aghadi"
    """
    remember(ctx, db, debug)


AllianceArg = Annotated[
    str,
    typer.Argument(
        metavar="ALLIANCE", parser=parse_slug, help="The alliance's id. Example: india-bloc"
    ),
]
C = Confidence.confirmed


@alliance_app.command("form")
def form(
    ctx: typer.Context,
    alliance: AllianceArg,
    members: Annotated[
        Codes,
        typer.Option(
            "--members",
            metavar="A,B",
            parser=parse_codes,
            help="Founding members. Example: --members INC,SP",
        ),
    ],
    on: OnOpt,
    name: Annotated[str, typer.Option("--name", help="Example: --name 'INDIA bloc'")] = "",
    as_: AsOpt = None,
    dry_run: DryRunOpt = False,
    db: DbOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Form an alliance; open talks under it with `seatledger open … --alliance ALLIANCE`.

    Example: seatledger alliance form india-bloc --members INC,SP --on 2023-07-18
    """
    common = Common(db, debug, as_, dry_run)
    remember(ctx, db, debug)
    spec = build(AllianceSpec, id=alliance, name=name, members=list(members), formed_on=on)
    show(ledger(ctx, common).form_alliance(spec, dry_run=dry_run))


def _membership(
    ctx: typer.Context, kind: str, alliance: str, party: str, on: object, common: Common
) -> None:
    record_move(ctx, PartySpecMove, common, alliance=alliance, type=kind, on=on, party=party)


@alliance_app.command("join")
def join_alliance(
    ctx: typer.Context,
    alliance: AllianceArg,
    party: PartyOpt,
    on: OnOpt,
    source: SourceOpt = None,
    note: NoteOpt = None,
    move_id: IdOpt = None,
    confidence: ConfidenceOpt = C,
    as_: AsOpt = None,
    dry_run: DryRunOpt = False,
    db: DbOpt = None,
    debug: DebugOpt = False,
) -> None:
    """A party joins the alliance.

    Example: seatledger alliance join india-bloc --party VBA --on 2024-01-30
    """
    common = Common(db, debug, as_, dry_run, source, note, move_id, confidence)
    _membership(ctx, "party_joined_alliance", alliance, party, on, common)


@alliance_app.command("leave")
def leave_alliance(
    ctx: typer.Context,
    alliance: AllianceArg,
    party: PartyOpt,
    on: OnOpt,
    source: SourceOpt = None,
    note: NoteOpt = None,
    move_id: IdOpt = None,
    confidence: ConfidenceOpt = C,
    as_: AsOpt = None,
    dry_run: DryRunOpt = False,
    db: DbOpt = None,
    debug: DebugOpt = False,
) -> None:
    """A party leaves the alliance: it leaves every table of the alliance's talks.

    Example: seatledger alliance leave india-bloc --party JDU --on 2024-01-28
    """
    common = Common(db, debug, as_, dry_run, source, note, move_id, confidence)
    _membership(ctx, "party_left_alliance", alliance, party, on, common)


@parties_app.command("add")
def add_party(
    ctx: typer.Context,
    code: Annotated[
        str, typer.Argument(metavar="CODE", parser=parse_party, help="The party code. Example: VBA")
    ],
    name: Annotated[
        str, typer.Option("--name", help="Example: --name 'Vanchit Bahujan Aghadi'")
    ] = "",
    colour: Annotated[
        str | None,
        typer.Option(
            "--colour",
            parser=parse_colour,
            help="Its colour in every report's charts, as #RRGGBB. Example: --colour '#1F77B4'",
            show_default=False,
        ),
    ] = None,
    as_: AsOpt = None,
    db: DbOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Make a party code known, so moves may name it (opening talks does this for its parties).

    Example: seatledger parties add VBA --name "Vanchit Bahujan Aghadi" --colour "#5C6BC0"
    """
    remember(ctx, db, debug)
    spec = build(PartySpec, code=code, name=name)  # the timeline's own limits: no NUL, length
    app = ledger(ctx, Common(db, debug, as_, dry_run=False))
    app.register_parties({code: spec.name}, {code: colour} if colour else None)
    roster = app.roster()
    shown = f" ({roster.colours[code]})" if code in roster.colours else ""
    echo(f"{code}: {roster.parties.get(code) or '(no name)'}{shown}")


@parties_app.command("list")
def list_parties(
    ctx: typer.Context,
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Every party code the ledger knows, with its name (and its chart colour, if chosen).

    Example: seatledger parties list --format csv
    """
    roster = ledger(ctx, Common(db, debug, None, dry_run=False)).roster()
    parties = roster.parties
    rows = [
        {"code": code, "name": name, "colour": roster.colours.get(code)}
        for code, name in sorted(parties.items())
    ]
    # JSON keeps its {code: name} shape; the colour is a column for people and CSV.
    print_rows(rows, ["code", "name", "colour"], fmt.value, payload=dict(sorted(parties.items())))
