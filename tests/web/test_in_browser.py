"""`seatledger serve` as a real process, driven in Debian's Chromium: slide through the dates.

Playwright's Python package drives the system Chromium (`executable_path`); it never
downloads a browser. Each test starts the server on a free loopback port, on SQLite and on
PostgreSQL.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.projections.reports.test_in_browser import QUIET, chromium
from tests.support.example import record_example
from tests.web.test_seat_pages import seats_ledger

pytestmark = pytest.mark.browser
__all__ = ["seats_ledger"]  # the fixture, for seat_server

START_TIMEOUT_S = 30
SWAP_TIMEOUT_MS = 15_000


def free_port() -> int:
    """A port nothing listens on now (the kernel's choice)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def server(db_url: str, tmp_path: Path) -> Iterator[str]:
    """The demo ledger served by `seatledger serve` in its own process; its base URL."""
    record_example(db_url, recorded_by="analyst")
    with serving(db_url, tmp_path) as base:
        yield base


@pytest.fixture
def seat_server(seats_ledger: str, tmp_path: Path) -> Iterator[str]:
    """The seat-level talks (Bhadohi passes from SP to TMC on 15 March 2024), served."""
    with serving(seats_ledger, tmp_path) as base:
        yield base


@contextmanager
def serving(db_url: str, tmp_path: Path) -> Iterator[str]:
    """`seatledger serve` of `db_url` on a free port, stopped on leaving."""
    port = free_port()
    command = [str(Path(sys.executable).with_name("seatledger")), "serve", "--port", str(port),
               "--db", db_url]  # fmt: skip
    log = (tmp_path / "serve.log").open("w")
    process = subprocess.Popen(
        command, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path, start_new_session=True
    )
    try:
        wait_for(port, process, tmp_path / "serve.log")
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
        log.close()


def wait_for(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    """Until the server accepts connections; fail with its output if it exits or never does."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"seatledger serve exited: {log.read_text()[-2000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"seatledger serve did not listen within {START_TIMEOUT_S} s")


@pytest.fixture
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, under Playwright."""
    path = chromium()
    with sync_playwright() as driver:
        flags = [flag for flag in QUIET if flag != "--headless"]
        launched = driver.chromium.launch(executable_path=path, args=flags, headless=True)
        yield launched
        launched.close()


def step_to(page: Page, when: date) -> str:
    """The slider step of a date, counted from the date the page's form starts at."""
    start = date.fromisoformat(page.locator('input[name="start"]').input_value())
    return str((when - start).days)


def split_shown(page: Page) -> dict[str, str]:
    """Party -> seats, as the page's split table shows them."""
    rows = page.locator("#split tr[data-party]")
    return {
        str(rows.nth(i).get_attribute("data-party")): rows.nth(i).locator("td.num").inner_text()
        for i in range(rows.count())
    }


def test_moving_the_slider_shows_the_split_of_that_date_without_reloading(
    server: str, browser: Browser
) -> None:
    page = browser.new_page()
    page.goto(f"{server}/n/uttar-pradesh?as_of=2024-01-31")
    assert split_shown(page) == {"SP": "62", "INC": "11"}
    page.wait_for_selector('figure.chart svg[aria-label^="Seats over time"]',
                           timeout=SWAP_TIMEOUT_MS)  # fmt: skip
    page.evaluate("document.querySelector('figure.chart svg').dataset.kept = 'yes'")
    page.evaluate("window.notReloaded = true")
    page.locator("#day").fill(step_to(page, date(2024, 2, 10)))
    page.wait_for_selector('#view[data-as-of="2024-02-10"]', timeout=SWAP_TIMEOUT_MS)
    assert split_shown(page) == {"INC": "25"}  # Congress's counter-offer is on the table
    page.locator("#day").fill(step_to(page, date(2024, 2, 21)))
    page.wait_for_selector('#view[data-as-of="2024-02-21"]', timeout=SWAP_TIMEOUT_MS)
    assert split_shown(page) == {"SP": "63", "INC": "17"}
    assert page.locator("#status").inner_text() == "Agreed"
    assert page.locator("#as-of-label").inner_text() == "2024-02-21"
    assert page.evaluate("window.notReloaded") is True  # swapped in place by htmx
    assert "day=" in page.url  # and the address names the date, for sharing
    # The chart shows every move known on K: it stays as the date moves, not drawn again.
    assert page.evaluate("document.querySelector('figure.chart svg').dataset.kept") == "yes"


def test_overview_slider_and_known_on_control_update_the_page(
    server: str, browser: Browser
) -> None:
    page = browser.new_page()
    page.goto(f"{server}/")
    page.locator("#day").fill(step_to(page, date(2024, 2, 10)))
    page.wait_for_selector('#view[data-as-of="2024-02-10"]', timeout=SWAP_TIMEOUT_MS)
    row = page.locator('tr[data-negotiation="uttar-pradesh"]')
    assert "Negotiating" in row.inner_text() and "INC 25" in row.inner_text()
    page.locator("#known_on").fill("2024-01-01")  # before anything was recorded
    page.wait_for_selector('#view[data-known-on="2024-01-01"]', timeout=SWAP_TIMEOUT_MS)
    assert page.locator('tr[data-negotiation="uttar-pradesh"]').count() == 0


def test_slider_form_works_without_javascript(server: str, browser: Browser) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{server}/n/uttar-pradesh")
    page.locator("#day").fill(step_to(page, date(2024, 2, 10)))
    page.locator('#controls button[type="submit"]').click()
    page.wait_for_selector('#view[data-as-of="2024-02-10"]', timeout=SWAP_TIMEOUT_MS)
    assert split_shown(page) == {"INC": "25"}
    context.close()


def test_a_seat_reached_from_the_seat_table_shows_its_holder_as_the_slider_moves(
    seat_server: str, browser: Browser
) -> None:
    page = browser.new_page()
    page.goto(f"{seat_server}/n/uttar-pradesh?as_of=2024-03-01")
    page.locator("#seats a", has_text="Bhadohi").click()
    page.wait_for_selector("#seat-history", timeout=SWAP_TIMEOUT_MS)
    assert "/n/uttar-pradesh/seat/Bhadohi" in page.url
    assert page.locator("#holder").inner_text() == "Held by SP (agreed)."
    page.evaluate("window.notReloaded = true")
    page.locator("#day").fill(step_to(page, date(2024, 3, 15)))  # the slider's last day
    page.wait_for_selector('#view[data-as-of="2024-03-15"]', timeout=SWAP_TIMEOUT_MS)
    assert page.locator("#holder").inner_text() == "Held by TMC (agreed)."
    assert "up-bhadohi-to-tmc" in page.locator("#seat-history").inner_text()
    assert page.evaluate("window.notReloaded") is True
