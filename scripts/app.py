"""The Typer app: global options, where the database is, and one place that maps errors to exits.

Exit codes (cli.md): 0 done, 1 a check found a problem, 2 the input or request was refused
(nothing was written). An error we did not foresee is a bug: it exits 3, still without a
traceback unless `--debug` is given.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, MutableMapping, Sequence
from dataclasses import dataclass
from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import Annotated, Any, NoReturn

import typer
import typer.main
from eventsourcing import persistence as es
from pydantic import ValidationError
from sqlalchemy import exc as sa_exc
from typer.core import TyperGroup

from ledger.domain.errors import SeatledgerError
from ledger.persistence.engine import DEFAULT_DB_URL, DatabaseURLError, mask_url, normalize_url
from ledger.wording import plain
from scripts.output import echo
from scripts.store import missing_folder

DONE, PROBLEM_FOUND, REFUSED, INTERNAL_ERROR = 0, 1, 2, 3
BROKEN_PIPE = 141  # what a shell reports for a process ended by SIGPIPE
DB_ENV = "SEATLEDGER_DB"


@dataclass
class Settings:
    """What the global options said; commands may override them with their own `--db`."""

    db: str | None = None
    debug: bool = False
    url: str | None = None  # the URL in use, once a command resolved it (for error messages)


def settings(ctx: typer.Context) -> Settings:
    """The settings of this invocation, kept on the root context."""
    root = ctx.find_root()
    if not isinstance(root.obj, Settings):
        root.obj = Settings()
    return root.obj


def remember(ctx: typer.Context, db: str | None, debug: bool) -> None:
    """Keep a group's own --db / --debug (seatledger projections --db URL status)."""
    found = settings(ctx)
    found.db = db or found.db
    found.debug = found.debug or debug


def database(ctx: typer.Context, db: str | None, debug: bool = False) -> str:
    """The database URL: the command's --db, else the global one or $SEATLEDGER_DB, else default."""
    found = settings(ctx)
    found.debug = found.debug or debug
    found.url = normalize_url(db or found.db or DEFAULT_DB_URL)
    return found.url


def fail(message: str, code: int = REFUSED) -> NoReturn:
    """Print an error in the user's words and exit with `code` (nothing was written)."""
    echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def explain_error(error: BaseException, url: str | None) -> tuple[int, str]:
    """The exit code and the one or two lines that tell a user what went wrong."""
    where = mask_url(url) if url else "the database"
    if isinstance(error, SeatledgerError | DatabaseURLError):
        return REFUSED, str(error)
    if isinstance(error, ValidationError):
        # Imported here: the timeline's models cost every command ~20 ms of start-up.
        from ledger.timeline.parsing import explain

        return REFUSED, explain(error, None)
    if isinstance(error, es.OperationalError | es.InterfaceError | sa_exc.OperationalError):
        return REFUSED, (url and missing_folder(url)) or (
            f"cannot reach database {where}: {_first_line(error)}"
        )
    if isinstance(error, es.PersistenceError | sa_exc.SQLAlchemyError):
        return REFUSED, f"database {where} refused the request: {_first_line(error)}"
    if isinstance(error, OSError):
        name = error.filename or ""
        return REFUSED, f"{name}: {error.strerror or error}" if name else str(error)
    return INTERNAL_ERROR, (
        f"internal error ({type(error).__name__}: {_first_line(error)})\n"
        "this is a bug in seatledger; run again with --debug for the traceback"
    )


def _first_line(error: BaseException) -> str:
    # mask_url scrubs passwords from free text too (anything that is not a URL).
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    return mask_url(lines[0])[:300] if lines else type(error).__name__


# Each command (or command group) and the module that registers it, in `seatledger --help`
# order. A command's module is imported, and its Click command built, only when it is run or
# when every command is listed (--help, a mistyped name).
COMMANDS: dict[str, str] = {
    "settle": "scripts.record.constituencies",
    **dict.fromkeys(
        ["open", "propose", "counter", "accept", "reject", "withdraw", "agree", "amend"],
        "scripts.record.offers",
    ),
    **dict.fromkeys(
        ["meet", "join", "walkout", "end", "note", "correct"], "scripts.record.proceedings"
    ),
    **dict.fromkeys(["import", "export"], "scripts.record.transfer"),
    **dict.fromkeys(["split", "splits", "rollup", "history"], "scripts.read.views"),
    **dict.fromkeys(["seats", "seat"], "scripts.read.seats"),
    "diff": "scripts.read.diff",
    **dict.fromkeys(["report", "replay"], "scripts.read.audit"),
    "serve": "scripts.read.serve",
    **dict.fromkeys(["init", "verify", "digest"], "scripts.upkeep.integrity"),
    "copy": "scripts.upkeep.copying",
    "constituencies": "scripts.record.constituencies",
    **dict.fromkeys(["alliance", "parties"], "scripts.record.coalition"),
    "projections": "scripts.upkeep.projections",
}


# saves ~90-160 ms of `seatledger split` start-up (2026-12-07, SQLite 10k, loaded machine).
class LazyCommands(MutableMapping[str, Any]):
    """The root group's commands, each imported and built on first use (the other commands'
    modules and Click commands are never made); listing or counting them builds them all."""

    def __init__(self, built: dict[str, Any]) -> None:
        self._built = dict(built)

    def _load(self, module: str) -> None:
        """Import `module` and build the commands it registered (and any others not yet built)."""
        import_module(module)
        fresh = typer.Typer(
            rich_markup_mode=app.rich_markup_mode,
            pretty_exceptions_short=app.pretty_exceptions_short,
        )
        fresh.registered_commands = [
            info for info in app.registered_commands if _command_name(info) not in self._built
        ]
        fresh.registered_groups = [
            info for info in app.registered_groups if info.name not in self._built
        ]
        for name, command in typer.main.get_group(fresh).commands.items():
            self._built.setdefault(name, command)

    def _load_all(self) -> None:
        for module in dict.fromkeys(COMMANDS.values()):
            if any(name not in self._built for name, m in COMMANDS.items() if m == module):
                self._load(module)

    def __getitem__(self, name: str) -> Any:
        if name not in self._built and name in COMMANDS:
            self._load(COMMANDS[name])
        return self._built[name]

    def __contains__(self, name: object) -> bool:
        return name in self._built or name in COMMANDS

    def __iter__(self) -> Iterator[str]:
        self._load_all()
        rank = {name: i for i, name in enumerate(COMMANDS)}
        return iter(sorted(self._built, key=lambda name: rank.get(name, len(rank))))

    def __len__(self) -> int:
        self._load_all()
        return len(self._built)

    def __setitem__(self, name: str, command: Any) -> None:
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        del self._built[name]


def _command_name(info: Any) -> str:
    """The name Typer gives a registered command: its own, else its function's."""
    return str(info.name or typer.main.get_command_name(info.callback.__name__))


class LedgerGroup(TyperGroup):
    """The root command: every error a user can cause ends as one or two lines and an exit code."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = LazyCommands(dict(self.commands))

    def invoke(self, ctx: Any) -> Any:
        """Run the command; map errors to exit codes unless --debug asks for the traceback."""
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException, KeyboardInterrupt):
            raise
        except BrokenPipeError:
            # The reader (e.g. `| head`) closed the pipe: stop quietly, as SIGPIPE would.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            raise typer.Exit(BROKEN_PIPE) from None
        except Exception as error:
            found = settings(ctx)
            if found.debug:
                raise
            code, message = explain_error(error, found.url)
            echo(f"error: {message}", err=True)  # messages quote ledger text: escaped
            raise typer.Exit(code) from None

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        """Like click's main, but a usage error is two plain lines, not a boxed panel."""
        try:
            result = super().main(
                args, prog_name, complete_var, False, windows_expand_args, **extra
            )
        except typer.TyperException as error:  # click's UsageError, BadParameter, ...
            if not standalone_mode:
                raise
            context = getattr(error, "ctx", None)
            command = context.command_path if context is not None else "seatledger"
            message = plain(error.format_message())
            if message:  # empty when no arguments were given and the help was shown instead
                echo(f"error: {command}: {message}", err=True)
                typer.echo(f"see '{command} --help' for the options and examples", err=True)
            sys.exit(getattr(error, "exit_code", REFUSED))
        except typer.Abort:
            if not standalone_mode:
                raise
            typer.echo("aborted", err=True)
            sys.exit(REFUSED)
        if not standalone_mode:
            return result
        sys.exit(result if isinstance(result, int) else DONE)


app = typer.Typer(
    cls=LedgerGroup,
    name="seatledger",
    help=(
        "An event-sourced, bitemporal ledger of seat-sharing negotiations.\n\n"
        "Record offers, counter-offers and agreements as they happen; ask what the split was "
        "on any date, as the ledger knew it on any date.\n\n"
        "Example: seatledger import examples/india-bloc-2024.yaml && "
        "seatledger split uttar-pradesh --as-of 2024-01-31"
    ),
    epilog=(
        "Exit codes: 0 done, 1 a check found a problem (verify), 2 input or request refused "
        "(nothing written), 3 a bug in seatledger."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


def _version(value: bool) -> None:
    if value:
        try:
            found = version("seatledger")
        except PackageNotFoundError:
            found = "unknown (not installed)"
        typer.echo(f"seatledger {found}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            envvar=DB_ENV,
            metavar="URL",
            show_envvar=True,
            help=(
                "The ledger's database: a SQLite file or URL, or a PostgreSQL URL. "
                f"Default: ${DB_ENV}, else {DEFAULT_DB_URL} in the current folder. "
                "Also accepted after the command. "
                "Example: --db postgresql+psycopg://me@localhost/ledger"
            ),
        ),
    ] = None,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the full traceback when something fails.")
    ] = False,
    show_version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Global options, given before the command: seatledger --db URL split uttar-pradesh."""
    found = settings(ctx)
    found.db = db
    found.debug = debug
