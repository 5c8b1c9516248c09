"""Words and small formats shared by the HTML and Markdown reports."""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit


def escape_html(value: Any) -> str:
    """A value as HTML text or attribute (None: nothing), as every HTML part of a report
    writes it."""
    return html.escape("" if value is None else str(value), quote=True)

STATUS_LABELS = {
    "opened": "Opened",
    "negotiating": "Negotiating",
    "agreed": "Agreed",
    "no_deal": "No deal",
    "unopened": "Not opened",
}
TYPE_LABELS = {
    "opened": "Talks opened",
    "counter_offer": "Counter-offer",
    "party_joined": "Party joined",
    "party_withdrew": "Party walked out",
    "party_joined_alliance": "Joined alliance",
    "party_left_alliance": "Left alliance",
    "talks_ended": "Talks ended",
}


def status_label(status: Any) -> str:
    """A status as people say it."""
    return STATUS_LABELS.get(str(status), str(status).replace("_", " ").capitalize())


def type_label(kind: Any) -> str:
    """A move type as people say it."""
    return TYPE_LABELS.get(str(kind), str(kind).replace("_", " ").capitalize())


def split_text(split: Mapping[str, Any] | None) -> str:
    """A split as `SP 63 · INC 17` (empty text for no split)."""
    return " · ".join(f"{party} {seats}" for party, seats in (split or {}).items())


def actor(move: Mapping[str, Any]) -> str:
    """Who made a move: its `by`, else the party or parties it names."""
    if move.get("by"):
        return str(move["by"])
    if move.get("party"):
        return str(move["party"])
    named = move.get("parties") or move.get("signatories") or []
    return ", ".join(str(p) for p in named)


def web_link(url: Any) -> tuple[str, str] | None:
    """(href, shown host) for an http(s) URL; None for anything else, which stays text."""
    if not isinstance(url, str):
        return None
    text = url.strip()
    if not text or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in text):
        return None
    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not host:
        return None
    return text, host.removeprefix("www.")


def instant_text(value: Any) -> str:
    """An ISO instant shortened for a table (`2024-02-21 10:04:05 +00:00`); dates unchanged."""
    if value is None:
        return ""
    text = str(value)
    if len(text) <= 10 or "T" not in text:
        return text
    day, _, clock = text.partition("T")
    zone = ""
    for sign in ("+", "-"):
        if sign in clock:
            clock, _, rest = clock.partition(sign)
            zone = f" {sign}{rest}"
            break
    if clock.endswith("Z"):
        clock, zone = clock[:-1], " UTC"
    return f"{day} {clock.split('.')[0]}{zone.replace(' +00:00', ' UTC')}"


FREE = "unassigned"  # a seat's holder when no one holds it


def seats_given_text(value: Any, limit: int | None = None) -> str:
    """Named seats that changed hands (`Bhadohi: SP → TMC`; no holder is `unassigned`), from
    history's `seats_given` items or (constituency, from, to) triples; past `limit`, how
    many more."""
    if not isinstance(value, list | tuple):
        return ""
    seats = [_handover(seat) for seat in value]
    shown = seats if limit is None else seats[:limit]
    text = " · ".join(f"{name}: {old or FREE} → {new or FREE}" for name, old, new in shown)
    more = len(seats) - len(shown)
    return f"{text} · … {more} more" if more else text


def _handover(seat: Any) -> tuple[Any, Any, Any]:
    if isinstance(seat, Mapping):
        return seat.get("constituency"), seat.get("from"), seat.get("to")
    name, old, new = seat
    return name, old, new


def moved_text(move: Mapping[str, Any], limit: int | None = None) -> str:
    """A history item's seats moved: per party, then the named seats that changed hands."""
    parts = (
        seats_moved_text(move.get("seats_moved")),
        seats_given_text(move.get("seats_given"), limit),
    )
    return "; ".join(part for part in parts if part)


def seats_moved_text(value: Any) -> str:
    """Seats gained or lost per party against the split before (`INC +14 · SP -6`)."""
    if isinstance(value, Mapping):
        return " · ".join(f"{party} {int(n):+d}" for party, n in value.items())
    return "" if value is None else str(value)
