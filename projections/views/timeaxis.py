"""Both time axes as integers: microseconds since the Unix epoch, UTC.

Integers sort the same way on SQLite and PostgreSQL, compare exactly (a datetime has
microsecond resolution), and need no timezone handling in either database.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Final

from ledger.domain.errors import InputError
from ledger.domain.values import ValidTime, end_of

EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND: Final = timedelta(microseconds=1)

END_OF_TIME: Final = 253_402_300_800_000_000
"""'Infinity' on both axes: 10000-01-01T00:00Z, one past the last instant Python can hold."""

LATEST: Final = END_OF_TIME - 1
"""The query instant for "latest": the last instant Python can hold, before infinity."""


def micros(instant: datetime) -> int:
    """An aware datetime as microseconds since the epoch (exact)."""
    return (instant - EPOCH) // _MICROSECOND


def from_micros(value: int) -> datetime:
    """The inverse of `micros`, in UTC."""
    return EPOCH + value * _MICROSECOND


def check_when(when: ValidTime | None, what: str) -> None:
    """Refuse a naive datetime: it names no instant."""
    if isinstance(when, datetime) and when.tzinfo is None:
        raise InputError(f"{what}: {when.isoformat()} has a time but no UTC offset")


def query_instant(when: ValidTime | None, what: str = "as of") -> int:
    """The instant a query date covers up to (a date is the whole day, UTC); None: latest."""
    check_when(when, what)
    return LATEST if when is None else micros(end_of(when))


def query_datetime(when: ValidTime | None, what: str = "as of") -> datetime | None:
    """As `query_instant`, as a datetime for `ledger.domain.folding` (None stays None)."""
    check_when(when, what)
    return None if when is None else end_of(when)


def iso(when: ValidTime | None) -> str | None:
    """ISO text of a date or datetime, or None."""
    return None if when is None else when.isoformat()


def parse_valid_time(text: str) -> ValidTime:
    """Read back what `iso` wrote: a bare date or an ISO datetime with offset."""
    if len(text) == 10:
        return date.fromisoformat(text)
    return datetime.fromisoformat(text)
