"""The seat-level part of a report: each listed constituency's holder and status, and the
pacts (partial agreements) marked on the chart, in HTML and Markdown alike."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from projections.reports.model import JsonDict
from projections.reports.text import escape_html as _e

STATUS_WORDS = {
    "agreed": "agreed",
    "settled": "settled (pact)",
    "on_table": "on the table",
    "unassigned": "unassigned",
}
GIVEN_SHOWN = 6  # a report's moves name this many seats that changed hands, then count


def status_word(status: Any) -> str:
    """A seat's status as people say it."""
    return STATUS_WORDS.get(str(status), str(status).replace("_", " "))


def pact_word(move: Mapping[str, Any]) -> str:
    """A partial agreement's word on the chart: the parties whose shares it settled."""
    parties = ", ".join(str(party) for party in (move.get("split") or {}))
    return f"pact {parties}".strip()


def seats_html(seats: Sequence[JsonDict], colours: Mapping[str, str]) -> str:
    """The constituency table: each seat, its holder (in the party's colour) and status."""
    if not seats:
        return ""
    rows = []
    for seat in seats:
        holder, status = seat.get("holder"), seat.get("status")
        if holder:
            colour = _e(colours.get(str(holder), "#52606d"))
            held = f'<span class="swatch" style="background:{colour}"></span>{_e(holder)}'
        else:
            held = '<span class="empty">none</span>'
        rows.append(
            f'<tr class="seat {_e(status)}"><td>{_e(seat.get("constituency"))}</td>'
            f"<td>{held}</td><td>{_e(status_word(status))}</td></tr>"
        )
    return (
        f"<h3>Constituencies ({len(seats)})</h3>"
        '<div class="table-wrap"><table class="seats"><thead><tr><th>Constituency</th>'
        f"<th>Holder</th><th>Status</th></tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def seats_markdown(seats: Sequence[JsonDict], inert: Callable[[Any], str]) -> list[str]:
    """The constituency table in Markdown, every value made inert by `inert`."""
    if not seats:
        return []
    rows = [
        f"| {inert(s.get('constituency'))} | {inert(s.get('holder') or '')} | "
        f"{inert(status_word(s.get('status')))} |"
        for s in seats
    ]
    head = ["| Constituency | Holder | Status |", "| --- | --- | --- |"]
    return [f"### Constituencies ({len(seats)})", "", *head, *rows, ""]
