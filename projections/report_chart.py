"""The seats-over-time chart: one step line per party, drawn by matplotlib as inline SVG."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from projections.report_model import Point, instant

# Distinct on white and for the common colour-vision deficiencies (Okabe-Ito first).
PALETTE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#D55E00",
    "#CC79A7",
    "#56B4E9",
    "#7A5195",
    "#8C564B",
    "#4D4D4D",
    "#BCBD22",
    "#17BECF",
    "#B2182B",
    "#2E7D32",
    "#5C6BC0",
)
INK = "#1F2933"
MUTED = "#6B7785"
GRID = "#E4E7EB"


def party_colours(parties: Iterable[str]) -> dict[str, str]:
    """One colour per party, in the order given, the same in every chart and table of a report."""
    return {party: PALETTE[i % len(PALETTE)] for i, party in enumerate(dict.fromkeys(parties))}


def chart_svg(
    series: Mapping[str, Sequence[Point]],
    *,
    colours: Mapping[str, str],
    seats: int,
    start: str | None = None,
    until: str | None = None,
    salt: str = "chart",
    label: str = "Seats over time",
) -> str:
    """Each party's seats as a step line over valid time; an `<svg>` element as text."""
    # Imported here: matplotlib takes a second to import and most commands never draw.
    from matplotlib import rc_context
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    points = [p for pts in series.values() for p in pts]
    first = min([instant(p.on) for p in points] + ([instant(start)] if start else []))
    last = max(instant(p.on) for p in points)
    end = last
    if until:  # a bare date covers its whole day
        end = instant(until) + (timedelta(days=1) if len(until) == 10 else timedelta())
    end = max(end, last + max(timedelta(days=2), (last - first) * 0.06))
    # Text stays text (small, selectable); matplotlib's own font list ends in sans-serif.
    style = {
        "svg.fonttype": "none",
        "svg.hashsalt": salt,
        "font.size": 10,
        "text.color": INK,
        "axes.labelcolor": MUTED,
        "xtick.color": MUTED,
        "ytick.color": MUTED,
    }
    with rc_context(style):  # type: ignore[arg-type]  # the stubs want literal keys
        figure = Figure(figsize=(9.2, 3.3), layout="constrained")
        FigureCanvasAgg(figure)
        axes = figure.add_subplot()
        _draw(axes, series, colours, end)
        _mark_agreements(axes, points)
        _style(axes, seats, max(p.seats for p in points), first, end)
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    return _inline(buffer.getvalue(), label)


def _draw(
    axes: Any, series: Mapping[str, Sequence[Point]], colours: Mapping[str, str], end: datetime
) -> None:
    deals = _deals(series)
    for party in sorted(series, key=lambda p: (-series[p][-1].seats, p)):
        pts = sorted(series[party], key=lambda p: instant(p.on))
        xs = [instant(p.on) for p in pts]
        ys = [p.seats for p in pts]
        # A party's step holds until the next split that names it, but not past an
        # agreement or amendment that leaves it out: that deal gave it nothing.
        stop = next(
            (
                when
                for when, move, named in deals
                if when >= xs[-1] and move != pts[-1].move and party not in named
            ),
            end,
        )
        label = f"{party} ({ys[-1]})" if stop == end else f"{party} (not in the deal)"
        colour = colours.get(party, INK)
        axes.step(
            [*xs, stop],
            [*ys, ys[-1]],
            where="post",
            color=colour,
            linewidth=2.2,
            label=label,
            solid_joinstyle="miter",
        )
        axes.plot(
            xs, ys, "o", color=colour, markersize=5, markeredgecolor="white", markeredgewidth=1
        )
        if stop != end:
            axes.plot([stop], [ys[-1]], marker="|", color=colour, markersize=8)


def _deals(series: Mapping[str, Sequence[Point]]) -> list[tuple[datetime, str, set[str]]]:
    """Each agreement and amendment in time order: (date, move id, parties it names)."""
    named: dict[str, tuple[datetime, set[str]]] = {}
    for party, points in series.items():
        for point in points:
            if point.type in ("agreement", "amendment"):
                named.setdefault(point.move, (instant(point.on), set()))[1].add(party)
    return sorted((when, move, parties) for move, (when, parties) in named.items())


def _mark_agreements(axes: Any, points: Sequence[Point]) -> None:
    seen: set[tuple[str, str]] = set()
    for point in points:
        key = (point.on, point.type)
        if point.type not in ("agreement", "amendment") or key in seen:
            continue
        seen.add(key)
        when = instant(point.on)
        axes.axvline(when, color=MUTED, linestyle=(0, (2, 3)), linewidth=1, zorder=0)
        word = "agreed" if point.type == "agreement" else "amended"
        axes.annotate(
            word,
            (when, 1),
            xycoords=("data", "axes fraction"),
            xytext=(3, -2),
            textcoords="offset points",
            va="top",
            fontsize=8.5,
            color=MUTED,
        )


def _style(axes: Any, seats: int, top: int, first: datetime, end: datetime) -> None:
    import matplotlib.dates

    mdates: Any = matplotlib.dates  # its locator and formatter constructors are unannotated

    locator = mdates.AutoDateLocator(minticks=3, maxticks=9, tz=UTC)
    axes.xaxis.set_major_locator(locator)
    one_year = first.year == end.year
    axes.xaxis.set_major_formatter(
        mdates.DateFormatter("%d %b" if one_year else "%d %b %Y", tz=UTC)
    )
    axes.set_xlabel(f"date of the move ({first.year})" if one_year else "date of the move")
    axes.set_xlim(first - (end - first) * 0.02, end)
    ceiling = max(seats, top)
    axes.set_ylim(0, ceiling * 1.08 if ceiling else 1)
    if seats:
        axes.axhline(seats, color=GRID, linewidth=1.2, zorder=0)
        axes.annotate(
            f"{seats} seats in the pool",
            (0, seats),
            xycoords=("axes fraction", "data"),
            xytext=(4, 3),
            textcoords="offset points",
            fontsize=8.5,
            color=MUTED,
        )
    axes.set_ylabel("seats")
    axes.grid(axis="y", color=GRID, linewidth=0.8)
    axes.set_axisbelow(True)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        axes.spines[side].set_color("#9AA5B1")
    axes.tick_params(length=3)
    axes.legend(
        loc="center left",
        bbox_to_anchor=(1.01, 0.5),
        frameon=False,
        title="party",
        title_fontsize=9,
        alignment="left",
    )


_PROLOGUE = re.compile(r"^.*?(?=<svg)", re.S)
_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.S)
_SIZE = re.compile(r'<svg([^>]*?) width="[^"]*" height="[^"]*"')


def _inline(svg: str, label: str) -> str:
    """Drop the XML prologue, DOCTYPE and metadata; let CSS size it; label it for readers."""
    from html import escape

    svg = _METADATA.sub("", _PROLOGUE.sub("", svg, count=1))
    svg = _SIZE.sub(r"<svg\1", svg, count=1)
    return svg.replace("<svg", f'<svg role="img" aria-label="{escape(label)}"', 1)
