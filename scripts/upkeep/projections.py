"""The projections group: the views' status, catch-up, rebuild, and the follower."""

from __future__ import annotations

import os
import signal
from datetime import UTC, datetime
from typing import Annotated

import typer

from ledger.persistence.engine import mask_url
from projections.api import LedgerViews
from projections.views.follow import Follower
from scripts.app import app, database, remember
from scripts.options import DbOpt, DebugOpt, Format, FormatOpt
from scripts.output import print_rows, progress_bar
from scripts.store import require_ledger

projections_app = typer.Typer(no_args_is_help=True)
app.add_typer(projections_app, name="projections", rich_help_panel="Integrity and upkeep")


@projections_app.callback()
def projections_group(ctx: typer.Context, db: DbOpt = None, debug: DebugOpt = False) -> None:
    """The read views (projection tables): how far behind, catch up, rebuild.

    Example: seatledger projections status
    """
    remember(ctx, db, debug)


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
