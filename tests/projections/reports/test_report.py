"""Audit reports of the bundled INDIA bloc example, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

import pytest

from ledger.application import NegotiationLedger
from ledger.domain.errors import InputError, NotFoundError
from ledger.integrity.verifier import compute_digest
from ledger.timeline.importer import import_timeline
from ledger.timeline.parsing import read_timeline
from projections.api import LedgerViews
from projections.reports.gather import build_report
from tests.support.example import EXAMPLE

MOVE_ROW = re.compile(r'<tr id="m-[^"]+" class="move[^"]*">')


def _row(page: str, move_id: str) -> str:
    found = re.search(rf'<tr id="m-uttar-pradesh-{re.escape(move_id)}"[^>]*>(.*?)</tr>', page, re.S)
    assert found, f"no row for {move_id}"
    return found.group(1)


def test_uttar_pradesh_report_shows_sp_63_inc_17_when_agreed(example_ledger: str) -> None:
    report = json.loads(build_report(example_ledger, "uttar-pradesh", fmt="json"))
    (talks,) = report["negotiations"]
    assert talks["status"] == "agreed"
    assert talks["split"] == {"SP": 63, "INC": 17} and talks["unallocated"] == 0
    assert talks["series"]["INC"][-1]["seats"] == 17
    assert report["rollup"]["parties"]["SP"] >= 63


def test_every_format_has_one_move_per_history_row(example_ledger: str) -> None:
    history = LedgerViews(example_ledger).history("uttar-pradesh")
    page = build_report(example_ledger, "uttar-pradesh")
    assert len(MOVE_ROW.findall(page)) == len(history)
    report = json.loads(build_report(example_ledger, "uttar-pradesh", fmt="json"))
    assert [m["id"] for m in report["negotiations"][0]["history"]] == [m.id for m in history]
    markdown = build_report(example_ledger, "uttar-pradesh", fmt="markdown")
    assert f"### Moves ({len(history)})" in markdown
    moves = markdown.split(f"### Moves ({len(history)})")[1].split("## National")[0]
    assert len([line for line in moves.splitlines() if line.startswith("| 20")]) == len(history)


def test_correction_is_marked_both_ways_in_every_format(example_ledger: str) -> None:
    page = build_report(example_ledger, "uttar-pradesh")
    assert "corrected by up-sp-offer-split-corrected" in _row(page, "up-sp-offers-11")
    assert "corrects up-sp-offers-11" in _row(page, "up-sp-offer-split-corrected")
    markdown = build_report(example_ledger, "uttar-pradesh", fmt="markdown")
    assert "**corrected by** `up-sp-offer-split-corrected`" in markdown
    assert "corrects `up-sp-offers-11`" in markdown
    moves = {m["id"]: m for m in _history_json(example_ledger)}
    assert moves["up-sp-offers-11"]["corrected_by"] == ["up-sp-offer-split-corrected"]
    assert moves["up-sp-offer-split-corrected"]["corrects"] == "up-sp-offers-11"


def _history_json(url: str) -> list[dict[str, Any]]:
    report = json.loads(build_report(url, "uttar-pradesh", fmt="json"))
    history: list[dict[str, Any]] = report["negotiations"][0]["history"]
    return history


def test_report_names_the_digest_of_the_ledger_it_was_made_from(example_ledger: str) -> None:
    digest = compute_digest(example_ledger)
    for fmt in ("html", "markdown", "json"):
        text = build_report(example_ledger, None, fmt=fmt)
        assert digest.root in text and str(digest.position) in text
    report = json.loads(build_report(example_ledger, None, fmt="json"))
    assert report["digest"]["root"] == digest.root
    assert report["digest"]["position"] == digest.position


def test_html_report_fetches_nothing_when_opened(example_ledger: str) -> None:
    page = build_report(example_ledger, None)
    for fetch in ("<script", "<link", "@import", "url(http", "<img", "<iframe", "@font-face"):
        assert fetch not in page
    for href in re.findall(r'(?:href|src)="([^"]*)"', page):
        assert href.startswith(("#", "https://", "http://"))
    assert not re.search(r'\bsrc="', page)
    talks = json.loads(build_report(example_ledger, None, fmt="json"))["negotiations"]
    assert page.count("<svg") == len([n for n in talks if n["series"]]) > 0


def test_all_negotiations_report_lists_every_talks_with_status(example_ledger: str) -> None:
    report = json.loads(build_report(example_ledger, None, fmt="json"))
    statuses = {n["negotiation"]: n["status"] for n in report["negotiations"]}
    assert statuses["uttar-pradesh"] == "agreed" and statuses["west-bengal"] == "no_deal"
    assert len(statuses) == 7
    assert {n["negotiation"] for n in report["rollup"]["negotiations"]} == set(statuses)


def test_report_replays_the_offer_on_the_table_when_as_of_is_before_the_deal(
    example_ledger: str,
) -> None:
    report = json.loads(
        build_report(example_ledger, "uttar-pradesh", as_of=date(2024, 2, 10), fmt="json")
    )
    (talks,) = report["negotiations"]
    assert report["as_of"] == "2024-02-10"
    assert talks["status"] == "negotiating" and talks["by"] == "INC"
    assert all(m["on"] <= "2024-02-10" for m in talks["history"])


def test_report_shows_the_offer_as_first_recorded_when_known_before_the_correction(
    db_url: str,
) -> None:
    ledger = NegotiationLedger(db_url, recorded_by="analyst")
    timeline = read_timeline(EXAMPLE)
    before = timeline.model_copy(
        update={"moves": [m for m in timeline.moves if m.id != "up-sp-offer-split-corrected"]}
    )
    import_timeline(ledger, before)
    known_on = LedgerViews(db_url).history("uttar-pradesh")[-1].recorded_at
    import_timeline(ledger, timeline)
    report = json.loads(
        build_report(db_url, "uttar-pradesh", date(2024, 1, 30), known_on, fmt="json")
    )
    (talks,) = report["negotiations"]
    assert talks["split"] == {"SP": 69, "INC": 11}
    assert "corrected_by" not in {k for m in talks["history"] for k in m}


def test_report_is_refused_when_the_format_is_unknown(example_ledger: str) -> None:
    with pytest.raises(InputError, match="pdf"):
        build_report(example_ledger, None, fmt="pdf")  # type: ignore[arg-type]


def test_report_is_refused_when_the_negotiation_is_unknown(example_ledger: str) -> None:
    with pytest.raises(NotFoundError, match="kerala"):
        build_report(example_ledger, "kerala")
