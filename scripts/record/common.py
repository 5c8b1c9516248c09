"""What every recording command shares: its options, building the spec, and saying what happened."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, TypeVar

import typer
from pydantic import BaseModel, ValidationError

from ledger.application import NegotiationLedger, Outcome
from ledger.domain.errors import InputError
from ledger.timeline.document import AnyMove
from ledger.wording import problem
from scripts.app import database, remember
from scripts.options import (
    Codes,
    Confidence,
    parse_codes,
    parse_date,
    parse_party,
    parse_slug,
    parse_split,
)
from scripts.output import describe_state, echo

M = TypeVar("M", bound=BaseModel)

NegotiationArg = Annotated[
    str,
    typer.Argument(
        metavar="NEGOTIATION",
        parser=parse_slug,
        help="The negotiation's id (a slug). Example: uttar-pradesh",
        show_default=False,
    ),
]
OnOpt = Annotated[
    date,
    typer.Option(
        "--on",
        metavar="DATE",
        parser=parse_date,
        help="When it happened: YYYY-MM-DD, or an ISO datetime with offset. "
        "Example: --on 2024-01-27",
        show_default=False,
    ),
]
ByOpt = Annotated[
    str,
    typer.Option(
        "--by", metavar="PARTY", parser=parse_party, help="The party that moves. Example: --by SP"
    ),
]
SplitOpt = Annotated[
    dict[str, Any],
    typer.Option(
        "--split",
        metavar="P=N,Q=M",
        parser=parse_split,
        help="Seats per party; seats not given stay unallocated. A share is a count, "
        "constituencies separated by ';', or a count with some of them named. "
        "Example: --split SP=63,INC=17 or --split 'AAP=New Delhi;West Delhi,INC=17:Amethi'",
        show_default=False,
    ),
]
PartiesOpt = Annotated[
    Codes | None,
    typer.Option(
        "--parties",
        metavar="A,B",
        parser=parse_codes,
        help="Party codes, separated by commas. Example: --parties SP,INC",
    ),
]
PartyOpt = Annotated[
    str,
    typer.Option("--party", metavar="PARTY", parser=parse_party, help="Example: --party VBA"),
]
SourceOpt = Annotated[
    str | None,
    typer.Option(
        "--source", metavar="URL", help="Where it was reported. Example: --source https://…"
    ),
]
NoteOpt = Annotated[
    str | None,
    typer.Option(
        "--note", metavar="TEXT", help="A note kept with the move. Example: --note 'final offer'"
    ),
]
IdOpt = Annotated[
    str | None,
    typer.Option(
        "--id",
        metavar="ID",
        parser=parse_slug,
        help="The move's id, unique in the ledger; default: one derived from the move's content, "
        "so recording the same move twice changes nothing. Example: --id up-sp-offers-11",
    ),
]
ConfidenceOpt = Annotated[
    Confidence,
    typer.Option(
        "--confidence", help="confirmed, or reported (unconfirmed). Example: --confidence reported"
    ),
]
AsOpt = Annotated[
    str | None,
    typer.Option(
        "--as",
        metavar="NAME",
        help="Who records it; default: $SEATLEDGER_USER, else your login name. Example: --as priya",
    ),
]
DryRunOpt = Annotated[
    bool,
    typer.Option(
        "--dry-run", help="Check the move and print the split it would leave; write nothing."
    ),
]
AllianceOpt = Annotated[
    str | None,
    typer.Option(
        "--alliance",
        metavar="ALLIANCE",
        parser=parse_slug,
        help="The alliance. Example: --alliance india-bloc",
    ),
]
ElectionOpt = Annotated[
    str | None,
    typer.Option(
        "--election",
        metavar="ELECTION",
        help='The election these talks are for (free text). Example: --election "Lok Sabha 2024"',
    ),
]

FIELD_OPTIONS = {
    "id": "--id",
    "negotiation": "NEGOTIATION",
    "opened_on": "--on",
    "formed_on": "--on",
    "in_reply_to": "--in-reply-to",
    "of": "--of",
}


@dataclass(frozen=True)
class Common:
    """The options every recording command takes."""

    db: str | None
    debug: bool
    recorded_by: str | None
    dry_run: bool
    source: str | None = None
    note: str | None = None
    move_id: str | None = None
    confidence: Confidence = Confidence.confirmed

    def move_fields(self) -> dict[str, Any]:
        """The spec fields these options give."""
        return {
            "id": self.move_id,
            "source": self.source,
            "note": self.note,
            "confidence": self.confidence.value,
        }


def ledger(ctx: typer.Context, common: Common) -> NegotiationLedger:
    """The ledger application on the chosen database, recording as the chosen user."""
    return NegotiationLedger(database(ctx, common.db, common.debug), recorded_by=common.recorded_by)


def build(model: type[M], **fields: Any) -> M:
    """Validate the fields with the timeline's own model; errors name the option."""
    given = {name: value for name, value in fields.items() if value is not None}
    try:
        return model.model_validate(given)
    except ValidationError as error:
        problems = []
        for item in error.errors()[:3]:
            loc = [str(p) for p in item["loc"]]
            message = problem(item, model.model_fields)
            if not loc:
                problems.append(message)
                continue
            option = FIELD_OPTIONS.get(loc[0], f"--{loc[0].replace('_', '-')}")
            detail = " ".join(loc[1:])
            problems.append(f"{option}{' ' + detail if detail else ''}: {message}")
        raise InputError("; ".join(problems)) from None


def record_move(
    ctx: typer.Context,
    model: type[AnyMove],
    common: Common,
    *,
    alliance: str | None = None,
    **fields: Any,
) -> None:
    """Build the move from the options, record it (or check it) and say what happened."""
    remember(ctx, common.db, common.debug)  # so that --debug covers a refused spec too
    values = {**common.move_fields(), **fields}
    spec = build(model, **values)
    app = ledger(ctx, common)
    show(app.record(spec, alliance=alliance, dry_run=common.dry_run))


def show(outcome: Outcome) -> None:
    """The move id on the first line (for scripts), then what it did to the talks.

    The state is told on the move's own date; a move dated before later ones (a late fact,
    or a dry run of one) also says where the talks stand now, when that differs.
    """
    echo(outcome.move_id)
    now = describe_state(outcome.state)
    where = now
    if outcome.then is not None and outcome.on is not None and outcome.then != outcome.state:
        then = describe_state(outcome.then)
        where = f"on {outcome.on.isoformat()} {then}; now (on the latest date) {now}"
    if outcome.status == "unchanged":
        echo(f"unchanged: already recorded with the same content; {now}")
    elif outcome.status == "checked":
        echo(f"dry run, nothing written; it would leave {where}")
    else:
        echo(f"recorded; {where}")
