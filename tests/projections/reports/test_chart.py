"""The report's charts as a reader sees them: one line per party, honest ends, axis, colours."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from ledger.application import NegotiationLedger
from ledger.timeline.export import export_timeline
from ledger.timeline.importer import import_timeline
from ledger.timeline.parsing import parse_timeline
from projections.reports.chart import Mark, chart_svg, series_id
from projections.reports.gather import build_report, gather
from projections.reports.model import Point, ReportFacts
from projections.reports.style import party_colours
from tests.support.example import EXAMPLE, record_example


@pytest.fixture(scope="module")
def bundled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, ReportFacts]]:
    """The INDIA bloc example recorded once (SQLite), and every negotiation's report facts."""
    url = f"sqlite:///{tmp_path_factory.mktemp('chart') / 'ledger.db'}"
    record_example(url)
    yield url, gather(url, None, None, None)


def _svg_of(page: str, slug: str) -> str:
    start = page.index(f'id="n-{slug}"')
    return page[page.index("<svg", start) : page.index("</svg>", start)]


def _ticks(svg: str) -> list[str]:
    axis = svg[svg.index('id="matplotlib.axis_1"') : svg.index('id="matplotlib.axis_2"')]
    return re.findall(r"<text[^>]*>([^<]*)</text>", axis)[:-1]  # the last is the axis label


def test_jdu_line_ends_when_it_left_the_alliance(bundled: tuple[str, ReportFacts]) -> None:
    bihar = next(n for n in bundled[1].negotiations if n.slug == "bihar")
    last = bihar.series["JDU"][-1]
    assert (last.on, last.seats) == ("2024-01-28", None)


def test_chart_series_follow_the_split_view_on_every_move_date(
    bundled: tuple[str, ReportFacts],
) -> None:
    from projections.api import LedgerViews

    url, facts = bundled
    views = LedgerViews(url)
    for talks in facts.negotiations:
        for party, points in talks.series.items():
            for point in points:
                split = views.split(talks.slug, date.fromisoformat(point.on)).split
                if point.seats is not None:  # None: out of the split, or away from the table
                    assert split.get(party) == point.seats, (talks.slug, party, point)


def test_every_party_with_seats_has_one_line_of_its_own_colour(
    bundled: tuple[str, ReportFacts],
) -> None:
    url, facts = bundled
    page = build_report(url, None)
    colours = party_colours(facts.parties)
    for talks in facts.negotiations:
        svg = _svg_of(page, talks.slug)
        with_seats = {p for p, pts in talks.series.items() if any(x.seats for x in pts)}
        drawn = dict(re.findall(r'<g id="series-([^"]+)">\s*<path d="([^"]+)"', svg))
        assert set(drawn) >= with_seats, talks.slug
        # No two lines share a path: equal shares are drawn side by side, not on top.
        assert len(set(drawn.values())) == len(drawn), talks.slug
        for party in with_seats:
            group = svg[svg.index(f'<g id="{series_id(party)}">') :]
            assert f"stroke: {colours[party].lower()}" in group[: group.index("</g>")]


def test_equal_shares_are_drawn_apart_with_a_label_each() -> None:
    series = {
        "SP": [Point("2024-01-01", 38, "m1", "proposal", "SP")],
        "BSP": [Point("2024-01-01", 38, "m1", "proposal", "SP")],
    }
    svg = chart_svg(series, colours=party_colours(series), seats=80, span=("2024-01-01", None))
    paths = dict(re.findall(r'<g id="series-([^"]+)">\s*<path d="([^"]+)"', svg))
    assert paths["SP"] != paths["BSP"]
    assert ">SP 38<" in svg and ">BSP 38<" in svg


def test_axis_ticks_are_unique_and_reach_the_end_of_the_talks(
    bundled: tuple[str, ReportFacts],
) -> None:
    url, _ = bundled
    page = build_report(url, "west-bengal")
    ticks = _ticks(_svg_of(page, "west-bengal"))
    assert len(ticks) >= 3 and len(set(ticks)) == len(ticks), ticks
    assert ticks[-1] in ("22 Jan 2024", "Jan 2024", "24 Jan 2024"), ticks
    assert "talks ended" in page


def test_close_agreed_and_amended_labels_stand_on_different_rows() -> None:
    series = {"RJD": [Point("2024-01-01", 26, "m1", "proposal", "RJD")]}
    marks = [Mark("2024-03-29", "agreed"), Mark("2024-03-30", "amended")]
    svg = chart_svg(
        series, colours={"RJD": "#000000"}, seats=40, span=("2024-01-01", "2024-04-05"), marks=marks
    )
    rows = {}
    for word in ("agreed", "amended"):
        at = svg.index(f">{word}<")
        tag = svg[svg.rindex("<text", 0, at) : at]
        found = re.search(r' y="([\d.]+)"', tag)
        assert found is not None
        rows[word] = float(found.group(1))
    assert abs(rows["agreed"] - rows["amended"]) > 5


def test_a_party_keeps_its_colour_whatever_else_the_report_holds() -> None:
    alone = party_colours(["KMDK"])
    among = party_colours(["INC", "SP", "DMK", "KMDK", "VCK"])
    assert alone["KMDK"] == among["KMDK"]
    assert party_colours(["INC"])["INC"] == among["INC"]
    assert len(set(among.values())) == len(among)


def test_colour_from_the_timeline_file_is_used_in_every_report(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        "{code: INC, name: Indian National Congress}",
        '{code: INC, name: Indian National Congress, colour: "#ab12cd"}',
    )
    import_timeline(NegotiationLedger(url, recorded_by="analyst"), parse_timeline(text))
    assert NegotiationLedger(url).roster().colours == {"INC": "#AB12CD"}
    exported = export_timeline(NegotiationLedger(url))
    assert {"code": "INC", "name": "Indian National Congress", "colour": "#AB12CD"} in exported[
        "parties"
    ]
    for slug in ("uttar-pradesh", "bihar"):
        assert "stroke: #ab12cd" in build_report(url, slug)


@pytest.mark.parametrize("fmt", ["html", "markdown", "json"])
@pytest.mark.parametrize("on", ["0001-01-01", "9999-12-31"])
def test_report_renders_when_moves_are_dated_at_the_edges_of_time(
    tmp_path: Path, fmt: str, on: str
) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    timeline = parse_timeline(
        "format: seatledger/timeline@1\nparties: [{code: INC}, {code: SP}]\n"
        f"negotiations: [{{id: far, seats: 10, parties: [INC, SP], opened_on: {on}}}]\n"
        f"moves: [{{negotiation: far, type: proposal, on: {on}, by: INC, "
        "split: {INC: 6, SP: 4}}]\n"
    )
    import_timeline(NegotiationLedger(url, recorded_by="analyst"), timeline)
    text = build_report(url, "far", fmt=fmt)  # type: ignore[arg-type]
    assert "INC" in text
    if fmt == "html":
        assert f'<g id="{series_id("INC")}">' in text


def test_line_ends_on_the_day_a_party_leaves_the_alliance_though_an_offer_still_names_it(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    timeline = parse_timeline(
        "format: seatledger/timeline@1\n"
        "alliance: {id: bloc, members: [INC, SP, RLD], formed_on: 2024-01-01}\n"
        "parties: [{code: INC}, {code: SP}, {code: RLD}]\n"
        "negotiations: [{id: up, seats: 80, parties: [INC, SP, RLD], opened_on: 2024-01-09}]\n"
        "moves:\n"
        "  - {negotiation: up, type: proposal, on: 2024-01-10, by: SP,"
        " split: {SP: 60, INC: 15, RLD: 5}}\n"
        "  - {type: party_left_alliance, on: 2024-02-03, party: RLD}\n"
        "  - {negotiation: up, type: note, on: 2024-03-01, note: quiet talks}\n"
    )
    import_timeline(NegotiationLedger(url, recorded_by="analyst"), timeline)
    (talks,) = gather(url, "up", None, None).negotiations
    assert [(p.on, p.seats) for p in talks.series["RLD"]] == [
        ("2024-01-10", 5),
        ("2024-02-03", None),
    ]
