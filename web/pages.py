"""Each page's facts as a template context and as its JSON twin (the command line's shapes)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from markupsafe import Markup

from projections.answers import JsonDict, SplitView
from projections.reports.chart import party_colours
from projections.reports.seats import status_word
from projections.reports.text import (
    instant_text,
    seats_given_text,
    seats_moved_text,
    split_text,
    status_label,
    type_label,
    web_link,
)
from projections.views.timeaxis import iso
from web import params
from web.graphics import lineage_graph, rollup_bar, seats_chart
from web.reading import NegotiationPage, Reader, Span

MOVES_PER_PAGE = 50  # the moves list shows the latest 50 dated by D; `page=2` the 50 before

FILTERS: dict[str, Callable[..., Any]] = {
    "status_label": status_label,
    "type_label": type_label,
    "split_text": split_text,
    "seats_moved_text": seats_moved_text,
    "seats_given_text": seats_given_text,
    "instant_text": instant_text,
    "web_link": web_link,  # (href, host) for http(s) only: anything else stays text
    "signed": lambda n: f"{int(n):+d}",
    "path_part": lambda text: quote(str(text), safe=""),  # a name as one segment of a path
    "seat_status": status_word,  # the report's words: a page and a report say the same
}


@dataclass(frozen=True)
class Page:
    """A template and its context, and the same facts as JSON."""

    template: str
    context: dict[str, Any]
    json: JsonDict


def slider(span: Span, as_of: Any, known_on: Any) -> dict[str, Any]:
    """What the date controls show: the span, the chosen step and the chosen dates."""
    carry = {"as_of": iso(as_of), "known_on": iso(known_on)}
    return {
        "shown": iso(as_of) or span.last.isoformat(),
        "carry": urlencode({k: v for k, v in carry.items() if v}),
        "first": span.first.isoformat(),
        "last": span.last.isoformat(),
        "days": span.days,
        "day": span.day_of(as_of),
        "as_of": iso(as_of) or "",
        "known_on": iso(known_on) or "",
    }


def overview(reader: Reader, query: Mapping[str, str]) -> Page:
    """Every negotiation on D as known on K, with the national roll-up bar."""
    known_on = params.when(query, "known_on")
    span = reader.span(known_on)
    as_of = params.as_of(query, span)
    found = reader.overview(as_of, known_on)
    colours = party_colours([*found.rollup.parties, *_parties(found.splits)], reader.colours())
    pool = sum(view.seats for view in found.splits)
    agreed = sum(found.rollup.parties.values())
    context = {
        "title": "The talks",
        "controls": slider(span, as_of, known_on),
        "splits": [_split_row(view, colours) for view in found.splits],
        "bar": rollup_bar(found.rollup.parties, pool, colours),
        "pool": pool,
        "agreed": agreed,
        "rollup": found.rollup.parties,
        "colours": colours,
    }
    return Page("overview.html", context, found.to_json())


def negotiation(reader: Reader, slug: str, query: Mapping[str, str]) -> Page:
    """One negotiation on D: chart, split, seats, positions, a page of moves, lineage."""
    known_on = params.when(query, "known_on")
    span = reader.negotiation_span(slug, known_on)  # the slider spans this negotiation's talks
    as_of = params.as_of(query, span)
    page = params.page(query)
    found = reader.negotiation(slug, as_of, known_on, page, MOVES_PER_PAGE)
    view = found.split
    title = view.title or view.region or slug
    parties = _parties([view]) + sorted({*found.positions, *_holders(found)})
    colours = party_colours(parties, reader.colours())
    controls = slider(span, as_of, known_on)
    context = {
        "title": title,
        "controls": controls,
        "view": _split_row(view, colours),
        "positions": found.positions,
        "seats": found.seats,
        "chart_id": chart_id(known_on),
        "moves": found.moves.moves,
        "pager": _pager(found.moves.number, found.moves.pages, found.moves.total, controls),
        "lineage": lineage_graph(found.lineage),
        "steps": found.lineage,
        "colours": colours,
    }
    return Page("negotiation.html", context, found.to_json())


def chart_id(known_on: Any) -> str:
    """The chart's element id: htmx keeps it as the slider moves, not when K changes."""
    return "chart-" + re.sub(r"[^0-9A-Za-z]", "-", iso(known_on) or "latest")


def chart(reader: Reader, slug: str, query: Mapping[str, str]) -> Page:
    """The seats-over-time chart of every move known on K, whatever its date."""
    known_on = params.when(query, "known_on")
    view, series = reader.chart(slug, known_on)
    # Colours by the whole story, so a party keeps its colour as the slider moves.
    colours = party_colours(
        sorted(series, key=lambda party: (-(series[party][-1].seats or 0), party)),
        reader.colours(),
    )
    title = view.title or view.region or slug
    svg = None
    if series:
        # Drawn once per story (matplotlib takes 0.1-0.7 s), then kept (graphics.seats_chart).
        label = f"Seats over time: {title}"
        svg = Markup(seats_chart(series, colours=colours, seats=view.seats, label=label))
    context = {
        "title": f"Seats over time: {title}",
        "negotiation": slug,
        "known_on": iso(known_on) or "",
        "chart_id": chart_id(known_on),
        "chart": svg,  # matplotlib's SVG; the only ledger text in it is escaped by it
    }
    points = {party: [point.to_json() for point in line] for party, line in series.items()}
    json = {"negotiation": slug, "known_on": iso(known_on), "series": points}
    return Page("chart.html", context, json)


def _holders(found: NegotiationPage) -> list[str]:
    return [seat.holder for seat in found.seats if seat.holder]


def seat(reader: Reader, slug: str, name: str, query: Mapping[str, str]) -> Page:
    """One constituency on D: its holder and status, and each change of them up to D."""
    known_on = params.when(query, "known_on")
    span = reader.negotiation_span(slug, known_on)
    as_of = params.as_of(query, span)
    found = reader.seat(slug, name, as_of, known_on)
    context = {
        "title": f"{found.constituency} ({slug})",
        "controls": slider(span, as_of, known_on),
        "seat": found,
        "negotiation": slug,
    }
    return Page("seat.html", context, found.to_json())


def _pager(number: int, pages: int, total: int, controls: Mapping[str, Any]) -> dict[str, Any]:
    """Links to the newer and older pages of moves, for the same dates."""
    base = controls["carry"]

    def link(n: int) -> str:
        return "?" + "&".join(part for part in (base, f"page={n}") if part)

    return {
        "number": number,
        "pages": pages,
        "total": total,
        "newer": link(number - 1) if number > 1 else None,
        "older": link(number + 1) if number < pages else None,
        "latest": link(1) if number > 1 else None,
        "earliest": link(pages) if number < pages else None,
        "size": MOVES_PER_PAGE,
    }


def diff(reader: Reader, query: Mapping[str, str]) -> Page:
    """What changed between two dates (default: across the whole span of the talks)."""
    known_on = params.when(query, "known_on")
    chosen = params.slug(query, "negotiation")
    span = reader.span(known_on)
    start = params.when(query, "from") or span.first
    end = params.when(query, "to") or span.last
    found = reader.diff(start, end, known_on, chosen)
    every = {*found.agreed_seats_moved}
    for change in found.negotiations:
        every.update(change.split_to, change.split_from)
    context = {
        "title": "What changed",
        "from": iso(start),
        "to": iso(end),
        "known_on": iso(known_on) or "",
        "negotiation": chosen or "",
        "choices": reader.negotiations(),
        "diff": found,
        "moves": list(found.moves),
        "corrections": list(found.corrections),
        "held": [(change, seat) for change in found.negotiations for seat in change.seats_changed],
        "colours": party_colours(sorted(every), reader.colours()),
    }
    return Page("diff.html", context, found.to_json())


def _parties(views: list[SplitView]) -> list[str]:
    seats: dict[str, int] = {}
    for view in views:
        for party, n in view.split.items():
            seats[party] = seats.get(party, 0) + n
    return sorted(seats, key=lambda party: (-seats[party], party))


def _split_row(view: SplitView, colours: Mapping[str, str]) -> dict[str, Any]:
    pool = view.seats or 1
    parts = sorted(view.split.items(), key=lambda item: (-item[1], item[0]))
    return {
        **view.to_json(),
        "title": view.title or view.region or view.negotiation,
        "parts": [
            {
                "party": p,
                "seats": n,
                "share": round(100.0 * n / pool, 2),
                "colour": colours.get(p, "#555"),
            }
            for p, n in parts
        ],
    }
