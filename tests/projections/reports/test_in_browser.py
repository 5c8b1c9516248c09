"""The HTML audit report in a real headless Chromium: it renders, charts are drawn, rows match."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from projections.api import LedgerViews
from projections.reports.chart import series_id
from projections.reports.gather import build_report, gather
from projections.reports.style import party_colours
from tests.support.example import record_example
from tests.support.report_shots import (
    CHART_WIDTH,
    QUIET,
    TIMEOUT_S,
    chart_pages,
    screenshot,
    visible_pixels,
)

pytestmark = pytest.mark.browser

# A line a reader can see: this many pixels of its colour at least, once everything but the
# lines is hidden (a line drawn exactly under another shows none).
MIN_VISIBLE_PIXELS = 40


def chromium() -> str:
    """Chromium's path, or skip (visibly) where none is installed."""
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("no `chromium` or `chromium-browser` on PATH: install Debian's chromium package")


def run_chromium(tmp_path: Path, page: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run Chromium once on `page` with a fresh profile; fail (killing it) after a minute."""
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    command = [chromium(), *QUIET, f"--user-data-dir={profile}", *args, page.as_uri()]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        out, err = process.communicate(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # Chromium's helpers share its session
        process.communicate()
        pytest.fail(f"chromium did not finish within {TIMEOUT_S} s: {' '.join(command)}")
    assert process.returncode == 0, err[-2000:]
    return subprocess.CompletedProcess(command, process.returncode, out, err)


class RenderedReport(HTMLParser):
    """What the browser's DOM holds: move rows per negotiation, and paths per chart."""

    def __init__(self) -> None:
        super().__init__()
        self.section: str | None = None
        self.rows: dict[str, int] = {}
        self.charts: dict[str, int] = {}  # drawn paths per negotiation's chart
        self.in_svg = False
        self.title = ""
        self._in_h1 = False
        self.fetching: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        classes = (found.get("class") or "").split()
        if tag == "section" and (found.get("id") or "").startswith("n-"):
            self.section = (found.get("id") or "")[2:]
            self.rows[self.section] = 0
        elif tag == "tr" and "move" in classes and self.section:
            self.rows[self.section] += 1
        elif tag == "svg" and self.section:
            self.in_svg = True
            self.charts.setdefault(self.section, 0)
        elif tag == "path" and self.in_svg and self.section and (found.get("d") or "")[:1] == "M":
            self.charts[self.section] += 1
        elif tag == "h1":
            self._in_h1 = True
        if "src" in found or (tag == "link" and "href" in found):
            self.fetching.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg":
            self.in_svg = False
        elif tag == "section":
            self.section = None
        elif tag == "h1":
            self._in_h1 = False

    def handle_data(self, data: str) -> None:
        if self._in_h1:
            self.title += data


@pytest.fixture
def report_file(sqlite_url: str, tmp_path: Path) -> tuple[str, Path]:
    """The INDIA bloc example recorded, and its all-negotiations report written to a file."""
    chromium()  # skip before any work where no browser is installed
    record_example(sqlite_url)
    page = tmp_path / "report.html"
    page.write_text(build_report(sqlite_url, None), encoding="utf-8")
    return sqlite_url, page


def test_report_renders_with_charts_and_one_row_per_move_in_chromium(
    report_file: tuple[str, Path], tmp_path: Path
) -> None:
    url, page = report_file
    dom = run_chromium(tmp_path, page, "--dump-dom").stdout
    rendered = RenderedReport()
    rendered.feed(dom)
    assert rendered.title == "Audit report: all negotiations"
    assert not rendered.fetching
    views = LedgerViews(url)
    expected = {view.negotiation: len(views.history(view.negotiation)) for view in views.splits()}
    assert rendered.rows == expected
    assert rendered.charts, "no chart in the DOM"
    # Uttar Pradesh: two parties, each a step line, plus axes, ticks and markers.
    assert rendered.charts["uttar-pradesh"] >= 6
    assert all(paths > 0 for paths in rendered.charts.values())


def test_report_screenshot_is_a_real_picture_in_chromium(
    report_file: tuple[str, Path], tmp_path: Path
) -> None:
    _, page = report_file
    shot = tmp_path / "report.png"
    run_chromium(tmp_path, page, f"--screenshot={shot}", "--window-size=1280,2000")
    assert shot.exists(), "chromium wrote no screenshot"
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 10_000


def test_each_chart_shows_one_visible_line_per_party_with_seats_in_chromium(
    report_file: tuple[str, Path], tmp_path: Path
) -> None:
    url, page = report_file
    report = page.read_text(encoding="utf-8")
    facts = gather(url, None, None, None)
    colours = party_colours(facts.parties)
    pages = chart_pages(report, tmp_path, lines_only=True)
    assert set(pages) == {talks.slug for talks in facts.negotiations if talks.series}
    for talks in facts.negotiations:
        with_seats = {p for p, points in talks.series.items() if any(x.seats for x in points)}
        svg = report[report.index(f'id="n-{talks.slug}"') :]
        svg = svg[: svg.index("</svg>")]
        # One line per party, found by its id (the page holds nothing else named so).
        assert {p: svg.count(f'<g id="{series_id(p)}">') for p in with_seats} == dict.fromkeys(
            with_seats, 1
        )
        shot = tmp_path / f"{talks.slug}.png"
        screenshot(pages[talks.slug], shot, CHART_WIDTH, 390, tmp_path / "profile")
        seen = visible_pixels(shot, {p: colours[p] for p in with_seats})
        hidden = {party: n for party, n in seen.items() if n < MIN_VISIBLE_PIXELS}
        assert not hidden, (talks.slug, seen)
