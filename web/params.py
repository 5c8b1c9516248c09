"""Query parameters of the pages, read into typed values; anything wrong is an InputError (400)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from ledger.domain.errors import InputError, NotFoundError
from ledger.domain.values import MAX_CONSTITUENCY, ValidTime, check_slug, parse_when
from web.reading import Span, day_of

MAX_PARAM = 64  # no date, slug or step is longer; longer text is refused unread
MAX_NAME = MAX_CONSTITUENCY  # nor a constituency's name
MAX_DAYS = 36_600  # a century of slider steps
MAX_PAGES = 1_000_000  # a page number beyond the moves shows an empty page, never an error


def text(params: Mapping[str, str], name: str) -> str | None:
    """A parameter's text, stripped; None when absent or empty (an empty form field)."""
    value = params.get(name)
    if value is None or not value.strip():
        return None
    if len(value) > MAX_PARAM:
        raise InputError(f"{name}: longer than {MAX_PARAM} characters")
    return value.strip()


def when(params: Mapping[str, str], name: str) -> ValidTime | None:
    """A date or ISO datetime with offset (`as_of`, `known_on`, `from`, `to`)."""
    value = text(params, name)
    if value is None:
        return None
    # A "+05:30" typed into an address arrives as " 05:30" (a plus is a space in a query).
    return parse_when(value.replace(" ", "+") if "T" in value else value, what=name)


def required(params: Mapping[str, str], name: str) -> ValidTime:
    """As `when`, but the parameter must be there."""
    found = when(params, name)
    if found is None:
        raise InputError(f"{name}: give a date (YYYY-MM-DD)")
    return found


def slug(params: Mapping[str, str], name: str) -> str | None:
    """A negotiation's slug, checked as the command line checks it."""
    value = text(params, name)
    if value is None:
        return None
    try:
        return check_slug(value)
    except ValueError as error:
        raise InputError(f"{name}: {error}") from None


def checked_slug(value: str) -> str:
    """A negotiation named in a page's path; a malformed one names no negotiation (404)."""
    try:
        return check_slug(value)
    except ValueError:
        raise NotFoundError(f"no negotiation {value[:MAX_PARAM]!r} in this ledger") from None


def page(params: Mapping[str, str]) -> int:
    """Which page of a long list (`page`, 1 = the latest; default 1)."""
    value = text(params, "page")
    if value is None:
        return 1
    if not value.isdigit() or not 1 <= int(value) <= MAX_PAGES:
        raise InputError(f"page: {value!r} is not a page number from 1 to {MAX_PAGES}")
    return int(value)


def constituency(value: str) -> str:
    """A constituency named in a page's path; one too long to be listed names none (404)."""
    if len(value) > MAX_NAME or not value.strip():
        raise NotFoundError(f"no constituency {value[:MAX_PARAM]!r} in these talks")
    return value


def as_of(params: Mapping[str, str], span: Span) -> ValidTime | None:
    """The page's date: the slider's step (`day`) when given, else `as_of`.

    The slider form sends its step and the date it counts from (`start`), so a page works
    without JavaScript and means the same whatever span the next request computes.
    """
    step = text(params, "day")
    if step is None:
        return when(params, "as_of")
    if not step.isdigit() or int(step) > MAX_DAYS:
        raise InputError(f"day: {step!r} is not a whole number of days up to {MAX_DAYS}")
    start = when(params, "start")
    first = span.first if start is None else day_of(start)
    return first + timedelta(days=int(step))
