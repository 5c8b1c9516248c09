"""The audit report as one self-contained HTML page: inline styles, inline SVG, nothing fetched.

Every value that came from the ledger goes through `_e` (notes and sources are user input);
only http(s) sources become links.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from projections.reports.chart import Mark, chart_svg, party_colours
from projections.reports.diff import diff_html
from projections.reports.model import (
    JsonDict,
    NegotiationReport,
    ReportFacts,
    as_list,
    stamp_text,
)
from projections.reports.seats import GIVEN_SHOWN, pact_word, seats_html
from projections.reports.style import CSS
from projections.reports.text import (
    actor,
    instant_text,
    seats_given_text,
    seats_moved_text,
    split_text,
    status_label,
    type_label,
    web_link,
)
from projections.reports.text import escape_html as _e

# (heading, width): fixed widths keep the table inside the page; the note takes the rest.
MOVE_COLUMNS = (
    ("Valid date", "84px"),
    ("Recorded at", "88px"),
    ("Recorded by", "84px"),
    ("Move", "160px"),
    ("By", "52px"),
    ("Split", "112px"),
    ("Seats moved", "100px"),
    ("Source", "132px"),
    ("Note", "auto"),
    ("Confidence", "96px"),
)


def render_html(facts: ReportFacts) -> str:
    """The whole report page."""
    colours = party_colours(facts.parties, facts.colours)
    title = _title(facts)
    body = [_header(facts, title)]
    if len(facts.negotiations) > 1:
        body.append(_toc(facts))
    body.extend(_negotiation(n, colours) for n in facts.negotiations)
    if facts.diff is not None:
        body.append(diff_html(facts.diff))
    body.append(_rollup(facts.rollup, colours))
    body.append(_footer(facts))
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="referrer" content="no-referrer">\n'
        f"{stamp_text(facts.stamp())}\n"
        f"<title>{_e(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n"
        + "\n".join(body)
        + "\n</main>\n</body>\n</html>\n"
    )


def _title(facts: ReportFacts) -> str:
    if facts.scope and facts.negotiations:
        return f"Audit report: {facts.negotiations[0].title}"
    return "Audit report: all negotiations"


def _header(facts: ReportFacts, title: str) -> str:
    digest = facts.digest
    items = [
        ("As of", facts.as_of or "latest (every date recorded)", ""),
        ("As known on", facts.known_on or "report time (everything recorded)", ""),
        ("Generated", instant_text(digest.get("created_at")), ""),
        ("Ledger position", f"{digest.get('position')} ({digest.get('events')} events)", ""),
        ("Ledger digest (root)", digest.get("root"), "digest"),
        ("Views digest", facts.views_digest, "digest"),
    ]
    rows = "".join(
        f'<div class="{cls}"><dt>{_e(k)}</dt><dd>{_e(v)}</dd></div>' for k, v, cls in items
    )
    return (
        '<header class="report"><p class="eyebrow">seatledger · seat-sharing ledger</p>'
        f'<h1>{_e(title)}</h1><dl class="meta">{rows}</dl></header>'
    )


def _toc(facts: ReportFacts) -> str:
    links = "".join(
        f'<li><a href="#n-{_e(n.slug)}">{_e(n.title)} {_badge(n.view.get("status"))}</a></li>'
        for n in facts.negotiations
    )
    return f'<nav class="toc" aria-label="Negotiations"><ul>{links}</ul></nav>'


def _badge(status: Any) -> str:
    return f'<span class="badge {_e(status)}">{_e(status_label(status))}</span>'


def _negotiation(report: NegotiationReport, colours: Mapping[str, str]) -> str:
    view = report.view
    seats = int(view.get("seats") or 0)
    heading = (
        f'<div class="heading"><h2>{_e(report.title)}</h2>{_badge(view.get("status"))}'
        f'<span class="sub">{_e(view.get("region"))} · {seats} seats · '
        f"<code>{_e(report.slug)}</code></span></div>"
    )
    summary, chart = _standing(view, colours), _chart(report, colours)
    standing = f'<div class="standing"><div>{summary}</div>{chart}</div>'
    moves, seated = _moves(report), seats_html(report.seats, colours)
    return (
        f'<section class="negotiation" id="n-{_e(report.slug)}">{heading}{standing}{seated}'
        f"<h3>Moves ({len(report.history)})</h3>{moves}</section>"
    )


def _standing(view: JsonDict, colours: Mapping[str, str]) -> str:
    seats = int(view.get("seats") or 0)
    split: Mapping[str, int] = view.get("split") or {}
    when = view.get("as_of") or "the latest date"
    known = f", as known on {view['known_on']}" if view.get("known_on") else ""
    lines = [f'<p class="caption">Where the talks stood on {_e(when)}{_e(known)}</p>']
    if view.get("by"):
        lines.append(
            f"<p>On the table: the split proposed by <strong>{_e(view['by'])}</strong></p>"
        )
    if not split:
        lines.append('<p class="empty">No split on the table.</p>')
        return "".join(lines)
    ordered = sorted(split.items(), key=lambda item: (-int(item[1]), item[0]))
    rows = [_bar_row(p, n, seats, colours.get(p, "#52606d")) for p, n in ordered]
    unallocated = view.get("unallocated")
    if unallocated is not None:
        rows.append(
            f'<tr class="unallocated"><td>unallocated</td><td class="num">'
            f"{_e(unallocated)}</td><td></td></tr>"
        )
    lines.append(
        '<table class="split"><thead><tr><th>Party</th><th class="num">Seats</th>'
        f'<th style="width:55%"></th></tr></thead><tbody>{"".join(rows)}</tbody></table>'
    )
    return "".join(lines)


def _bar_row(party: str, seats: int, pool: int, colour: str) -> str:
    width = 0.0 if not pool else min(100.0, 100.0 * int(seats) / pool)
    return (
        f'<tr><td><span class="swatch" style="background:{colour}"></span>{_e(party)}</td>'
        f'<td class="num">{_e(seats)}</td><td><span class="bar" '
        f'style="width:{width:.1f}%;background:{colour}"></span></td></tr>'
    )


# The moves drawn as a dashed vertical line on the chart, and their word (a pact's names
# the parties it settled).
MARKED = {
    "agreement": "agreed",
    "amendment": "amended",
    "talks_ended": "talks ended",
    "partial_agreement": "pact",
}


def _chart(report: NegotiationReport, colours: Mapping[str, str]) -> str:
    if not report.series:
        return '<p class="empty">No proposal, counter-offer or agreement to chart yet.</p>'
    dates = [str(m["on"]) for m in report.history if m.get("on")]
    retracted = {str(m.get("corrects")) for m in report.history if m.get("retract")}
    marks = [
        Mark(str(m["on"]), pact_word(m) if m.get("type") == "partial_agreement" else
             MARKED[str(m.get("type"))])
        for m in report.history
        if m.get("type") in MARKED and m.get("on") and str(m.get("id")) not in retracted
    ]
    svg = chart_svg(
        report.series,
        colours=colours,
        seats=int(report.view.get("seats") or 0),
        span=(dates[0], dates[-1]),
        marks=marks,
        until=report.view.get("as_of"),
        salt=report.slug,
        label=f"Seats per party over time, {report.title}",
    )
    return (
        f'<figure class="chart">{svg}<figcaption>Seats each party holds in the split on the '
        "table (or the agreed split) on each move's date, as <code>seatledger split --as-of"
        "</code> answers; a line ends where the party drops out of that split or leaves the "
        "table or the alliance. Lines with equal seats are drawn side by side, each labelled "
        "at its end. Dashed verticals mark pacts (partial agreements, with the parties whose "
        "shares they settled), agreements, amendments and the end of talks.</figcaption>"
        "</figure>"
    )


def _moves(report: NegotiationReport) -> str:
    if not report.history:
        return '<p class="empty">No moves recorded.</p>'
    # The By column is as wide as the longest party code in it: a code never wraps.
    longest = max((len(p) for m in report.history for p in _actors(m)), default=0)
    widths = {"By": f"{max(52, 18 + 9 * longest)}px"}
    cols = "".join(f'<col style="width:{widths.get(n, w)}">' for n, w in MOVE_COLUMNS)
    head = "".join(f"<th>{_e(name)}</th>" for name, _ in MOVE_COLUMNS)
    by_id = {str(m.get("id")): m for m in report.history}
    rows = "\n".join(_move_row(report.slug, m, by_id) for m in report.history)
    return (
        f'<div class="table-wrap"><table class="moves"><colgroup>{cols}</colgroup>'
        f"<thead><tr>{head}</tr></thead><tbody>\n"
        f"{rows}\n</tbody></table></div>"
    )


def _anchor(slug: str, move_id: str) -> str:
    return f"m-{slug}-{move_id}"


def _move_row(slug: str, move: JsonDict, rows: Mapping[str, JsonDict]) -> str:
    corrects, fixes = as_list(move.get("corrects")), as_list(move.get("corrected_by"))
    # Strike out the recorded split only when a correction replaced or retracted it.
    struck = any(rows.get(f, {}).get("retract") or rows.get(f, {}).get("split") for f in fixes)
    classes = ["move", *(["correction"] if corrects else []), *(["corrected"] if fixes else [])]
    classes += ["superseded"] if struck else []
    verb = "retracts" if move.get("retract") else "corrects"
    marks = "".join(
        f'<a class="mark corrects" href="#{_e(_anchor(slug, m))}">{verb} {_e(m)}</a> '
        for m in corrects
    ) + "".join(
        f'<a class="mark corrected-by" href="#{_e(_anchor(slug, m))}">corrected by {_e(m)}</a> '
        for m in fixes
    )
    confidence = move.get("confidence")
    cells = [
        f'<td class="when">{_e(move.get("on"))}</td>',
        f'<td class="when">{_recorded_at(move.get("recorded_at"))}</td>',
        f"<td>{_e(move.get('recorded_by'))}</td>",
        f'<td><span class="type">{_e(type_label(move.get("type")))}</span>'
        f'<span class="id">{_e(move.get("id"))}</span>{marks}</td>',
        f'<td class="by">{_chips(" · ".join(_actors(move)))}</td>',
        f'<td class="split">{_chips(split_text(move.get("split")))}</td>',
        f'<td class="moved">{_chips(seats_moved_text(move.get("seats_moved")))}'
        f"{_chips(seats_given_text(move.get('seats_given'), GIVEN_SHOWN))}</td>",
        f"<td>{_source(move.get('source'))}</td>",
        f'<td class="note">{_e(move.get("note"))}</td>',
        f'<td class="{"reported" if confidence == "reported" else ""}">{_e(confidence)}</td>',
    ]
    row_id = _e(_anchor(slug, str(move.get("id"))))
    return f'<tr id="{row_id}" class="{" ".join(classes)}">{"".join(cells)}</tr>'


def _actors(move: JsonDict) -> list[str]:
    """The party codes of a move's By cell, one chip each."""
    return [p for p in actor(move).split(", ") if p]


def _chips(text: str) -> str:
    """`SP 63 · INC 17` as one unbreakable chip per party, so cells wrap between parties."""
    return " ".join(f'<span class="chip">{_e(part)}</span>' for part in text.split(" · ") if part)


def _recorded_at(value: Any) -> str:
    day, _, clock = instant_text(value).partition(" ")
    return f'{_e(day)}<span class="clock">{_e(clock)}</span>' if clock else _e(day)


def _source(url: Any) -> str:
    link = web_link(url)
    if link is None:
        return _e(url)
    href, host = link
    shown = _e(host).replace(".", ".<wbr>")  # long host names break after a dot
    return f'<a href="{_e(href)}" title="{_e(href)}" rel="noopener noreferrer nofollow">{shown}</a>'


def _rollup(rollup: JsonDict, colours: Mapping[str, str]) -> str:
    elections = rollup.get("elections")
    if isinstance(elections, dict) and elections:  # never summed across elections
        table = "".join(
            f"<h3>{_e(name or 'No election given')}</h3>{_rollup_table(parties, colours)}"
            for name, parties in elections.items()
        )
        sub = "seats per party across agreed talks, per election"
    else:
        table = _rollup_table(rollup.get("parties") or {}, colours)
        sub = "seats per party across agreed talks"
    listed = _rollup_negotiations(rollup.get("negotiations"))
    return (
        '<section class="rollup" id="rollup"><div class="heading"><h2>National roll-up</h2>'
        f'<span class="sub">{sub}</span></div>'
        f'<div class="standing"><div>{table}</div><div>{listed}</div></div></section>'
    )


def _rollup_table(parties: Mapping[str, int], colours: Mapping[str, str]) -> str:
    total = sum(int(n) for n in parties.values())
    if not parties:
        return '<p class="empty">No talks agreed on this date.</p>'
    ordered = sorted(parties.items(), key=lambda item: (-int(item[1]), item[0]))
    rows = "".join(_bar_row(p, n, total, colours.get(p, "#52606d")) for p, n in ordered)
    return (
        '<table class="split"><thead><tr><th>Party</th><th class="num">Seats</th>'
        f'<th style="width:60%"></th></tr></thead><tbody>{rows}'
        f'<tr><td><strong>Total</strong></td><td class="num"><strong>{total}</strong></td>'
        "<td></td></tr></tbody></table>"
    )


def _rollup_negotiations(negotiations: Any) -> str:
    if not isinstance(negotiations, list) or not negotiations:
        return ""
    rows = "".join(
        f"<tr><td>{_e(n.get('title') or n.get('negotiation'))}</td><td>{_badge(n.get('status'))}"
        f'</td><td class="split-cell">{_e(split_text(n.get("split")))}</td></tr>'
        for n in negotiations
        if isinstance(n, dict)
    )
    return (
        "<table><thead><tr><th>Negotiation</th><th>Status</th><th>Split</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )


def _footer(facts: ReportFacts) -> str:
    digest = facts.digest
    return (
        f"<footer>Made from the ledger at position {_e(digest.get('position'))}, digest root "
        f"<code>{_e(digest.get('root'))}</code>. Keep this digest: <code>seatledger verify "
        "--digest FILE</code> checks that the ledger still holds every event it covers.</footer>"
    )
