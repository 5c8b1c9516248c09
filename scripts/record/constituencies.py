"""Recording seat-level moves: constituency lists (at opening and later) and partial
agreements (`settle`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ledger.domain.errors import InputError
from ledger.timeline.document import ConstituenciesAddedSpec, PartialAgreementSpec
from scripts.app import app, remember
from scripts.options import (
    Codes,
    Confidence,
    DbOpt,
    DebugOpt,
    Names,
    parse_codes,
    parse_names,
)
from scripts.record.common import (
    AsOpt,
    Common,
    ConfidenceOpt,
    DryRunOpt,
    IdOpt,
    NegotiationArg,
    NoteOpt,
    OnOpt,
    SourceOpt,
    SplitOpt,
    record_move,
)

ConstituenciesOpt = Annotated[
    Names | None,
    typer.Option(
        "--constituencies",
        metavar="A;B",
        parser=parse_names,
        help="The constituencies in the pool (all or some), separated by ';'. "
        "Example: --constituencies 'New Delhi;West Delhi'",
        show_default=False,
    ),
]
ConstituenciesFileOpt = Annotated[
    Path | None,
    typer.Option(
        "--constituencies-file",
        metavar="FILE",
        help="The constituencies in the pool, one name a line (blank lines are skipped). "
        "Example: --constituencies-file delhi.txt",
        show_default=False,
    ),
]
MAX_LIST_BYTES = 1024 * 1024

constituencies_app = typer.Typer(no_args_is_help=True)
app.add_typer(constituencies_app, name="constituencies", rich_help_panel="Recording")


@constituencies_app.callback()
def constituencies_group(ctx: typer.Context, db: DbOpt = None, debug: DebugOpt = False) -> None:
    """The constituencies a negotiation's pool lists by name (timeline@2).

    Example: seatledger constituencies add delhi --names "Chandni Chowk;New Delhi" --on 2024-02-10
    """
    remember(ctx, db, debug)


def listed_constituencies(given: Names | None, file: Path | None) -> list[str] | None:
    """The names from --constituencies or --constituencies-file (not both); None if neither."""
    if given is not None and file is not None:
        raise InputError("give --constituencies or --constituencies-file, not both")
    if file is None:
        return None if given is None else list(given)
    try:
        if file.stat().st_size > MAX_LIST_BYTES:
            raise InputError(f"--constituencies-file {file}: over {MAX_LIST_BYTES} bytes")
        text = file.read_text(encoding="utf-8")
    except OSError as error:
        raise InputError(f"--constituencies-file {file}: cannot read: {error.strerror}") from None
    except UnicodeDecodeError:
        raise InputError(f"--constituencies-file {file}: not UTF-8 text") from None
    names = [line.strip() for line in text.splitlines() if line.strip()]
    if not names:
        raise InputError(f"--constituencies-file {file}: no names in it (one name a line)")
    return names


@constituencies_app.command("add")
def add(
    ctx: typer.Context,
    negotiation: NegotiationArg,
    names: Annotated[
        Names,
        typer.Option(
            "--names",
            metavar="A;B",
            parser=parse_names,
            help="The constituencies to list, separated by ';'. Example: --names 'Bhadohi;Amethi'",
            show_default=False,
        ),
    ],
    on: OnOpt,
    source: SourceOpt = None,
    note: NoteOpt = None,
    move_id: IdOpt = None,
    confidence: ConfidenceOpt = Confidence.confirmed,
    as_: AsOpt = None,
    dry_run: DryRunOpt = False,
    db: DbOpt = None,
    debug: DebugOpt = False,
) -> None:
    """List more constituencies of the pool (after those listed before, at most --seats).

    Example: seatledger constituencies add uttar-pradesh --names "Bhadohi;Amethi" --on 2024-02-21
    """
    common = Common(db, debug, as_, dry_run, source, note, move_id, confidence)
    record_move(
        ctx, ConstituenciesAddedSpec, common, type="constituencies_added",
        negotiation=negotiation, on=on, names=list(names),
    )  # fmt: skip


@app.command(rich_help_panel="Recording")
def settle(
    ctx: typer.Context,
    negotiation: NegotiationArg,
    signatories: Annotated[
        Codes,
        typer.Option(
            "--signatories",
            metavar="A,B",
            parser=parse_codes,
            help="Who signed the pact: two or more parties at the table. Example: --signatories "
            "DMK,VCK",
            show_default=False,
        ),
    ],
    split: SplitOpt,
    on: OnOpt,
    source: SourceOpt = None,
    note: NoteOpt = None,
    move_id: IdOpt = None,
    confidence: ConfidenceOpt = Confidence.confirmed,
    as_: AsOpt = None,
    dry_run: DryRunOpt = False,
    db: DbOpt = None,
    debug: DebugOpt = False,
) -> None:
    """A partial agreement: the shares in --split are settled until the whole deal.

    Example: seatledger settle tamil-nadu --signatories DMK,VCK
    --split "VCK=Chidambaram;Villupuram" --on 2024-03-08
    """
    common = Common(db, debug, as_, dry_run, source, note, move_id, confidence)
    record_move(
        ctx, PartialAgreementSpec, common, type="partial_agreement", negotiation=negotiation,
        on=on, signatories=list(signatories), split=split,
    )  # fmt: skip
