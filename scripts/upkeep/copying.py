"""`copy`: move a ledger to another database (SQLite <-> PostgreSQL) with nothing lost."""

from __future__ import annotations

from typing import Annotated

import typer

from ledger.persistence.engine import mask_url, normalize_url
from scripts.app import PROBLEM_FOUND, app, remember, settings
from scripts.options import DebugOpt
from scripts.output import print_rows, progress_bar
from scripts.store import require_ledger
from scripts.upkeep.integrity import BAR_FROM


@app.command("copy", rich_help_panel="Integrity and upkeep")
def copy_command(
    ctx: typer.Context,
    source: Annotated[
        str,
        typer.Option(
            "--from", metavar="URL", show_default=False,
            help="The ledger to copy. Example: --from sqlite:///seatledger.db",
        ),
    ],
    target: Annotated[
        str,
        typer.Option(
            "--to", metavar="URL", show_default=False,
            help="An empty database to copy it into. Example: --to postgresql://me@host/ledger",
        ),
    ],
    debug: DebugOpt = False,
) -> None:  # fmt: skip
    """Copy every event as stored (recorded time, recorder, hash, position) to an empty database.

    The digest is the same on both sides; the views are rebuilt on the target and the
    target is verified. A target that holds anything is refused.

    Example: seatledger copy --from sqlite:///seatledger.db --to postgresql://me@db/ledger
    """
    remember(ctx, None, debug)
    source, target = require_ledger(normalize_url(source)), normalize_url(target)
    settings(ctx).url = target  # errors name the database being written
    from ledger.integrity.verifier import compute_digest, verify
    from ledger.persistence.copying import copy_ledger
    from projections.api import LedgerViews
    from projections.views.verify import DerivedChecker

    with progress_bar("copying", at_least=BAR_FROM) as progress:
        copied = copy_ledger(source, target, progress=progress)
    LedgerViews(target).rebuild()
    after = compute_digest(target)
    if after.root != copied.digest.root:  # the rows went across byte for byte: a bug
        raise RuntimeError(
            f"the copy's digest {after.root} is not the source's {copied.digest.root}"
        )
    result = verify(target, derived=DerivedChecker(target))
    typer.echo(
        f"copied {copied.events} event(s) and {copied.moves} move-index entr(ies) from "
        f"{mask_url(source)} to {mask_url(target)}; digest {after.root} on both; views rebuilt"
    )
    if not result.ok:
        rows = [{"kind": p.kind, "problem": p.describe()} for p in result.problems]
        print_rows(rows, ["kind", "problem"], "table")
    typer.echo(result.summary())
    if not result.ok:
        raise typer.Exit(PROBLEM_FOUND)
