"""Integrity: init (schema and roles), verify (chains, views, snapshots, a report), digest."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ledger.application import NegotiationLedger
from ledger.domain.errors import InputError
from ledger.integrity.findings import Problem
from ledger.persistence.engine import mask_url
from ledger.persistence.roles import create_roles
from projections.api import LedgerViews
from projections.views.follow import install_notify
from scripts.app import PROBLEM_FOUND, app, database
from scripts.options import DbOpt, DebugOpt, Format, FormatOpt
from scripts.output import print_json, print_rows, progress_bar
from scripts.store import require_ledger, sqlite_path

BAR_FROM = 2000  # events: smaller ledgers are checked faster than a bar can draw

@app.command(rich_help_panel="Integrity and upkeep")
def init(
    ctx: typer.Context,
    roles: Annotated[
        bool,
        typer.Option(
            "--roles",
            help=(
                "PostgreSQL only: also create a writer role (appends events), a projector "
                "role (keeps the views) and a reader role (reads only)."
            ),
        ),
    ] = False,
    writer: Annotated[
        str, typer.Option("--writer", help="Writer role name. Example: --writer ledger_rw")
    ] = ("seatledger_writer"),
    reader: Annotated[
        str, typer.Option("--reader", help="Reader role name. Example: --reader ledger_ro")
    ] = ("seatledger_reader"),
    projector: Annotated[
        str,
        typer.Option("--projector", help="Projector role name. Example: --projector ledger_views"),
    ] = ("seatledger_projector"),
    password: Annotated[
        str | None,
        typer.Option(
            "--password",
            envvar="SEATLEDGER_ROLE_PASSWORD",
            show_envvar=True,
            help="Login password for the roles (better from the environment variable).",
        ),
    ] = None,
    db: DbOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Create the ledger's tables and views (safe to run again).

    Example: seatledger --db postgresql+psycopg://admin@localhost/ledger init --roles
    """
    url = database(ctx, db, debug)
    if roles and sqlite_path(url) is not None:
        raise InputError(
            "--roles needs PostgreSQL: SQLite has no roles; file permissions decide who writes"
        )
    NegotiationLedger(url)
    install_notify(LedgerViews(url).engine)  # followers wake on each commit (PostgreSQL)
    # Roles last, so that they are granted the view tables too; SQLite is refused up front.
    grants = (
        create_roles(url, writer=writer, reader=reader, projector=projector, password=password)
        if roles
        else None
    )
    typer.echo(f"ledger ready at {mask_url(url)}")
    if grants is not None:
        made = f" (created {', '.join(grants.created)})" if grants.created else ""
        typer.echo(
            f"roles ready{made}: {grants.writer} may append events, {grants.projector} may "
            f"keep the views, {grants.reader} may read; {len(grants.tables)} tables granted"
        )


@app.command("verify", rich_help_panel="Integrity and upkeep")
def verify_ledger(
    ctx: typer.Context,
    digest: Annotated[
        Path | None,
        typer.Option(
            "--digest",
            metavar="FILE",
            help="Also check against a digest kept elsewhere. Example: --digest d.json",
        ),
    ] = None,
    report: Annotated[
        Path | None,
        typer.Option(
            "--report",
            metavar="FILE",
            help="Also check a report (HTML, Markdown or JSON) against the ledger. "
            "Example: --report report.html",
        ),
    ] = None,
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Recompute every hash chain, and re-derive the views and snapshots; exit 1 naming each fault.

    With --report FILE it also reads the report's views again, as the ledger knew them
    when the report was made, and names every number in the file that differs.

    Example: seatledger verify --digest /safe/place/digest.json
    """
    url = require_ledger(database(ctx, db, debug))
    from ledger.integrity.verifier import read_digest, verify  # here, not at every start-up
    from projections.views.verify import DerivedChecker

    kept = read_digest(digest) if digest is not None else None
    report_text = _read_report(report) if report is not None else None
    with progress_bar("verifying", at_least=BAR_FROM) as progress:
        result = verify(url, digest=kept, progress=progress, derived=DerivedChecker(url))
    if report_text is not None:
        from ledger.integrity.findings import REPORT
        from projections.reports.check import check_report

        found = check_report(url, report_text).differences
        result = result.with_problems([Problem(REPORT, f"{report}: {d}") for d in found])
    if fmt is Format.json:
        print_json(
            {
                "ok": result.ok,
                "events_checked": result.events_checked,
                "aggregates": result.aggregates,
                "problems": [_problem_json(p) for p in result.problems],
                "findings": {
                    name: [_problem_json(p) for p in found]
                    for name, found in result.by_class().items()
                },
            }
        )
    else:
        rows = [{"kind": p.kind, "problem": p.describe()} for p in result.problems]
        if rows:
            print_rows(rows, ["kind", "problem"], fmt.value)
        typer.echo(result.summary(), err=fmt is Format.csv)  # CSV on stdout stays parseable
    if not result.ok:
        raise typer.Exit(PROBLEM_FOUND)


def _read_report(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: cannot read the report: {error}") from None


def _problem_json(p: Problem) -> dict[str, object]:
    return {
        "kind": p.kind, "description": p.describe(), "negotiation": p.slug,
        "aggregate": p.aggregate_id, "version": p.version, "notification": p.notification_id,
        "move": p.move_id,
    }  # fmt: skip


@app.command(rich_help_panel="Integrity and upkeep")
def digest(
    ctx: typer.Context,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="Write it here; default: standard output. Example: -o d.json",
        ),
    ] = None,
    db: DbOpt = None,
    debug: DebugOpt = False,
) -> None:
    """A digest of the ledger (a Merkle root over each aggregate's last hash) to keep elsewhere.

    Later, `seatledger verify --digest FILE` proves nothing it covered was changed.

    Example: seatledger digest -o /safe/place/digest-2024-04-30.json
    """
    from ledger.integrity.verifier import compute_digest, write_digest

    url = require_ledger(database(ctx, db, debug))
    with progress_bar("digesting", at_least=BAR_FROM) as progress:
        found = compute_digest(url, progress=progress)
    if output is None or str(output) == "-":
        typer.echo(found.to_json(), nl=False)
        return
    write_digest(found, output)
    covered = f"{found.events} events, to notification {found.position}"
    typer.echo(f"digest {found.root} ({covered}) written to {output}")
