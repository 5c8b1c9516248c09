"""Values of the negotiation domain: party codes, slugs, splits and the two time axes."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from functools import lru_cache
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime

from ledger.domain.errors import InputError

SLUG_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
PARTY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_().&+-]{0,31}$")
MAX_SEATS = 100_000


def check_slug(value: str) -> str:
    """Refuse ids that are empty, too long or carry spaces and punctuation."""
    if not SLUG_RE.match(value):
        raise ValueError(
            f"{value[:60]!r} is not a valid id: use 1-128 letters, digits, '.', '_', ':' or '-'"
        )
    return value


COLOUR_RE = re.compile(r"^#[0-9A-Fa-f]{6}$")


def check_colour(value: str) -> str:
    """A party's chart colour as #RRGGBB (kept in capitals, so one colour has one spelling)."""
    if not COLOUR_RE.match(value):
        raise ValueError(f"{value[:60]!r} is not a colour: write it as #RRGGBB, e.g. #1F77B4")
    return value.upper()


def check_party(value: str) -> str:
    """Refuse party codes that could not be typed on a command line."""
    if not PARTY_RE.match(value):
        raise ValueError(
            f"{value[:60]!r} is not a valid party code: use 1-32 letters, digits or _().&+-"
        )
    return value


Slug = Annotated[str, AfterValidator(check_slug)]
PartyCode = Annotated[str, AfterValidator(check_party)]
Colour = Annotated[str, AfterValidator(check_colour)]
ValidTime = AwareDatetime | date
"""When a move happened: a calendar date, or a timezone-aware instant."""

Split = dict[str, int]

CONSTITUENCY_FORBIDDEN = re.compile(r"[,;=:\x00-\x1f\x7f-\x9f]")
MAX_CONSTITUENCY = 100


def check_constituency(value: str) -> str:
    """A constituency's name: 1-100 characters without , ; = : or control characters.

    Surrounding spaces are not part of the name (they are dropped).
    """
    name = value.strip()
    if not 1 <= len(name) <= MAX_CONSTITUENCY or CONSTITUENCY_FORBIDDEN.search(name):
        raise ValueError(
            f"{value[:60]!r} is not a constituency name: use 1-{MAX_CONSTITUENCY} characters "
            "without ',', ';', '=', ':' or control characters"
        )
    return name


def constituency_key(name: str) -> str:
    """How names are compared: case-insensitively, surrounding spaces ignored."""
    return name.strip().casefold()


Constituency = Annotated[str, AfterValidator(check_constituency)]
NamedSeats = dict[PartyCode, list[Constituency]]
"""The named seats of a split, party by party (the counts stay in the split)."""


@lru_cache(maxsize=8192)
def _valid_instant(on: ValidTime) -> datetime:
    """Order key on the valid-time axis: a bare date counts from its start, UTC."""
    # Cached: every fold step and every sort key asks, for a few thousand distinct
    # dates. Equal inputs (even instants given in other offsets) give equal results.
    if isinstance(on, datetime):
        return on.astimezone(UTC)
    return datetime.combine(on, time.min, tzinfo=UTC)


valid_instant: Callable[[ValidTime], datetime] = _valid_instant
"""Order key on the valid-time axis: a bare date counts from its start, UTC.

The cache itself, not a function that calls it: one call less on the fold's hot path.
"""


def end_of(on: ValidTime) -> datetime:
    """The last instant a query date covers: a bare date means the whole day, UTC."""
    if isinstance(on, datetime):
        return on.astimezone(UTC)
    # The day's last microsecond directly: 9999-12-31 has no next midnight to step back from.
    return datetime.combine(on, time.max, tzinfo=UTC)


def parse_when(text: str, *, what: str) -> ValidTime:
    """Parse an ISO date or an ISO datetime with an offset, as users type them."""
    text = text.strip()
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(
            f"{what}: {text[:40]!r} is not a date; use YYYY-MM-DD or an ISO datetime with offset"
        ) from None
    if parsed.tzinfo is None:
        raise InputError(f"{what}: {text[:40]!r} has a time but no UTC offset (add e.g. +05:30)")
    try:
        parsed.astimezone(UTC)
    except OverflowError:
        raise InputError(f"{what}: {text[:40]!r} is out of range once converted to UTC") from None
    return parsed


def check_split(split: Split, *, seats: int, at_table: frozenset[str], move: str) -> None:
    """A split gives whole, non-negative seats to parties at the table, within the pool."""
    from ledger.domain.errors import PartyNotAtTableError, SplitError

    for party, n in split.items():
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise SplitError(f"move {move}: {party} gets {n!r} seats; seats are whole numbers >= 0")
        if party not in at_table:
            raise PartyNotAtTableError(
                f"move {move}: the split names {party}, which is not at the table"
            )
    total = sum(split.values())
    if total > seats:
        raise SplitError(
            f"move {move}: the split gives {total} seats but only {seats} are in the pool"
        )
