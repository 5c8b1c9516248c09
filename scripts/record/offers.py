"""Recording commands: open talks and record each kind of move, one command per move type."""

from __future__ import annotations

from typing import Annotated

import typer

from ledger.timeline.document import (
    AgreementSpec,
    AmendmentSpec,
    AnswerSpec,
    CounterOfferSpec,
    NegotiationSpec,
    ProposalSpec,
)
from scripts.app import app, remember
from scripts.options import Codes, Confidence, DbOpt, DebugOpt, parse_codes, parse_slug
from scripts.record.common import (
    AllianceOpt,
    AsOpt,
    ByOpt,
    Common,
    ConfidenceOpt,
    DryRunOpt,
    ElectionOpt,
    IdOpt,
    NegotiationArg,
    NoteOpt,
    OnOpt,
    PartiesOpt,
    SourceOpt,
    SplitOpt,
    build,
    ledger,
    record_move,
    show,
)
from scripts.record.constituencies import (
    ConstituenciesFileOpt,
    ConstituenciesOpt,
    listed_constituencies,
)

SignatoriesOpt = Annotated[
    Codes | None,
    typer.Option(
        "--signatories",
        metavar="A,B",
        parser=parse_codes,
        help="Who signed; default: everyone at the table (every party at the table must sign). "
        "Example: --signatories SP,INC",
    ),
]
OfOpt = Annotated[
    str | None,
    typer.Option(
        "--of",
        metavar="ID",
        parser=parse_slug,
        help="The proposal answered; default: the latest open one not made by --by "
        "(for withdraw: the latest of its own). Example: --of up-sp-final-offer-17",
    ),
]
C = Confidence.confirmed


@app.command("open", rich_help_panel="Recording")
def open_talks(
    ctx: typer.Context,
    negotiation: NegotiationArg,
    seats: Annotated[
        int,
        typer.Option(
            "--seats", min=0, max=100_000, help="The pool being split. Example: --seats 80"
        ),
    ],
    parties: PartiesOpt,
    on: OnOpt,
    title: Annotated[str, typer.Option("--title", help="Example: --title 'UP seat sharing'")] = "",
    region: Annotated[str, typer.Option("--region", help="Example: --region 'Uttar Pradesh'")] = "",
    source: SourceOpt = None,
    note: NoteOpt = None,
    alliance: AllianceOpt = None,
    election: ElectionOpt = None,
    constituencies: ConstituenciesOpt = None,
    constituencies_file: ConstituenciesFileOpt = None,
    as_: AsOpt = None,
    dry_run: DryRunOpt = False,
    db: DbOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Open talks over a pool of seats with the parties at the table (move id NEGOTIATION/opened).

    Example: seatledger open uttar-pradesh --title "UP seat sharing" --region "Uttar Pradesh"
    --seats 80 --parties SP,INC --on 2024-01-09
    """
    if parties is None:
        raise typer.BadParameter("give the parties at the table", param_hint="'--parties'")
    common = Common(db, debug, as_, dry_run)
    remember(ctx, db, debug)
    names = listed_constituencies(constituencies, constituencies_file)
    spec = build(
        NegotiationSpec, id=negotiation, title=title, region=region, seats=seats,
        parties=list(parties), opened_on=on, source=source, note=note, election=election,
        constituencies=names,
    )  # fmt: skip
    show(ledger(ctx, common).open(spec, alliance=alliance, dry_run=dry_run))


@app.command(rich_help_panel="Recording")
def propose(
    ctx: typer.Context,
    negotiation: NegotiationArg,
    by: ByOpt,
    split: SplitOpt,
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
    """A party puts a split on the table (it replaces that party's own earlier open proposal).

    Example: seatledger propose uttar-pradesh --by SP --split SP=69,INC=11 --on 2024-01-27
    """
    common = Common(db, debug, as_, dry_run, source, note, move_id, confidence)
    record_move(
        ctx, ProposalSpec, common, type="proposal", negotiation=negotiation, on=on, by=by,
        split=split,
    )  # fmt: skip


@app.command(rich_help_panel="Recording")
def counter(
    ctx: typer.Context,
    negotiation: NegotiationArg,
    by: ByOpt,
    split: SplitOpt,
    on: OnOpt,
    in_reply_to: Annotated[
        str | None,
        typer.Option(
            "--in-reply-to",
            metavar="ID",
            parser=parse_slug,
            help="The proposal answered; default: the latest open one not made by --by. "
            "Example: --in-reply-to up-sp-offers-11",
        ),
    ] = None,
    source: SourceOpt = None,
    note: NoteOpt = None,
    move_id: IdOpt = None,
    confidence: ConfidenceOpt = C,
    as_: AsOpt = None,
    dry_run: DryRunOpt = False,
    db: DbOpt = None,
    debug: DebugOpt = False,
) -> None:
    """A party answers another's open proposal with a split of its own (which rejects it).

    Example: seatledger counter uttar-pradesh --by INC --split INC=25 --on 2024-02-06
    """
    common = Common(db, debug, as_, dry_run, source, note, move_id, confidence)
    record_move(
        ctx, CounterOfferSpec, common, type="counter_offer", negotiation=negotiation, on=on,
        by=by, split=split, in_reply_to=in_reply_to,
    )  # fmt: skip


def _answer_command(name: str, kind: str, doc: str) -> None:
    """Register one of the three answers to an open proposal: the same options, one move type."""

    def command(
        ctx: typer.Context,
        negotiation: NegotiationArg,
        by: ByOpt,
        on: OnOpt,
        of: OfOpt = None,
        source: SourceOpt = None,
        note: NoteOpt = None,
        move_id: IdOpt = None,
        confidence: ConfidenceOpt = C,
        as_: AsOpt = None,
        dry_run: DryRunOpt = False,
        db: DbOpt = None,
        debug: DebugOpt = False,
    ) -> None:
        common = Common(db, debug, as_, dry_run, source, note, move_id, confidence)
        record_move(
            ctx, AnswerSpec, common, type=kind, negotiation=negotiation, on=on, by=by, of=of
        )

    command.__doc__ = doc
    app.command(name, rich_help_panel="Recording")(command)


_answer_command(
    "accept",
    "acceptance",
    """A party accepts an open proposal of another party.

    Example: seatledger accept uttar-pradesh --by INC --of up-sp-final-offer-17 --on 2024-02-21
    """,
)
_answer_command(
    "reject",
    "rejection",
    """A party turns an open proposal down; it is no longer open.

    Example: seatledger reject west-bengal --by INC --of wb-tmc-offers-2 --on 2024-01-04
    """,
)
_answer_command(
    "withdraw",
    "withdrawal",
    """A party takes back its own open proposal.

    Example: seatledger withdraw bihar --by INC --on 2024-01-28
    """,
)


def _deal_command(
    name: str, kind: str, spec: type[AgreementSpec | AmendmentSpec], doc: str
) -> None:
    """Register a command that signs a whole split: the agreement, or an amendment of it."""

    def command(
        ctx: typer.Context,
        negotiation: NegotiationArg,
        split: SplitOpt,
        on: OnOpt,
        signatories: SignatoriesOpt = None,
        source: SourceOpt = None,
        note: NoteOpt = None,
        move_id: IdOpt = None,
        confidence: ConfidenceOpt = C,
        as_: AsOpt = None,
        dry_run: DryRunOpt = False,
        db: DbOpt = None,
        debug: DebugOpt = False,
    ) -> None:
        common = Common(db, debug, as_, dry_run, source, note, move_id, confidence)
        record_move(
            ctx, spec, common, type=kind, negotiation=negotiation, on=on, split=split,
            signatories=list(signatories) if signatories else None,
        )  # fmt: skip

    command.__doc__ = doc
    app.command(name, rich_help_panel="Recording")(command)


_deal_command(
    "agree",
    "agreement",
    AgreementSpec,
    """The deal: every party at the table signs a split.

    Example: seatledger agree uttar-pradesh --split SP=63,INC=17 --on 2024-02-21
    """,
)
_deal_command(
    "amend",
    "amendment",
    AmendmentSpec,
    """Change an agreed split (only after an agreement), signed by everyone at the table.

    Example: seatledger amend bihar --split RJD=23,INC=9,CPIML=3,CPI=1,CPIM=1 --on 2024-04-05
    """,
)
