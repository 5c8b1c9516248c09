"""Charts of the bundled report as Chromium draws them: pages, screenshots, visible lines.

Also regenerates the screenshots under docs/:
`python -m tests.support.report_shots docs/screenshots`.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "india-bloc-2024.yaml"
TIMEOUT_S = 60
# The machine may have no network: keep Chromium from trying to reach it.
QUIET = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)
CHART_WIDTH = 1000
# Only the party lines stay visible: what is left on screen is what a reader can tell apart.
# (A clip path's shapes must stay visible, or they clip everything away.)
LINES_ONLY = (
    'svg { visibility: hidden } svg g[id^="series-"], svg clipPath * { visibility: visible }'
)
_SECTION = re.compile(r'<section class="negotiation" id="n-([^"]+)".*?(<svg.*?</svg>)', re.S)


def chromium() -> str | None:
    """Chromium's path, if one is installed."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def screenshot(page: Path, png: Path, width: int, height: int, profile: Path) -> None:
    """Chromium's screenshot of `page`; raise if it fails or takes over a minute."""
    browser = chromium()
    if browser is None:
        raise RuntimeError("no chromium on PATH")
    command = [
        browser, *QUIET, f"--user-data-dir={profile}", f"--screenshot={png}",
        f"--window-size={width},{height}", page.as_uri(),
    ]  # fmt: skip
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    )
    try:
        _, err = process.communicate(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # Chromium's helpers share its session
        process.communicate()
        raise RuntimeError(f"chromium did not finish within {TIMEOUT_S} s") from None
    if process.returncode != 0 or not png.exists():
        raise RuntimeError(f"chromium failed: {err[-1000:]!r}")


def chart_pages(report: str, folder: Path, *, lines_only: bool = False) -> dict[str, Path]:
    """One page per negotiation's chart, cut from the report (with its styles)."""
    style = report[report.index("<style>") : report.index("</style>") + len("</style>")]
    extra = f"<style>{LINES_ONLY}</style>" if lines_only else ""
    pages = {}
    for found in _SECTION.finditer(report):
        slug, svg = found.group(1), found.group(2)
        page = folder / f"{slug}{'-lines' if lines_only else ''}.html"
        page.write_text(
            f'<!DOCTYPE html><html><head><meta charset="utf-8">{style}{extra}</head>'
            f'<body style="margin:0;width:{CHART_WIDTH}px"><figure class="chart">{svg}</figure>'
            "</body></html>",
            encoding="utf-8",
        )
        pages[slug] = page
    return pages


def visible_pixels(png: Path, colours: Mapping[str, str], tolerance: int = 24) -> dict[str, int]:
    """How many pixels of the screenshot show each party's colour."""
    from matplotlib.image import imread

    image = (imread(png)[..., :3] * 255).astype(int)
    counts = {}
    for party, colour in colours.items():
        rgb = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
        close = abs(image - rgb).max(axis=-1) <= tolerance
        counts[party] = int(close.sum())
    return counts


def main(folder: Path) -> None:
    """Record the example, write its report and screenshots of the page and its charts."""
    from ledger.application import NegotiationLedger
    from ledger.timeline.importer import import_timeline
    from ledger.timeline.parsing import read_timeline
    from projections.reports.gather import build_report

    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        url = f"sqlite:///{work / 'ledger.db'}"
        import_timeline(NegotiationLedger(url, recorded_by="analyst"), read_timeline(EXAMPLE))
        report = build_report(url, None)
        page = work / "report.html"
        page.write_text(report, encoding="utf-8")
        screenshot(page, folder / "report.png", 1280, 1500, work / "profile")
        for slug, chart in chart_pages(report, work).items():
            screenshot(chart, folder / f"chart-{slug}.png", CHART_WIDTH, 390, work / "profile")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots"))
