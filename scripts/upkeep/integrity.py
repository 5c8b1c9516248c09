"""Integrity and upkeep: init, verify, digest, and the projections' status, catch-up and rebuild."""

from __future__ import annotations

import os
import signal
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from ledger.application import NegotiationLedger
from ledger.domain.errors import InputError
from ledger.integrity.findings import Problem
from ledger.persistence.engine import mask_url
from ledger.persistence.roles import create_roles
from projections.api import LedgerViews
from projections.views.follow import Follower, install_notify
from scripts.app import PROBLEM_FOUND, app, database, remember
from scripts.options import DbOpt, DebugOpt, Format, FormatOpt
from scripts.output import print_json, print_rows, progress_bar
from scripts.store import require_ledger, sqlite_path

BAR_FROM = 2000  # events: smaller ledgers are checked faster than a bar can draw

projections_app = typer.Typer(no_args_is_help=True)
app.add_typer(projections_app, name="projections", rich_help_panel="Integrity and upkeep")


@projections_app.callback()
def projections_group(ctx: typer.Context, db: DbOpt = None, debug: DebugOpt = False) -> None:
    """The read views (projection tables): how far behind, catch up, rebuild.

    Example: seatledger projections status
    """
    remember(ctx, db, debug)


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


@projections_app.command("status")
def projections_status(
    ctx: typer.Context,
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    debug: DebugOpt = False,
) -> None:
    """How far the views have got: position, the log's head, and the lag between them.

    Example: seatledger projections status --format json
    """
    status = LedgerViews(require_ledger(database(ctx, db, debug))).status()
    data = status.to_json()
    print_rows([data], ["position", "head", "lag"], fmt.value, title="Projections", payload=data)


@projections_app.command("catch-up")
def projections_catch_up(ctx: typer.Context, db: DbOpt = None, debug: DebugOpt = False) -> None:
    """Apply the events recorded since the views' position (reading commands do this too).

    Example: seatledger projections catch-up
    """
    views = LedgerViews(require_ledger(database(ctx, db, debug)))
    with progress_bar("catching up", at_least=1) as progress:
        applied = views.catch_up(progress=progress)
    typer.echo(f"applied {applied} event(s); position {views.status().position}")


@projections_app.command("rebuild")
def projections_rebuild(ctx: typer.Context, db: DbOpt = None, debug: DebugOpt = False) -> None:
    """Drop the views and build them again from the whole event log; drop the snapshots too.

    Example: seatledger projections rebuild
    """
    views = LedgerViews(require_ledger(database(ctx, db, debug)))
    with progress_bar("rebuilding", at_least=1) as progress:
        applied = views.rebuild(progress=progress)
    typer.echo(f"rebuilt from {applied} event(s); position {views.status().position}")


@projections_app.command("follow")
def projections_follow(
    ctx: typer.Context,
    interval: Annotated[
        float,
        typer.Option(
            "--interval",
            min=0.05,
            metavar="SECONDS",
            help=(
                "SQLite: how often to look for new events. PostgreSQL: notifications wake "
                "the follower at once; it also looks this often. Example: --interval 2"
            ),
        ),
    ] = 0.5,
    db: DbOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Keep the views caught up as events arrive, until stopped (Ctrl-C or SIGTERM).

    Run it as the projector role; it logs each catch-up and its lag on stderr.
    Killed, even by kill -9, it resumes from the last page it committed.

    Example: seatledger --db postgresql+psycopg://ledger_views@db/ledger projections follow
    """
    url = require_ledger(database(ctx, db, debug))
    follower = Follower(LedgerViews(url), interval=interval, log=_log)
    _log(f"follower of {mask_url(url)} started (pid {os.getpid()})")
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}

    def stop(signum: int, frame: object) -> None:
        _log(f"{signal.Signals(signum).name} received: stopping after the current page")
        follower.stop.set()

    for sig in previous:
        signal.signal(sig, stop)
    try:
        follower.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _log(line: str) -> None:
    stamp = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    typer.echo(f"{stamp} {line}", err=True)
