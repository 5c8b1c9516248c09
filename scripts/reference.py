"""docs/cli.md, written from the Typer app itself so the reference cannot drift from the code.

`python3.11 dev.py docs` rewrites the file; tests/scripts/test_reference_doc.py fails when the file
and the app disagree.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from typing import Any

import typer
import typer.main
from typer.core import TyperArgument, TyperGroup, TyperOption

from scripts.cli import app

HEADER = """\
# The `seatledger` command line: reference

Written from the command line's own definitions by `python3.11 dev.py docs`; a test fails when
this file and the program disagree, so what is here is what `seatledger --help` says. The
[README](../README.md) has a tour; [timeline-format.md](timeline-format.md) describes the files
that `import` reads and `export` writes.

## Everywhere

- `--db URL` names the ledger, before the command (`seatledger --db URL split ...`) or after
  it. Default: `$SEATLEDGER_DB`, else the SQLite file `seatledger.db` in the current folder.
  PostgreSQL: `--db postgresql://user@host/db`.
- Dates are `YYYY-MM-DD` (the whole day, UTC); `--on`, `--as-of` and `--known-on` also take an
  ISO datetime with a UTC offset (`2024-03-09T18:30:00+05:30`).
- `--debug` shows the traceback of a failure; without it an error is one or two lines on
  standard error.
- Exit codes: **0** done; **1** a check found a problem (`verify`); **2** the input or the request
  was refused, and nothing was written; **3** a bug in seatledger (please report it, with the
  output of `--debug`).
"""


@dataclass(frozen=True)
class Output:
    """What one command prints with `--format json`: its shape and its keys."""

    command: tuple[str, ...]  # an invocation on the bundled example ledger
    shape: str  # "object", or "list" of objects
    keys: tuple[str, ...]  # always present
    optional: tuple[str, ...] = ()  # present where they apply
    note: str = ""


_SPLIT = ("negotiation", "region", "seats", "as_of", "known_on", "status", "split",
          "unallocated", "by", "named", "settled")  # fmt: skip
_MOVE = ("id", "type", "on", "recorded_at", "recorded_by", "by", "split", "source", "note",
         "confidence", "negotiation", "seats_moved")  # fmt: skip
OUTPUTS = (
    Output(("split", "delhi"), "object", _SPLIT, ("election",),
           "`status` is opened, negotiating, agreed or no_deal; `split` maps party codes to "
           "seats; `by` is the maker of the split on the table (null once agreed); `named` maps "
           "parties with named seats to their constituencies (list order); `settled` maps "
           "parties to their settled seats ({} when none); `election` only for talks that have "
           "one."),
    Output(("splits",), "list", _SPLIT, ("election",), "One item per negotiation, as `split`."),
    Output(("replay",), "list", _SPLIT, ("election",),
           "As `splits`, folded from the event log itself."),
    Output(("rollup",), "object", ("as_of", "known_on", "parties"), (),
           "`parties` maps codes to seats in agreed talks. Over talks of several elections, "
           "not limited by `--election`, `elections` (election to codes to seats) replaces "
           "`parties`; talks with no election come under \"\"."),
    Output(("history",), "list", _MOVE,
           ("corrects", "corrected_by", "retract", "named", "seats_given"),
           "One item per move in date order. `seats_moved` is the split after the move minus "
           "the split it replaced, as known on `--known-on`; `seats_given` lists the listed "
           "constituencies whose holder that changed, `{\"constituency\", \"from\", \"to\"}` "
           "(null: unassigned), in list order, where there are any. Table, CSV and Markdown "
           "show both in one `seats_moved` cell: `SP -1 · TMC +1; Bhadohi: SP → TMC`."),
    Output(("diff", "--from", "2024-02-01", "--to", "2024-03-01"), "object",
           ("from", "to", "known_on", "negotiation", "negotiations", "agreed_seats_moved",
            "moves", "corrections"), (),
           "`negotiations` items carry negotiation, title, seats, status_from, status_to, "
           "split_from, split_to and seats_moved; `moves` items are `history` items."),
    Output(("verify",), "object", ("ok", "events_checked", "aggregates", "problems", "findings"),
           (), "`findings` groups problems by kind: chain, move_index, digest, views, snapshots "
           "and report. Exit 1 when `ok` is false."),
    Output(("projections", "status"), "object", ("position", "head", "lag")),
)  # fmt: skip


def reference() -> str:
    """The whole reference, as Markdown."""
    root = typer.main.get_command(app)
    parts = [HEADER, _outputs()]
    for path, command in _walk(root, ["seatledger"]):
        parts.append(_section(path, command))
    return "\n".join(parts).rstrip() + "\n"


def _outputs() -> str:
    lines = [
        "## What `--format json` prints",
        "",
        "Every listing command also prints `table` (for people) and `csv`; JSON is the form "
        "for programs. Keys in *italics* appear only where they apply.",
        "",
        "| command | prints | keys | notes |",
        "| --- | --- | --- | --- |",
    ]
    for out in OUTPUTS:
        keys = ", ".join([*(f"`{k}`" for k in out.keys), *(f"*`{k}`*" for k in out.optional)])
        shape = "an object" if out.shape == "object" else "a list of objects"
        command = " ".join(out.command[:2]) if out.command[0] == "projections" else out.command[0]
        lines.append(f"| `{command}` | {shape} | {keys} | {_cell(out.note)} |")
    return "\n".join(lines) + "\n"


def _walk(command: Any, path: list[str]) -> Iterator[tuple[list[str], Any]]:
    """Every command, depth first, in the order --help lists them."""
    if isinstance(command, TyperGroup):
        context = typer.Context(command, info_name=path[-1])
        for name in command.list_commands(context):
            sub = command.get_command(context, name)
            if sub is None or sub.hidden:
                continue
            if isinstance(sub, TyperGroup):
                yield [*path, name], sub
                yield from _walk(sub, [*path, name])
            else:
                yield [*path, name], sub
    else:
        yield path, command


def _section(path: list[str], command: Any) -> str:
    name = " ".join(path)
    context = typer.Context(command, info_name=name)
    usage = " ".join(command.collect_usage_pieces(context)).replace("{", "").replace("}", "")
    lines = [f"## `{name}`", "", _text(command.help or ""), "", "```", f"{name} {usage}", "```"]
    arguments = [p for p in command.params if isinstance(p, TyperArgument)]
    options = [p for p in command.params if isinstance(p, TyperOption) and not p.hidden]
    if arguments:
        lines += ["", "| argument | meaning |", "| --- | --- |"]
        for argument in arguments:
            meaning = getattr(argument, "help", None) or ""
            label = argument.metavar or (argument.name or "").upper()
            lines.append(f"| `{label}` | {_cell(meaning)} |")
    if options:
        lines += ["", "| option | meaning | default |", "| --- | --- | --- |"]
        for option in options:
            lines.append(
                f"| `{_option_names(option)}` | {_cell(option.help or '')} | {_default(option)} |"
            )
    if command.epilog:
        lines += ["", _text(command.epilog)]
    return "\n".join(lines) + "\n"


def _option_names(option: TyperOption) -> str:
    names = ", ".join([*option.opts, *option.secondary_opts])
    if option.is_flag:
        return names
    annotation = getattr(getattr(option, "type_descriptor", None), "annotation", None)
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return f"{names} {'|'.join(str(member.value) for member in annotation)}"
    name = getattr(annotation, "__name__", "value")
    return f"{names} {option.metavar or _METAVARS.get(name, name.upper())}"


_METAVARS = {"str": "TEXT", "int": "INTEGER", "Path": "PATH", "float": "NUMBER"}


def _default(option: TyperOption) -> str:
    if option.envvar and isinstance(option.envvar, str):
        return f"`${option.envvar}`"
    value = option.default
    if value is None or value in (False, "") or option.is_flag or callable(value):
        return ""
    return f"`{getattr(value, 'value', value)}`"


def _text(text: str) -> str:
    """A help text as paragraphs (click's \\b markers and docstring indents removed)."""
    return inspect.cleandoc(text).replace("\b\n", "").strip()


def _cell(text: str) -> str:
    return " ".join(_text(text).split()).replace("|", "\\|")


if __name__ == "__main__":  # pragma: no cover - the file is written by dev.py docs
    print(reference(), end="")
