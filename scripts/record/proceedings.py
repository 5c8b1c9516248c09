"""Recording commands for who sits at the table and what was said: meet, join, walkout, end,
note, and correct (which fixes any earlier move without erasing it)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from ledger.domain.errors import InputError
from ledger.timeline.document import (
    CorrectionSpec,
    MeetingSpec,
    NoteSpec,
    PartySpecMove,
    TalksEndedSpec,
)
from scripts.app import app, remember
from scripts.options import (
    Confidence,
    DbOpt,
    DebugOpt,
    parse_date,
    parse_party,
    parse_slug,
    parse_split,
)
from scripts.record.common import (
    AllianceOpt,
    AsOpt,
    Common,
    ConfidenceOpt,
    DryRunOpt,
    IdOpt,
    NegotiationArg,
    OnOpt,
    PartiesOpt,
    PartyOpt,
    SourceOpt,
    build,
    ledger,
    record_move,
    show,
)

C = Confidence.confirmed
MaybeNegotiationArg = Annotated[
    str | None,
    typer.Argument(
        metavar="[NEGOTIATION]",
        parser=parse_slug,
        help="The negotiation; leave it out for an alliance-level move (see --alliance).",
        show_default=False,
    ),
]
TextOpt = Annotated[
    str,
    typer.Option("--note", metavar="TEXT", help="What was said. Example: --note 'TMC goes alone'"),
]
OptionalNoteOpt = Annotated[
    str | None,
    typer.Option(
        "--note", metavar="TEXT", help="A note kept with the move. Example: --note 'in Delhi'"
    ),
]


def _level(negotiation: str | None, alliance: str | None) -> None:
    if negotiation is not None and alliance is not None:
        raise InputError("give NEGOTIATION or --alliance, not both")


@app.command(rich_help_panel="Recording")
def meet(
    ctx: typer.Context,
    on: OnOpt,
    negotiation: MaybeNegotiationArg = None,
    parties: PartiesOpt = None,
    venue: Annotated[
        str | None, typer.Option("--venue", help="Example: --venue 'New Delhi'")
    ] = None,
    alliance: AllianceOpt = None,
    source: SourceOpt = None,
    note: OptionalNoteOpt = None,
    move_id: IdOpt = None,
    confidence: ConfidenceOpt = C,
    as_: AsOpt = None,
    dry_run: DryRunOpt = False,
    db: DbOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Talks were held (no seats change); without NEGOTIATION, a meeting of the alliance.

    Example: seatledger meet uttar-pradesh --parties SP,INC --on 2024-01-09 --venue "New Delhi"
    """
    _level(negotiation, alliance)
    common = Common(db, debug, as_, dry_run, source, note, move_id, confidence)
    record_move(
        ctx, MeetingSpec, common, alliance=alliance, type="meeting", negotiation=negotiation,
        on=on, parties=list(parties or ()), venue=venue,
    )  # fmt: skip


def _party_command(name: str, kind: str, doc: str) -> None:
    """Register a command for one party coming to, or leaving, the table."""

    def command(
        ctx: typer.Context,
        negotiation: NegotiationArg,
        party: PartyOpt,
        on: OnOpt,
        source: SourceOpt = None,
        note: OptionalNoteOpt = None,
        move_id: IdOpt = None,
        confidence: ConfidenceOpt = C,
        as_: AsOpt = None,
        dry_run: DryRunOpt = False,
        db: DbOpt = None,
        debug: DebugOpt = False,
    ) -> None:
        common = Common(db, debug, as_, dry_run, source, note, move_id, confidence)
        record_move(
            ctx, PartySpecMove, common, type=kind, negotiation=negotiation, on=on, party=party
        )

    command.__doc__ = doc
    app.command(name, rich_help_panel="Recording")(command)


_party_command(
    "join",
    "party_joined",
    """A party comes to the table (a new party must be known: see `seatledger parties add`).

    Example: seatledger join maharashtra --party VBA --on 2024-01-30
    """,
)
_party_command(
    "walkout",
    "party_withdrew",
    """A party walks out of these talks: it leaves the table and its open proposals lapse.

    Example: seatledger walkout maharashtra --party VBA --on 2024-03-27
    """,
)


@app.command(rich_help_panel="Recording")
def end(
    ctx: typer.Context,
    negotiation: NegotiationArg,
    on: OnOpt,
    note: TextOpt,
    source: SourceOpt = None,
    move_id: IdOpt = None,
    confidence: ConfidenceOpt = C,
    as_: AsOpt = None,
    dry_run: DryRunOpt = False,
    db: DbOpt = None,
    debug: DebugOpt = False,
) -> None:
    """The talks ended without a deal; only notes and corrections may follow.

    Example: seatledger end west-bengal --on 2024-01-24 --note "TMC contests all 42 seats alone"
    """
    common = Common(db, debug, as_, dry_run, source, note, move_id, confidence)
    record_move(ctx, TalksEndedSpec, common, type="talks_ended", negotiation=negotiation, on=on)


@app.command("note", rich_help_panel="Recording")
def note_move(
    ctx: typer.Context,
    on: OnOpt,
    note: TextOpt,
    negotiation: MaybeNegotiationArg = None,
    by: Annotated[
        str | None,
        typer.Option(
            "--by", metavar="PARTY", parser=parse_party, help="Who said it. Example: --by TMC"
        ),
    ] = None,
    alliance: AllianceOpt = None,
    source: SourceOpt = None,
    move_id: IdOpt = None,
    confidence: ConfidenceOpt = C,
    as_: AsOpt = None,
    dry_run: DryRunOpt = False,
    db: DbOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Record a statement (no seats change); without NEGOTIATION, a note on the alliance.

    Example: seatledger note west-bengal --on 2024-01-11 --by TMC --note "no committee talks"
    """
    _level(negotiation, alliance)
    common = Common(db, debug, as_, dry_run, source, note, move_id, confidence)
    record_move(
        ctx, NoteSpec, common, alliance=alliance, type="note", negotiation=negotiation, on=on,
        by=by,
    )  # fmt: skip


@app.command(rich_help_panel="Recording")
def correct(
    ctx: typer.Context,
    of: Annotated[
        str,
        typer.Argument(
            metavar="MOVE_ID",
            parser=parse_slug,
            help="The move to correct. Example: up-sp-offers-11",
        ),
    ],
    retract: Annotated[
        bool, typer.Option("--retract", help="The move did not happen: take it out of the story.")
    ] = False,
    on: Annotated[
        date | None,
        typer.Option(
            "--on",
            metavar="DATE",
            parser=parse_date,
            help="The right date. Example: --on 2024-01-28",
        ),
    ] = None,
    split: Annotated[
        dict[str, int] | None,
        typer.Option(
            "--split",
            metavar="P=N,Q=M",
            parser=parse_split,
            help="The right split. Example: --split SP=62,INC=11",
        ),
    ] = None,
    by: Annotated[
        str | None,
        typer.Option(
            "--by", metavar="PARTY", parser=parse_party, help="The right party. Example: --by SP"
        ),
    ] = None,
    source: Annotated[
        str | None,
        typer.Option(
            "--source", metavar="URL", help="The right source. Example: --source https://…"
        ),
    ] = None,
    note: Annotated[
        str | None,
        typer.Option(
            "--note", metavar="TEXT", help="The right note. Example: --note 'SP keeps 62'"
        ),
    ] = None,
    reason: Annotated[
        str | None,
        typer.Option(
            "--reason", metavar="TEXT", help="Why it is corrected. Example: --reason 'misread'"
        ),
    ] = None,
    move_id: IdOpt = None,
    as_: AsOpt = None,
    dry_run: DryRunOpt = False,
    db: DbOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Fix an earlier move without erasing it: retract it, or give the fields that were wrong.

    Views "as known on" a date before the correction still show the original.

    Example: seatledger correct up-sp-offers-11 --split SP=62,INC=11 --reason "7 seats went to RLD"
    """
    common = Common(db, debug, as_, dry_run, move_id=move_id)
    remember(ctx, db, debug)
    spec = build(
        CorrectionSpec, type="correction", id=move_id, of=of, retract=retract, on=on,
        split=split, by=by, source=source, note=note, reason=reason,
    )  # fmt: skip
    show(ledger(ctx, common).record(spec, dry_run=dry_run))
