"""`import` and `export`: timeline files in and out (seatledger/timeline@1, YAML or JSON)."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ledger.timeline.document import TimelineFile
from ledger.timeline.parsing import parse_timeline, read_timeline
from scripts.app import app
from scripts.options import DbOpt, DebugOpt, OnlyAllianceOpt, OnlyElectionOpt, parse_slug
from scripts.output import progress_bar
from scripts.record.common import AsOpt, Common, DryRunOpt, ledger

if TYPE_CHECKING:
    from ledger.timeline.importer import ImportReport

# The importer and the exporter are imported inside their commands: every command's
# start-up pays for what this module imports (see BENCHMARKS.md, `seatledger split` wall).

PROGRESS_FROM = 200  # moves: smaller files import faster than a bar can draw


class ExportFormat(StrEnum):
    """Timeline file syntax."""

    yaml = "yaml"
    json = "json"


@app.command("import", rich_help_panel="Recording")
def import_file(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(
            metavar="FILE",
            help="A timeline file (YAML or JSON), or - for standard input. "
            "Example: examples/india-bloc-2024.yaml",
            show_default=False,
        ),
    ],
    dry_run: DryRunOpt = False,
    as_: AsOpt = None,
    db: DbOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Record a timeline file: all of it or nothing; moves already recorded are skipped.

    The whole file is checked first (format, parties, ids, and every move against the rules);
    an error names the move (its id or position) and the field.

    Example: seatledger import examples/india-bloc-2024.yaml --dry-run
    """
    timeline = _read(file)
    app_ = ledger(ctx, Common(db, debug, as_, dry_run))
    from ledger.timeline.importer import import_timeline

    with progress_bar("importing moves", at_least=PROGRESS_FROM) as progress:
        report = import_timeline(app_, timeline, name=str(file), dry_run=dry_run, progress=progress)
    typer.echo(_summary(str(file), report, len(timeline.moves)))


def _read(file: Path) -> TimelineFile:
    if str(file) == "-":
        return parse_timeline(sys.stdin.read(), name="standard input")
    return read_timeline(file)


def _summary(name: str, report: ImportReport, total: int) -> str:
    opened = f", {len(report.opened)} negotiation(s) opened" if report.opened else ""
    if report.dry_run:
        return (
            f"dry run, nothing written: {name} would record {report.recorded} move(s) "
            f"({report.unchanged} already recorded){opened}"
        )
    if report.events == 0:
        return f"unchanged: all {total} move(s) of {name} are already recorded; nothing written"
    return (
        f"imported {name}: {report.recorded} move(s) recorded, {report.unchanged} unchanged"
        f"{opened} ({report.events} events)"
    )


@app.command(rich_help_panel="Recording")
def export(
    ctx: typer.Context,
    negotiation: Annotated[
        list[str] | None,
        typer.Option(
            "--negotiation",
            "-n",
            metavar="NEGOTIATION",
            parser=parse_slug,
            help="Only these talks (and their alliance); repeat for more. Default: everything. "
            "Example: -n uttar-pradesh -n delhi",
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="Write here; default: standard output. Example: -o backup.yaml",
        ),
    ] = None,
    fmt: Annotated[
        ExportFormat | None,
        typer.Option(
            "--format", "-f", help="yaml or json; default: json for a .json FILE, else yaml."
        ),
    ] = None,
    election: OnlyElectionOpt = None,
    alliance: OnlyAllianceOpt = None,
    db: DbOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Write the ledger as a timeline file that imports back to the same views.

    Moves and corrections keep their ids and the order they were recorded in; a file with
    corrections says `order: recorded`, so that import takes them in that order again.

    Example: seatledger export -o backup.yaml && seatledger --db copy.db import backup.yaml
    """
    app_ = ledger(ctx, Common(db, debug, None, dry_run=False))
    from ledger.timeline.export import dump_timeline, export_timeline, format_for

    document = export_timeline(app_, negotiation or None, election=election, alliance=alliance)
    text = dump_timeline(document, format_for(output, fmt.value if fmt else None))
    if output is None or str(output) == "-":
        sys.stdout.write(text)
        return
    output.write_text(text, encoding="utf-8")
    typer.echo(
        f"exported {len(document['negotiations'])} negotiation(s) and "
        f"{len(document['moves'])} move(s) to {output}"
    )
