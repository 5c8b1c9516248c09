"""The seats-over-time chart: one step line per party, drawn by matplotlib as inline SVG.

What a reader must be able to trust: every party with seats has its own visible line (equal
shares are drawn side by side, each with its own marker and a label at its end), a line ends
where the party drops out of the split, the date axis has unique ticks spanning the whole
talks, and no two labels print over each other.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from projections.reports.model import Point, instant
from projections.reports.style import party_colours, party_marker

__all__ = ["Mark", "chart_svg", "party_colours", "series_id"]

INK = "#1F2933"
MUTED = "#6B7785"
GRID = "#E4E7EB"
# The whole documented range of dates: an axis is clipped to it rather than overflow.
FIRST_INSTANT = datetime(1, 1, 1, tzinfo=UTC)
LAST_INSTANT = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
MIN_SPAN = timedelta(days=7)  # shorter axes would tick by the hour and repeat the day's label
OFFSET_PT = 2.8  # lines with equal seats over the same dates are drawn this far apart
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class Mark:
    """A dated event drawn as a dashed vertical line with a word: agreed, amended, ended."""

    on: str
    word: str


def series_id(party: str) -> str:
    """The SVG id of a party's line (tests and readers' tools find the line by it)."""
    return f"series-{party}"


def chart_svg(
    series: Mapping[str, Sequence[Point]],
    *,
    colours: Mapping[str, str],
    seats: int,
    span: tuple[str, str | None] = ("", None),
    marks: Sequence[Mark] = (),
    until: str | None = None,
    salt: str = "chart",
    label: str = "Seats over time",
) -> str:
    """Each party's seats as a step line over valid time; an `<svg>` element as text.

    `span` is the first and last date of the talks' moves: the axis covers both (default:
    the series' own dates).
    """
    # Imported here: matplotlib takes a second to import and most commands never draw.
    from matplotlib import rc_context
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    first, end = _axis_span(series, span, until)
    top = max((p.seats or 0 for pts in series.values() for p in pts), default=0)
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
        figure = Figure(figsize=(9.2, 3.4), layout="constrained")
        FigureCanvasAgg(figure)
        axes = figure.add_subplot()
        _style(axes, seats, top, first, end)
        ends = _draw(axes, figure, series, colours, end)
        words = _mark(axes, marks, first, end)
        figure.draw_without_rendering()  # lay out once, so labels can be measured
        _spread_vertically(figure, ends)
        _spread_in_rows(figure, words)
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    return _inline(buffer.getvalue(), label)


def _axis_span(
    series: Mapping[str, Sequence[Point]], span: tuple[str, str | None], until: str | None
) -> tuple[datetime, datetime]:
    """The axis from the talks' first move to their last (or the report's date), clipped."""
    dates = [instant(p.on) for pts in series.values() for p in pts]
    dates += [instant(on) for on in span if on]
    first, last = min(dates), max(dates)
    end = last
    if until:  # a bare date covers its whole day
        end = max(end, _shift(instant(until), timedelta(days=1 if len(until) == 10 else 0)))
    end = max(end, _shift(last, max(timedelta(days=1), (last - first) * 0.04)))
    end = max(end, _shift(first, MIN_SPAN))
    # At the end of time the span is made up on the left instead.
    return min(first, _shift(end, -MIN_SPAN)), end


def _shift(when: datetime, by: timedelta) -> datetime:
    """`when + by`, clipped to the dates Python (and the ledger) can hold."""
    try:
        return min(max(when + by, FIRST_INSTANT), LAST_INSTANT)
    except OverflowError:
        return LAST_INSTANT if by > timedelta() else FIRST_INSTANT


Step = tuple[datetime, datetime, int]  # from, to, seats


def _draw(
    axes: Any,
    figure: Any,
    series: Mapping[str, Sequence[Point]],
    colours: Mapping[str, str],
    end: datetime,
) -> list[Any]:
    """One step line per party (broken where it is out of the split); its end labels.

    A stretch that shares its value and dates with a stretch drawn before is moved to the
    next free lane (a few points up or down), only there: elsewhere the line sits on its value.
    """
    figure.draw_without_rendering()  # the axes' size, to turn points into seats
    low, high = axes.get_ylim()
    seats_per_point = (high - low) / (axes.bbox.height * 72 / figure.dpi)
    taken: dict[int, list[tuple[datetime, datetime, int]]] = {}  # by seats: (from, to, lane)
    labels = []
    for party in sorted(series, key=lambda p: (-(_last_seats(series[p]) or 0), p)):
        steps = _steps(sorted(series[party], key=lambda p: instant(p.on)), end)
        if not steps:
            continue
        lanes = [_free_lane(step, taken.get(step[2], ())) for step in steps]
        for (x0, x1, y), lane in zip(steps, lanes, strict=True):
            taken.setdefault(y, []).append((x0, x1, lane))
        # Lanes alternate above and below the true value: 0, +1, -1, +2, …
        shifts = [OFFSET_PT * ((lane + 1) // 2) * (1 if lane % 2 else -1) for lane in lanes]
        drawn = [(x0, x1, y + shift * seats_per_point) for (x0, x1, y), shift in zip(
            steps, shifts, strict=True)]  # fmt: skip
        xs, ys = _with_gaps(drawn)
        colour = colours.get(party, INK)
        (line,) = axes.plot(
            xs, ys, color=colour, linewidth=2.2, solid_joinstyle="miter",
            linestyle=(0, (4, 1.5)) if any(lanes) else "-",
        )  # fmt: skip
        line.set_gid(series_id(party))
        axes.plot(
            [x0 for x0, _, _ in drawn], [y for _, _, y in drawn], linestyle="none",
            marker=party_marker(party), color=colour, markersize=5.5, markeredgecolor="white",
            markeredgewidth=0.8,
        )  # fmt: skip
        starts = {x0 for x0, _, _ in drawn}
        stops = [(x1, y) for _, x1, y in drawn if x1 < end and x1 not in starts]
        if stops:  # it dropped out of the split: show where its line ends
            axes.plot([x for x, _ in stops], [y for _, y in stops], linestyle="none",
                      marker="|", color=colour, markersize=9)  # fmt: skip
        labels.append(
            axes.annotate(
                f"{party} {steps[-1][2]}",
                drawn[-1][1:],
                xytext=(5, 0),
                textcoords="offset points",
                va="center",
                fontsize=8.5,
                color=colour,
                fontweight="bold",
                annotation_clip=False,
            )
        )
    return labels


def _last_seats(points: Sequence[Point]) -> int | None:
    return max(points, key=lambda p: instant(p.on)).seats if points else None


def _steps(points: Sequence[Point], end: datetime) -> list[Step]:
    """(from, to, seats) for each stretch the party holds seats in the split."""
    steps = []
    for point, following in zip(points, [*points[1:], None], strict=True):
        if point.seats is None:
            continue
        stop = instant(following.on) if following is not None else end
        steps.append((instant(point.on), min(stop, end), point.seats))
    return steps


def _with_gaps(steps: Sequence[tuple[datetime, datetime, float]]) -> tuple[list[Any], list[float]]:
    """Step vertices; a NaN between stretches that do not touch, so the line breaks there."""
    xs: list[Any] = []
    ys: list[float] = []
    for i, (start, stop, y) in enumerate(steps):
        if i and steps[i - 1][1] < start:
            xs.append(start)
            ys.append(float("nan"))
        xs += [start, stop]
        ys += [y, y]
    return xs, ys


def _free_lane(step: Step, same_value: Sequence[tuple[datetime, datetime, int]]) -> int:
    """The first lane where no stretch drawn before at this value (`same_value`: those
    stretches, with their lanes) covers the same dates."""
    # Only stretches of the same value are looked at: scanning every stretch drawn before
    # made a 2,000-move talks' chart quadratic: 8 parties x 2,000 stretches, 2.5 s -> 0.11 s.
    start, stop, _ = step
    busy = {lane for a0, a1, lane in same_value if a0 < stop and start < a1}
    return next(lane for lane in range(len(same_value) + 1) if lane not in busy)


def _mark(axes: Any, marks: Sequence[Mark], first: datetime, end: datetime) -> list[Any]:
    """A dashed line and a word for each agreement, amendment and end of talks."""
    words = []
    for mark in marks:
        when = instant(mark.on)
        if not first <= when <= end:
            continue
        axes.axvline(when, color=MUTED, linestyle=(0, (2, 3)), linewidth=1, zorder=0)
        words.append(
            axes.annotate(
                mark.word,
                (when, 1),
                xycoords=("data", "axes fraction"),
                xytext=(3, -2),
                textcoords="offset points",
                va="top",
                fontsize=8.5,
                color=MUTED,
            )
        )
    return words


def _spread_vertically(figure: Any, labels: Sequence[Any]) -> None:
    """Push end labels apart upwards until no two overlap (their order is kept)."""
    renderer = figure.canvas.get_renderer()
    boxes = sorted(((t.get_window_extent(renderer), t) for t in labels), key=lambda b: b[0].y0)
    placed: list[Any] = []
    for box, text in boxes:
        lift = 0.0
        for other in placed:
            overlaps_x = box.x0 < other.x1 and other.x0 < box.x1
            if overlaps_x and box.y0 + lift < other.y1 + 1:
                lift = other.y1 + 1 - box.y0
        if lift:
            dx, dy = text.xyann
            text.xyann = (dx, dy + lift * 72 / figure.dpi)
            box = box.translated(0, lift)
        placed.append(box)


def _spread_in_rows(figure: Any, words: Sequence[Any]) -> None:
    """Move a word down a row when it would print over the word before it."""
    renderer = figure.canvas.get_renderer()
    rows: list[float] = []  # the right edge of the last word in each row
    for box, text in sorted(((t.get_window_extent(renderer), t) for t in words), key=_x0):
        row = next((i for i, right in enumerate(rows) if right + 3 < box.x0), len(rows))
        if row == len(rows):
            rows.append(box.x1)
        rows[row] = box.x1
        dx, dy = text.xyann
        text.xyann = (dx, dy - row * (box.height * 72 / figure.dpi + 1))


def _x0(item: tuple[Any, Any]) -> float:
    return float(item[0].x0)


def _style(axes: Any, seats: int, top: int, first: datetime, end: datetime) -> None:
    left = _shift(first, -(end - first) * 0.02)
    axes.set_xlim(left, end)
    ticks, words = _ticks(left, end)
    axes.set_xticks(ticks, words)
    one_year = left.year == end.year  # then the year is said once, in the axis label
    axes.set_xlabel(f"date of the move ({end.year})" if one_year else "date of the move")
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


def _ticks(left: datetime, end: datetime) -> tuple[list[datetime], list[str]]:
    """Day-or-coarser ticks inside the axis, each with a label no other tick has."""
    import matplotlib.dates

    mdates: Any = matplotlib.dates  # its locator constructors are unannotated
    locator = mdates.AutoDateLocator(minticks=3, maxticks=8, tz=UTC)
    found = mdates.num2date(locator.tick_values(left, end), tz=UTC)
    days = {t.date(): t for t in reversed(found) if left <= t <= end}  # one tick a day at most
    ticks = sorted(days.values())
    years = {t.year for t in ticks} | {left.year, end.year}
    if all(t.month == 1 and t.day == 1 for t in ticks) and len(ticks) > 1:
        words = [str(t.year) for t in ticks]
    elif all(t.day == 1 for t in ticks) and len(ticks) > 1:
        words = [MONTHS[t.month - 1] + (f" {t.year}" if len(years) > 1 else "") for t in ticks]
    else:
        words = [
            f"{t.day} {MONTHS[t.month - 1]}" + (f" {t.year}" if len(years) > 1 else "")
            for t in ticks
        ]
    if len(set(words)) < len(words):  # never two ticks alike: fall back to full dates
        words = [f"{t.year:04d}-{t.month:02d}-{t.day:02d}" for t in ticks]
    return ticks, words


_PROLOGUE = re.compile(r"^.*?(?=<svg)", re.S)
_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.S)
_SIZE = re.compile(r'<svg([^>]*?) width="[^"]*" height="[^"]*"')


def _inline(svg: str, label: str) -> str:
    """Drop the XML prologue, DOCTYPE and metadata; let CSS size it; label it for readers."""
    from html import escape

    svg = _METADATA.sub("", _PROLOGUE.sub("", svg, count=1))
    svg = _SIZE.sub(r"<svg\1", svg, count=1)
    return svg.replace("<svg", f'<svg role="img" aria-label="{escape(label)}"', 1)
