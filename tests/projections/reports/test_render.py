"""Rendering audit reports from facts already gathered: escaping, links, corrections, chart."""

from __future__ import annotations

import json
import re
from typing import Any

from projections.reports.model import NegotiationReport, ReportFacts, chart_series
from projections.reports.render import render

HOSTILE = '<script>alert("x")</script> & "quotes"'


def _move(move_id: str, kind: str, on: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": move_id,
        "type": kind,
        "on": on,
        "recorded_at": "2024-05-01T10:00:00.123456+00:00",
        "recorded_by": "analyst",
        "by": None,
        "split": None,
        "source": None,
        "note": None,
        "confidence": "confirmed",
        "negotiation": "uttar-pradesh",
        "seats_moved": None,
        **fields,
    }


# The split view on each date of the fixture's moves, as `split --as-of` answers it.
UP_TABLE = {
    "2024-01-09": {},
    "2024-01-27": {"SP": 62, "INC": 11},
    "2024-02-06": {"INC": 25},
    "2024-02-19": {"SP": 63, "INC": 17},
    "2024-02-21": {"SP": 63, "INC": 17},
}


def split_on(on: str) -> dict[str, Any]:
    """The fixture's split view at the end of a date."""
    return {"split": UP_TABLE[on], "by": None}


def uttar_pradesh_facts(note: str = "SP offers Congress 11 seats") -> ReportFacts:
    """Uttar Pradesh once agreed (SP 63, INC 17); SP's first offer of 69 corrected to 62."""
    history = [
        _move("uttar-pradesh/opened", "opened", "2024-01-09"),
        _move(
            "up-sp-offers-11",
            "proposal",
            "2024-01-27",
            by="SP",
            split={"SP": 69, "INC": 11},
            seats_moved={"SP": 69, "INC": 11},
            source="https://example.org/sp-offer?a=1&b=2",
            note=note,
            corrected_by=["up-fix"],
        ),
        _move(
            "up-fix",
            "correction",
            "2024-01-27",
            split={"SP": 62, "INC": 11},
            seats_moved={"SP": -7},
            source="javascript:alert(1)",
            corrects="up-sp-offers-11",
            retract=False,
        ),
        _move(
            "up-inc-25",
            "counter_offer",
            "2024-02-06",
            by="INC",
            split={"INC": 25},
            confidence="reported",
            seats_moved={"INC": 14, "SP": -62},
        ),
        _move("up-sp-17", "counter_offer", "2024-02-19", by="SP", split={"SP": 63, "INC": 17}),
        _move("up-agreement", "agreement", "2024-02-21", split={"SP": 63, "INC": 17}),
    ]
    view = {
        "negotiation": "uttar-pradesh",
        "region": "Uttar Pradesh",
        "seats": 80,
        "as_of": "2024-03-01",
        "known_on": None,
        "status": "agreed",
        "split": {"SP": 63, "INC": 17},
        "unallocated": 0,
        "by": None,
        "named": {},
        "settled": {},
    }
    part = NegotiationReport(
        view, "Uttar Pradesh seat sharing", history, chart_series(history, split_on)
    )
    return ReportFacts(
        scope="uttar-pradesh",
        as_of="2024-03-01",
        known_on=None,
        digest={
            "root": "ab" * 32,
            "position": 57,
            "events": 57,
            "created_at": "2024-05-02T09:00:00+00:00",
        },
        negotiations=[part],
        rollup={"as_of": "2024-03-01", "known_on": None, "parties": {"SP": 63, "INC": 17}},
    )


def test_note_with_a_script_tag_is_shown_as_text_when_rendered_to_html() -> None:
    page = render(uttar_pradesh_facts(note=HOSTILE), "html")
    assert "<script" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &quot;quotes&quot;" in page


def test_note_with_a_script_tag_is_inert_when_rendered_to_markdown() -> None:
    text = render(uttar_pradesh_facts(note=HOSTILE), "markdown")
    assert "<script" not in text
    assert "&lt;script&gt;" in text


def test_only_http_sources_become_links_when_rendered() -> None:
    page = render(uttar_pradesh_facts(), "html")
    hrefs = re.findall(r'<a [^>]*href="([^"]*)"', page)
    external = [h for h in hrefs if not h.startswith("#")]
    assert external == ["https://example.org/sp-offer?a=1&amp;b=2"]
    assert "javascript:alert(1)" in page  # shown, as text
    assert 'href="javascript' not in page
    markdown = render(uttar_pradesh_facts(), "markdown")
    assert "[example.org](https://example.org/sp-offer?a=1&b=2)" in markdown
    assert "](javascript" not in markdown


def test_correction_is_marked_on_both_rows_when_rendered_to_html() -> None:
    page = render(uttar_pradesh_facts(), "html")
    rows = dict(re.findall(r'<tr id="m-uttar-pradesh-([^"]+)"[^>]*>(.*?)</tr>', page, re.S))
    assert "corrected by up-fix" in rows["up-sp-offers-11"]
    assert "corrects up-sp-offers-11" in rows["up-fix"]
    assert 'href="#m-uttar-pradesh-up-fix"' in rows["up-sp-offers-11"]


def test_move_table_has_one_row_per_move_when_rendered_to_html() -> None:
    page = render(uttar_pradesh_facts(), "html")
    assert len(re.findall(r'<tr id="m-[^"]+" class="move', page)) == 6


def test_chart_is_inline_svg_with_step_lines_when_a_split_was_proposed() -> None:
    page = render(uttar_pradesh_facts(), "html")
    svg = page[page.index("<svg") : page.index("</svg>")]
    assert "<?xml" not in page and "<!DOCTYPE svg" not in page
    assert len(re.findall(r'<path [^>]*d="M', svg)) >= 2
    assert "SP 63" in svg and "INC 17" in svg


def test_html_fetches_nothing_when_opened() -> None:
    page = render(uttar_pradesh_facts(), "html")
    for fetch in ("<script", "<link", "@import", "url(http", "<img", "<iframe", "@font-face"):
        assert fetch not in page


def test_chart_has_a_point_where_a_party_enters_changes_or_leaves_the_split() -> None:
    series = uttar_pradesh_facts().negotiations[0].series
    assert [(p.on, p.seats) for p in series["SP"]] == [
        ("2024-01-27", 62),
        ("2024-02-06", None),
        ("2024-02-19", 63),
    ]
    assert [p.move for p in series["SP"]] == ["up-fix", "up-inc-25", "up-sp-17"]


def test_seats_moved_are_signed_per_party_when_rendered() -> None:
    page = render(uttar_pradesh_facts(), "html")
    assert '<span class="chip">INC +14</span> <span class="chip">SP -62</span>' in page


def test_json_carries_split_history_series_digest_and_rollup() -> None:
    report = json.loads(render(uttar_pradesh_facts(), "json"))
    (talks,) = report["negotiations"]
    assert talks["split"] == {"SP": 63, "INC": 17} and talks["status"] == "agreed"
    assert len(talks["history"]) == 6
    assert [p["seats"] for p in talks["series"]["INC"]] == [11, 25, 17]
    assert report["digest"]["root"] == "ab" * 32
    assert report["rollup"]["parties"] == {"SP": 63, "INC": 17}


def test_markdown_carries_the_same_facts_as_html() -> None:
    text = render(uttar_pradesh_facts(), "markdown")
    assert "| SP | 63 |" in text and "| INC | 17 |" in text
    assert "ab" * 32 in text and "Moves (6)" in text
    assert "corrects `up-sp-offers-11`" in text and "**corrected by** `up-fix`" in text
    move_rows = [line for line in text.splitlines() if line.startswith("| 2024-")]
    assert len(move_rows) >= 6


def test_negotiation_without_splits_renders_without_a_chart() -> None:
    facts = uttar_pradesh_facts()
    bare = NegotiationReport(
        {**facts.negotiations[0].view, "status": "opened", "split": {}, "unallocated": 80},
        "Uttar Pradesh",
        facts.negotiations[0].history[:1],
        {},
    )
    page = render(ReportFacts(None, None, None, facts.digest, [bare], {"parties": {}}), "html")
    assert "<svg" not in page and "No proposal, counter-offer or agreement" in page


def test_move_ids_stay_literal_in_markdown_code_spans_when_they_hold_underscores() -> None:
    facts = uttar_pradesh_facts()
    talks = facts.negotiations[0]
    history = [{**m, "id": "up_sp_17"} if m["id"] == "up-sp-17" else m for m in talks.history]
    part = NegotiationReport(talks.view, talks.title, history, chart_series(history, split_on))
    text = render(ReportFacts(None, None, None, facts.digest, [part], facts.rollup), "markdown")
    assert "`up_sp_17`" in text and "up\\_sp\\_17" not in text


def test_party_codes_in_the_by_column_never_wrap_when_rendered_to_html() -> None:
    facts = uttar_pradesh_facts()
    talks = facts.negotiations[0]
    history = [{**m, "by": "KMDK"} if m["id"] == "up-inc-25" else m for m in talks.history]
    part = NegotiationReport(talks.view, talks.title, history, talks.series)
    page = render(ReportFacts(None, None, None, facts.digest, [part], facts.rollup), "html")
    assert '<td class="by"><span class="chip">KMDK</span></td>' in page
    widths = re.findall(r'<col style="width:(\d+)px">', page)
    assert int(widths[4]) >= 18 + 9 * len("KMDK")  # the By column fits the longest code
    assert ".chip { white-space: nowrap;" in page
