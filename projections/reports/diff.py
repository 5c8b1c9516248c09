"""The report's "what changed" section (`report --diff-from D`), in HTML and in Markdown.

It renders the `diff --format json` object the report gathered (`projections.diff`), so
the section, the command and the web view's diff page carry the same facts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from projections.reports.model import JsonDict
from projections.reports.text import escape_html as _e
from projections.reports.text import seats_moved_text, split_text, status_label


def _span(diff: Mapping[str, Any]) -> str:
    known = f", as known on {diff['known_on']}" if diff.get("known_on") else ""
    return f"from {diff.get('from')} to {diff.get('to') or 'the latest date'}{known}"


def _status(change: Mapping[str, Any], key: str) -> str:
    value = change.get(key)
    return status_label(value) if value else "not open"


def _held(seat: Mapping[str, Any], key: str) -> str:
    holder, status = seat.get(f"holder_{key}"), seat.get(f"status_{key}")
    if status is None:
        return "not listed"
    return f"{holder} ({status})" if holder else f"none ({status})"


def _seats_changed(diff: Mapping[str, Any]) -> list[tuple[Any, Mapping[str, Any]]]:
    """(negotiation title, seat) for each named seat that changed holder."""
    return [
        (c.get("title"), seat)
        for c in diff.get("negotiations") or []
        for seat in c.get("seats_changed") or []
    ]


def diff_html(diff: JsonDict) -> str:
    """The section as HTML; every ledger value escaped."""
    rows = "".join(
        f"<tr><td>{_e(c.get('title'))}</td><td>{_e(_status(c, 'status_from'))} → "
        f"{_e(_status(c, 'status_to'))}</td><td>{_e(split_text(c.get('split_from')))}</td>"
        f"<td>{_e(split_text(c.get('split_to')))}</td>"
        f"<td>{_e(seats_moved_text(c.get('seats_moved')))}</td></tr>"
        for c in diff.get("negotiations") or []
    )
    table = (
        "<table><thead><tr><th>Negotiation</th><th>Status</th><th>Split then</th>"
        f"<th>Split now</th><th>Seats moved</th></tr></thead><tbody>{rows}</tbody></table>"
        if rows
        else '<p class="empty">No split or status changed.</p>'
    )
    held = "".join(
        f"<tr><td>{_e(title)}</td><td>{_e(seat.get('constituency'))}</td>"
        f"<td>{_e(_held(seat, 'from'))}</td><td>{_e(_held(seat, 'to'))}</td></tr>"
        for title, seat in _seats_changed(diff)
    )
    seats = (
        "<h3>Seats that changed holder</h3><table><thead><tr><th>Negotiation</th>"
        "<th>Constituency</th><th>Held then</th><th>Held now</th></tr></thead>"
        f"<tbody>{held}</tbody></table>"
        if held
        else ""
    )
    agreed = seats_moved_text(diff.get("agreed_seats_moved")) or "no change"
    moves = ", ".join(_e(m.get("id")) for m in diff.get("moves") or []) or "none"
    fixes = ", ".join(_e(m.get("id")) for m in diff.get("corrections") or []) or "none"
    return (
        '<section class="diff" id="diff"><div class="heading"><h2>What changed</h2>'
        f'<span class="sub">{_e(_span(diff))}</span></div>{table}{seats}'
        f"<p><strong>Agreed seats, all talks:</strong> {_e(agreed)}</p>"
        f"<p><strong>Moves made:</strong> {moves}</p>"
        f"<p><strong>Corrections:</strong> {fixes}</p></section>"
    )


def diff_markdown(diff: JsonDict) -> list[str]:
    """The section as Markdown lines; user text made inert as in the rest of the report."""
    from projections.reports.markdown import _m, _table  # the report's own escaping

    rows = [
        [_m(c.get("title")), _m(f"{_status(c, 'status_from')} → {_status(c, 'status_to')}"),
         _m(split_text(c.get("split_from"))), _m(split_text(c.get("split_to"))),
         _m(seats_moved_text(c.get("seats_moved")))]
        for c in diff.get("negotiations") or []
    ]  # fmt: skip
    head = ["Negotiation", "Status", "Split then", "Split now", "Seats moved"]
    held = [
        [_m(title), _m(seat.get("constituency")), _m(_held(seat, "from")), _m(_held(seat, "to"))]
        for title, seat in _seats_changed(diff)
    ]
    seats = (
        ["### Seats that changed holder", "",
         *_table(["Negotiation", "Constituency", "Held then", "Held now"], held)]
        if held
        else []
    )  # fmt: skip
    moves = ", ".join(_m(m.get("id")) for m in diff.get("moves") or []) or "none"
    fixes = ", ".join(_m(m.get("id")) for m in diff.get("corrections") or []) or "none"
    return [
        "## What changed",
        "",
        _m(_span(diff)),
        "",
        *(_table(head, rows) if rows else ["No split or status changed.", ""]),
        *seats,
        f"- **Agreed seats, all talks:** "
        f"{_m(seats_moved_text(diff.get('agreed_seats_moved')) or 'no change')}",
        f"- **Moves made:** {moves}",
        f"- **Corrections:** {fixes}",
        "",
    ]
