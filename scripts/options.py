"""Options shared by many commands, and the parsers that turn their text into typed values.

A parser raises typer.BadParameter; click then names the option and exits 2.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from enum import StrEnum
from typing import Annotated, Any

import typer

from ledger.domain.errors import InputError
from ledger.domain.values import (
    check_colour,
    check_constituency,
    check_party,
    check_slug,
    parse_when,
)


class Codes(tuple[str, ...]):
    """Party codes given as one comma-separated option: --parties SP,INC."""


class Names(tuple[str, ...]):
    """Constituency names given as one ';'-separated option: --names 'Bhadohi;Amethi'."""


class Format(StrEnum):
    """How a listing command prints: a Rich table for people, JSON or CSV for programs."""

    table = "table"
    json = "json"
    csv = "csv"


class HistoryFormat(StrEnum):
    """Listing formats, plus a Markdown table for pasting into notes."""

    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"


class Confidence(StrEnum):
    """How sure the source is: a confirmed fact, or a report."""

    confirmed = "confirmed"
    reported = "reported"


def parse_split(text: str) -> dict[str, Any]:
    """Parties separated by commas; a share is a count (INC=3), names separated by ';'
    (AAP=New Delhi;West Delhi), or a count with some names (INC=17:Amethi;Rae Bareli)."""
    split: dict[str, Any] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        party, sep, share = (piece.strip() for piece in item.partition("="))
        if not sep or not party or not share:
            raise typer.BadParameter(f"{item!r} is not PARTY=SEATS (example: SP=63,INC=17)")
        _check(check_party, party)
        if party in split:
            raise typer.BadParameter(f"{party} is given twice")
        split[party] = _share(party, share)
    if not split:
        raise typer.BadParameter("give at least one PARTY=SEATS (example: SP=63,INC=17)")
    return split


def _share(party: str, text: str) -> Any:
    """One party's share as the timeline format writes it: a count, a list, or both."""
    count, colon, names = text.partition(":")
    if colon:
        count = count.strip()
        if not count.isdigit():
            raise typer.BadParameter(
                f"{party} gets {count!r}: before ':' give the seats, e.g. INC=17:Amethi;Rae Bareli"
            )
        return {"seats": int(count), "named": _names(party, names)}
    if text.isdigit():
        return int(text)
    if _NUMBER_LIKE.fullmatch(text):
        raise typer.BadParameter(f"{party} gets {text!r}: seats are whole numbers >= 0")
    return _names(party, text)


_NUMBER_LIKE = re.compile(r"[-+]?[0-9][0-9._eE+-]*|[-+.][0-9][0-9._eE+-]*")


def _names(party: str, text: str) -> list[str]:
    names = [name.strip() for name in text.split(";") if name.strip()]
    if not names:
        raise typer.BadParameter(f"{party}: give constituency names separated by ';'")
    for name in names:
        _check(check_constituency, name)
    return names


def parse_names(text: str) -> Names:
    """Constituency names separated by ';': 'New Delhi; West Delhi'."""
    names = [name.strip() for name in text.split(";") if name.strip()]
    if not names:
        raise typer.BadParameter("give at least one constituency (example: 'New Delhi;West Delhi')")
    for name in names:
        _check(check_constituency, name)
    return Names(names)


def parse_codes(text: str) -> Codes:
    """Party codes separated by commas: 'SP, INC' -> ('SP', 'INC')."""
    codes = [code.strip() for code in text.split(",") if code.strip()]
    if not codes:
        raise typer.BadParameter("give at least one party code (example: SP,INC)")
    for code in codes:
        _check(check_party, code)
    repeated = sorted({c for c in codes if codes.count(c) > 1})
    if repeated:
        raise typer.BadParameter(f"{', '.join(repeated)} given twice")
    return Codes(codes)


def parse_party(text: str) -> str:
    """One party code."""
    return _check(check_party, text.strip())


def parse_colour(text: str) -> str:
    """A chart colour, #RRGGBB."""
    return _check(check_colour, text.strip())


def parse_slug(text: str) -> str:
    """A negotiation, alliance or move id."""
    return _check(check_slug, text.strip())


def parse_date(text: str) -> date:
    """An ISO date, or an ISO datetime with a UTC offset (a datetime is a date)."""
    try:
        return parse_when(text, what="date")
    except InputError as error:
        raise typer.BadParameter(str(error).removeprefix("date: ")) from None


def _check(check: Callable[[str], str], value: str) -> str:
    try:
        return check(value)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None


DB_HELP = "The database (as the global --db, which it overrides). Example: --db ledger.db"

DbOpt = Annotated[str | None, typer.Option("--db", metavar="URL", help=DB_HELP)]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Show the traceback when something fails.")]
AsOfOpt = Annotated[
    date | None,
    typer.Option(
        "--as-of",
        metavar="DATE",
        parser=parse_date,
        help="The date to look at (the whole day, UTC); default: every move. "
        "Example: --as-of 2024-01-31",
    ),
]
KnownOnOpt = Annotated[
    date | None,
    typer.Option(
        "--known-on",
        metavar="WHEN",
        parser=parse_date,
        help="What the ledger knew then: only moves and corrections recorded by WHEN (a date, "
        "or an ISO datetime with offset); default: now. Example: --known-on 2024-01-28T12:00+05:30",
    ),
]
FormatOpt = Annotated[
    Format,
    typer.Option(
        "--format", "-f", help="table for people, json or csv for programs. Example: -f json"
    ),
]
HistoryFormatOpt = Annotated[
    HistoryFormat,
    typer.Option("--format", "-f", help="table, json, csv or markdown. Example: -f markdown"),
]
OnlyElectionOpt = Annotated[
    str | None,
    typer.Option(
        "--election",
        metavar="ELECTION",
        help="Only the talks of this election (as given when they opened). "
        'Example: --election "Lok Sabha 2024"',
    ),
]
OnlyAllianceOpt = Annotated[
    str | None,
    typer.Option(
        "--alliance",
        metavar="ALLIANCE",
        parser=parse_slug,
        help="Only the talks of this alliance. Example: --alliance india-bloc",
    ),
]
