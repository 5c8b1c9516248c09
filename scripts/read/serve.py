"""`seatledger serve`: the read-only web view of a ledger, on this machine unless told otherwise."""

from __future__ import annotations

from typing import Annotated

import typer

from scripts.app import app, database
from scripts.options import DbOpt, DebugOpt
from scripts.store import require_ledger

LOOPBACK = "127.0.0.1"


@app.command(rich_help_panel="Reading")
def serve(
    ctx: typer.Context,
    host: Annotated[
        str,
        typer.Option(
            "--host", metavar="ADDRESS",
            help="Where to listen; the default answers this machine only. Example: --host 0.0.0.0",
        ),
    ] = LOOPBACK,
    port: Annotated[
        int, typer.Option("--port", min=1, max=65535, help="The TCP port. Example: --port 8080")
    ] = 8000,
    root_path: Annotated[
        str,
        typer.Option(
            "--root-path", metavar="PATH",
            help="The path prefix a proxy serves the view under. Example: --root-path /ledger",
        ),
    ] = "",
    db: DbOpt = None,
    debug: DebugOpt = False,
) -> None:  # fmt: skip
    """Serve a read-only web view: every negotiation on any date, its moves, offers and changes.

    Pages answer GET only and never write the ledger; each has a JSON twin (suffix .json or
    Accept: application/json). Stop with Ctrl-C.

    Example: seatledger serve --port 8080
    """
    import uvicorn  # here: the server loads only for this command

    from web.app import create_app

    url = require_ledger(database(ctx, db, debug))
    web_app = create_app(url)
    typer.echo(f"serving http://{host}:{port}{root_path}/ (read-only; Ctrl-C to stop)", err=True)
    uvicorn.run(
        web_app,
        host=host,
        port=port,
        root_path=root_path,
        log_level="debug" if debug else "warning",
        server_header=False,
        proxy_headers=False,  # trust no X-Forwarded-* unless a proxy is configured to send them
    )
