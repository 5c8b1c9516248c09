"""The audit report as Markdown: the same facts as the HTML page, the chart as a table."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from projections.reports.diff import diff_markdown
from projections.reports.model import (
    JsonDict,
    NegotiationReport,
    ReportFacts,
    as_list,
    instant,
    stamp_text,
)
from projections.reports.seats import GIVEN_SHOWN, seats_markdown
from projections.reports.text import (
    actor,
    instant_text,
    moved_text,
    split_text,
    status_label,
    type_label,
    web_link,
)

_SPECIAL = re.compile(r"([\\`*_\[\]|#~])")


def _m(value: Any) -> str:
    """User text made inert: no HTML, no Markdown markup, no line breaks to break a table."""
    text = html.escape("" if value is None else str(value), quote=False)
    return _SPECIAL.sub(r"\\\1", " ".join(text.split()))


def _code(value: Any) -> str:
    """A code span: its content is literal, so only backticks and table pipes need care."""
    text = " ".join(("" if value is None else str(value)).split()).replace("`", "'")
    return "`" + text.replace("|", "\\|") + "`"


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _table(head: list[str], rows: list[list[str]]) -> list[str]:
    return [_row(head), _row(["---"] * len(head)), *(_row(r) for r in rows), ""]


def render_markdown(facts: ReportFacts) -> str:
    """The whole report as one Markdown document."""
    digest = facts.digest
    title = (
        f"Audit report: {facts.negotiations[0].title}"
        if facts.scope and facts.negotiations
        else "Audit report: all negotiations"
    )
    lines = [
        f"# {_m(title)}",
        "",
        f"- **As of:** {_m(facts.as_of or 'latest (every date recorded)')}",
        f"- **As known on:** {_m(facts.known_on or 'report time (everything recorded)')}",
        f"- **Generated:** {_m(instant_text(digest.get('created_at')))}",
        f"- **Ledger position:** {_m(digest.get('position'))} ({_m(digest.get('events'))} events)",
        f"- **Ledger digest (root):** {_code(digest.get('root'))}",
        f"- **Views digest:** {_code(facts.views_digest)}",
        "",
        stamp_text(facts.stamp()),
        "",
    ]
    for negotiation in facts.negotiations:
        lines.extend(_negotiation(negotiation))
    if facts.diff is not None:
        lines.extend(diff_markdown(facts.diff))
    lines.extend(_rollup(facts.rollup))
    return "\n".join(lines)


def _negotiation(report: NegotiationReport) -> list[str]:
    view = report.view
    lines = [
        f"## {_m(report.title)}",
        "",
        f"{_m(view.get('region'))} · {_m(view.get('seats'))} seats · {_code(report.slug)} · "
        f"**{_m(status_label(view.get('status')))}**",
        "",
    ]
    if view.get("by"):
        lines += [f"On the table: the split proposed by **{_m(view['by'])}**.", ""]
    split: Mapping[str, Any] = view.get("split") or {}
    if split:
        ordered = sorted(split.items(), key=lambda item: (-int(item[1]), item[0]))
        rows = [[_m(p), str(n)] for p, n in ordered]
        rows.append(["*unallocated*", _m(view.get("unallocated"))])
        lines += _table(["Party", "Seats"], rows)
    else:
        lines += ["*No split on the table.*", ""]
    lines += seats_markdown(report.seats, _m)
    lines += _series(report)
    lines += [f"### Moves ({len(report.history)})", ""]
    lines += _table(
        [
            "Valid date",
            "Recorded at",
            "Recorded by",
            "Move",
            "By",
            "Split",
            "Seats moved",
            "Source",
            "Note",
            "Confidence",
        ],
        [_move(m) for m in report.history],
    )
    return lines


def _series(report: NegotiationReport) -> list[str]:
    """The chart's facts: each change of the split on the table, as a date-by-party table.

    A blank cell is unchanged; `out` is a party that dropped out of the split that day.
    """
    if not report.series:
        return []
    parties = sorted(report.series)
    position = {str(m.get("id")): i for i, m in enumerate(report.history)}
    by_move: dict[str, dict[str, Any]] = {}
    for party in parties:
        for point in report.series[party]:
            row = by_move.setdefault(point.move, {"on": point.on, "type": point.type})
            row[party] = point.seats
    order = {move: (instant(r["on"]), position.get(move, 0)) for move, r in by_move.items()}
    rows = [
        [
            _m(r["on"]),
            f"{_m(type_label(r['type']))} {_code(move)}",
            *("out" if p in r and r[p] is None else _m(r.get(p, "")) for p in parties),
        ]
        for move, r in sorted(by_move.items(), key=lambda item: order[item[0]])
    ]
    legend = "Changes of the split on the table; blank: unchanged, out: out of the split."
    return [
        "### Seats over time",
        "",
        legend,
        "",
        *_table(["Date", "Move", *map(_m, parties)], rows),
    ]


def _move(move: JsonDict) -> list[str]:
    verb = "retracts" if move.get("retract") else "corrects"
    marks = [f"{verb} {_code(m)}" for m in as_list(move.get("corrects"))]
    marks += [f"**corrected by** {_code(m)}" for m in as_list(move.get("corrected_by"))]
    kind = f"{_m(type_label(move.get('type')))} {_code(move.get('id'))}"
    return [
        _m(move.get("on")),
        _m(instant_text(move.get("recorded_at"))),
        _m(move.get("recorded_by")),
        "<br>".join([kind, *marks]),
        _m(actor(move)),
        _m(split_text(move.get("split"))),
        _m(moved_text(move, GIVEN_SHOWN)),
        _source(move.get("source")),
        _m(move.get("note")),
        _m(move.get("confidence")),
    ]


def _source(url: Any) -> str:
    link = web_link(url)
    if link is None:
        return _m(url)
    href, host = link
    return f"[{_m(host)}]({quote(href, safe=':/?#@!$&*+,;=%-._~')})"


def _rollup_table(parties: Mapping[str, Any]) -> list[str]:
    if not parties:
        return ["*No talks agreed on this date.*", ""]
    ordered = sorted(parties.items(), key=lambda item: (-int(item[1]), item[0]))
    total = sum(int(n) for n in parties.values())
    return _table(
        ["Party", "Seats"],
        [[_m(p), str(n)] for p, n in ordered] + [["**Total**", f"**{total}**"]],
    )


def _rollup(rollup: JsonDict) -> list[str]:
    lines = ["## National roll-up", "", "Seats per party across agreed talks.", ""]
    elections = rollup.get("elections")
    if isinstance(elections, dict) and elections:  # never summed across elections
        for name, parties in elections.items():
            lines += [f"### {_m(name or 'No election given')}", ""]
            lines += _rollup_table(parties)
    else:
        lines += _rollup_table(rollup.get("parties") or {})
    negotiations = rollup.get("negotiations")
    if isinstance(negotiations, list) and negotiations:
        lines += _table(
            ["Negotiation", "Status", "Split"],
            [
                [
                    _m(n.get("title") or n.get("negotiation")),
                    _m(status_label(n.get("status"))),
                    _m(split_text(n.get("split"))),
                ]
                for n in negotiations
                if isinstance(n, dict)
            ],
        )
    return lines
