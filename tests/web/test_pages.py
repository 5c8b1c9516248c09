"""The web view through Starlette's test client: every route, its JSON twin, errors, escaping."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from datetime import date

import pytest
from starlette.testclient import TestClient

from ledger.application import NegotiationLedger
from ledger.persistence.roles import create_roles
from ledger.timeline.document import (
    AnswerSpec,
    CorrectionSpec,
    CounterOfferSpec,
    NegotiationSpec,
    ProposalSpec,
)
from projections.api import LedgerViews
from projections.diff import ledger_diff
from tests.support.example import record_example
from web.app import create_app

HOSTILE_TITLE = "<script>alert('title')</script> \"Kerala\" & 'friends'"
HOSTILE_NOTE = '<script>alert("note")</script><img src=x onerror=alert(1)>'
JS_SOURCE = "javascript:alert(document.cookie)"
WEB_SOURCE = 'https://example.org/report?a=1&b="2"'


@pytest.fixture
def client(example_ledger: str) -> Iterator[TestClient]:
    with TestClient(create_app(example_ledger)) as found:
        yield found


@pytest.fixture
def hostile(db_url: str) -> TestClient:
    """Talks whose title, notes and sources try to break out of the page."""
    ledger = NegotiationLedger(db_url, recorded_by="<b>staff</b>")
    ledger.open(
        NegotiationSpec(
            id="kerala", title=HOSTILE_TITLE, region="Kerala \"south\"", seats=20,
            parties=["INC", "CPIM"], opened_on=date(2024, 2, 1), note=HOSTILE_NOTE,
        )
    )  # fmt: skip
    ledger.record(
        ProposalSpec(
            type="proposal", id="kl-inc", negotiation="kerala", on=date(2024, 2, 2), by="INC",
            split={"INC": 16, "CPIM": 4}, source=JS_SOURCE, note=HOSTILE_NOTE,
        )
    )  # fmt: skip
    ledger.record(
        CounterOfferSpec(
            type="counter_offer", id="kl-cpim", negotiation="kerala", on=date(2024, 2, 5),
            by="CPIM", split={"INC": 12, "CPIM": 8}, source=WEB_SOURCE, note="'quoted' \"too\"",
        )
    )  # fmt: skip
    ledger.record(
        AnswerSpec(type="acceptance", id="kl-ok", negotiation="kerala", on=date(2024, 2, 9),
                   by="INC", source="  JAVASCRIPT:alert(2)")
    )  # fmt: skip
    ledger.record(
        CorrectionSpec(type="correction", id="kl-fix", of="kl-inc", note=HOSTILE_NOTE,
                       split={"INC": 15, "CPIM": 5}, source="data:text/html,<script>x</script>")
    )  # fmt: skip
    return TestClient(create_app(db_url))


def _scripts(page: str) -> list[str]:
    return re.findall(r"<script[^>]*>", page, flags=re.I)


def test_overview_shows_every_negotiation_with_status_and_split_when_asked_for_a_date(
    client: TestClient,
) -> None:
    page = client.get("/", params={"as_of": "2024-02-24"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert 'data-negotiation="uttar-pradesh"' in page.text
    assert "SP 63" in page.text and "INC 17" in page.text
    assert "123 of 253 seats" in page.text  # the national roll-up bar's caption


def test_overview_json_twin_is_the_splits_and_rollup_of_the_command_line(
    client: TestClient, example_ledger: str
) -> None:
    views = LedgerViews(example_ledger)
    expected = {
        "as_of": "2024-02-24",
        "known_on": None,
        "splits": [v.to_json() for v in views.splits(date(2024, 2, 24))],
        "rollup": views.rollup(date(2024, 2, 24)).to_json(),
    }
    assert client.get("/index.json", params={"as_of": "2024-02-24"}).json() == expected
    by_accept = client.get("/", params={"as_of": "2024-02-24"},
                           headers={"accept": "application/json"})  # fmt: skip
    assert by_accept.json() == expected


def test_slider_step_counts_days_from_its_start_when_the_form_is_sent_without_javascript(
    client: TestClient,
) -> None:
    # 2024-01-01 + 51 days = 2024-02-21, the day Uttar Pradesh agreed.
    shown = client.get("/n/uttar-pradesh.json", params={"start": "2024-01-01", "day": "51"})
    assert shown.json()["split"]["as_of"] == "2024-02-21"
    assert shown.json()["split"]["status"] == "agreed"


def test_negotiation_page_shows_split_chart_moves_sources_and_lineage_when_it_exists(
    client: TestClient,
) -> None:
    page = client.get("/n/uttar-pradesh", params={"as_of": "2024-02-10"}).text
    assert 'id="split"' in page and "INC 25" in page  # INC's counter-offer is on the table
    # The report's chart, drawn apart and swapped in on load (a link without JavaScript).
    assert 'hx-get="/n/uttar-pradesh/chart" hx-trigger="load"' in page
    chart = client.get("/n/uttar-pradesh/chart").text
    assert '<svg role="img" aria-label="Seats over time' in chart
    assert 'class="lineage-graph"' in page
    assert 'answering <a href="#m-up-sp-offers-11">up-sp-offers-11</a>' in page
    assert 'id="m-up-sp-offer-split-corrected"' in page
    assert 'corrects <a href="#m-up-sp-offers-11">' in page  # corrections linked both ways
    assert 'corrected by <a href="#m-up-sp-offer-split-corrected">' in page
    assert 'href="https://www.ndtv.com/' in page
    assert "up-sp-final-offer-17" not in page  # dated after 2024-02-10


def test_negotiation_json_twin_matches_split_history_and_names_each_reply(
    client: TestClient, example_ledger: str
) -> None:
    views = LedgerViews(example_ledger)
    found = client.get("/n/uttar-pradesh.json", params={"as_of": "2024-02-21"}).json()
    assert found["split"] == views.split("uttar-pradesh", date(2024, 2, 21)).to_json()
    assert found["history"] == [m.to_json() for m in views.history("uttar-pradesh",
                                                                   date(2024, 2, 21))]  # fmt: skip
    replies = {step["id"]: step["answers"] for step in found["lineage"]}
    assert replies == {
        "up-sp-offers-11": None,
        "up-inc-seeks-25": "up-sp-offers-11",
        "up-sp-final-offer-17": "up-inc-seeks-25",
        "up-inc-accepts-17": "up-sp-final-offer-17",
    }


def test_chart_twin_is_the_report_series_of_the_story_known_on_k(
    client: TestClient, example_ledger: str
) -> None:
    from projections.reports.gather import gather

    report = gather(example_ledger, "uttar-pradesh", None, None).to_json()
    found = client.get("/n/uttar-pradesh/chart.json").json()
    assert found["series"] == report["negotiations"][0]["series"]
    assert found["series"]["INC"][-1]["seats"] == 17
    early = client.get("/n/uttar-pradesh/chart.json", params={"known_on": "2020-01-01"})
    assert early.status_code == 404  # nothing was recorded yet


def test_known_on_before_a_correction_shows_the_move_as_first_recorded(
    hostile: TestClient,
) -> None:
    moves = hostile.get("/n/kerala.json").json()["history"]
    recorded = next(m["recorded_at"] for m in moves if m["id"] == "kl-fix")
    before = next(m["recorded_at"] for m in moves if m["id"] == "kl-ok")
    assert before < recorded
    then = hostile.get("/n/kerala.json", params={"known_on": before}).json()
    assert [m["id"] for m in then["history"] if m["id"] == "kl-fix"] == []


def test_diff_page_and_twin_match_the_diff_of_the_read_side(
    client: TestClient, example_ledger: str
) -> None:
    query = {"from": "2024-02-01", "to": "2024-02-29"}
    expected = ledger_diff(
        LedgerViews(example_ledger), date(2024, 2, 1), date(2024, 2, 29)
    ).to_json()
    assert client.get("/diff.json", params=query).json() == expected
    page = client.get("/diff", params=query).text
    assert 'data-negotiation="uttar-pradesh"' in page and "INC +6" in page


def test_diff_page_covers_every_date_when_no_dates_are_given(client: TestClient) -> None:
    found = client.get("/diff.json").json()
    assert (found["from"], found["to"]) == ("2023-07-18", "2024-04-09")


@pytest.mark.parametrize(
    "path",
    ["/?as_of=2024-13-01", "/index.json?known_on=yesterday", "/n/bihar?as_of=2024-02-30",
     "/diff?from=2024-03-01&to=2024-02-01", "/?day=-3", "/diff?negotiation=Bad%20Slug"],
)  # fmt: skip
def test_bad_dates_give_a_400_page_naming_the_problem_when_given(
    client: TestClient, path: str
) -> None:
    page = client.get(path)
    assert page.status_code == 400
    assert "Traceback" not in page.text
    assert '<p class="message">' in page.text or "error" in page.json()


def test_unknown_negotiation_gives_a_404_page_and_json_error(client: TestClient) -> None:
    page = client.get("/n/kerala")
    assert page.status_code == 404 and "no negotiation &#39;kerala&#39;" in page.text
    twin = client.get("/n/kerala.json")
    assert twin.status_code == 404
    assert twin.json() == {"error": "no negotiation 'kerala' in this ledger", "status": 404}


def test_only_get_is_allowed_when_another_method_is_sent(client: TestClient) -> None:
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        for path in ("/", "/n/bihar", "/diff", "/static/htmx.min.js"):
            answer = client.request(method, path)
            assert answer.status_code == 405, (method, path)
            assert "GET" in answer.headers["allow"]


def test_pages_forbid_inline_scripts_and_framing_when_served(client: TestClient) -> None:
    headers = client.get("/").headers
    assert "script-src 'self'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"


def test_htmx_is_served_from_this_server_with_its_licence(client: TestClient) -> None:
    page = client.get("/").text
    assert _scripts(page) == ['<script src="/static/htmx.min.js" defer>']
    script = client.get("/static/htmx.min.js")
    assert script.status_code == 200 and "Zero-Clause BSD" in script.text[:300]
    assert "Zero-Clause BSD" in client.get("/static/htmx.LICENSE.txt").text


def test_hostile_titles_notes_and_sources_are_escaped_on_every_page(hostile: TestClient) -> None:
    for path in ("/", "/n/kerala", "/n/kerala?as_of=2024-02-03", "/diff"):
        page = hostile.get(path)
        assert page.status_code == 200, path
        assert _scripts(page.text) == ['<script src="/static/htmx.min.js" defer>'], path
        assert "<img" not in page.text
        links = re.findall(r'(?:href|src)="([^"]*)"', page.text)
        assert all(link.startswith(("/", "#", "https://example.org/")) for link in links), links
    page = hostile.get("/n/kerala").text
    assert "&lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt; &#34;Kerala&#34;" in page
    assert '<span class="plain-source">javascript:alert(document.cookie)</span>' in page
    assert 'href="https://example.org/report?a=1&amp;b=&#34;2&#34;"' in page
    assert "&lt;b&gt;staff&lt;/b&gt;" in page


def test_hostile_text_comes_back_unchanged_in_the_json_twin(hostile: TestClient) -> None:
    found = hostile.get("/n/kerala.json").json()
    assert next(m for m in found["history"] if m["id"] == "kl-inc")["source"] == JS_SOURCE
    assert hostile.get("/index.json").json()["splits"][0]["region"] == 'Kerala "south"'


def test_unexpected_failure_gives_a_500_page_without_a_traceback(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("boom at /secret/path")

    monkeypatch.setattr(client.app.state.reader, "overview", broken)  # type: ignore[attr-defined]
    quiet = TestClient(client.app, raise_server_exceptions=False)
    page = quiet.get("/")
    assert page.status_code == 500
    assert "boom" not in page.text and "Traceback" not in page.text


def test_pages_work_on_the_postgresql_reader_role_when_the_views_lag(
    pg_url: str, pg_server_url: str
) -> None:
    from tests.ledger.persistence.test_roles import _as, _drop_roles

    record_example(pg_url, recorded_by="owner")
    LedgerViews(pg_url).catch_up()
    suffix = secrets.token_hex(4)
    writer, reader = f"sl_writer_{suffix}", f"sl_reader_{suffix}"
    try:
        create_roles(pg_url, writer=writer, reader=reader)
        staff = NegotiationLedger(_as(pg_url, writer), recorded_by="staff")
        staff.open(NegotiationSpec(id="kerala", seats=20, parties=["INC", "CPIM"],
                                   opened_on=date(2024, 3, 1)))  # fmt: skip
        staff.record(ProposalSpec(type="proposal", negotiation="kerala", on=date(2024, 3, 2),
                                  by="INC", split={"INC": 16, "CPIM": 4}))  # fmt: skip
        as_reader = TestClient(create_app(_as(pg_url, reader)))
        assert as_reader.get("/").status_code == 200
        found = as_reader.get("/n/kerala.json").json()  # answered from the log: the views lag
        assert found["split"]["split"] == {"INC": 16, "CPIM": 4}
        assert found["history"][0]["id"] == "kerala/opened"  # a page of moves, by replay
        assert found["page"] == {"number": 1, "pages": 1, "size": 50, "moves": 2}
        assert as_reader.get("/n/kerala").status_code == 200
        chart = as_reader.get("/n/kerala/chart.json").json()["series"]
        last = {party: line[-1]["seats"] for party, line in chart.items()}
        assert last == {"INC": 16, "CPIM": 4}
        assert as_reader.get("/diff.json", params={"from": "2024-03-01"}).status_code == 200
        replayed = LedgerViews(_as(pg_url, reader))
        opened = replayed.history_page("kerala", limit=1, offset=1)[1]
        assert [move.id for move in opened] == ["kerala/opened"]  # the older of the two
        assert replayed.history_page("kerala", limit=1, offset=3) == (2, [])  # past the last
        assert replayed.status().lag > 0  # the pages wrote nothing
    finally:
        _drop_roles(pg_server_url, writer, reader)


def test_serve_listens_on_loopback_unless_a_host_is_given(
    example_ledger: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn
    from typer.testing import CliRunner

    from scripts.cli import app as cli

    started: list[dict[str, object]] = []
    monkeypatch.setattr(uvicorn, "run", lambda _app, **options: started.append(options))
    assert CliRunner().invoke(cli, ["serve", "--db", example_ledger]).exit_code == 0
    assert (
        CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0", "--db", example_ledger]).exit_code
        == 0
    )
    assert [(s["host"], s["port"]) for s in started] == [("127.0.0.1", 8000), ("0.0.0.0", 8000)]


def test_lineage_graph_draws_one_arrow_per_reply(client: TestClient) -> None:
    page = client.get("/n/uttar-pradesh").text
    assert page.count('class="reply"') == 3
    assert page.count('<g class="node ') == 4


def test_a_partys_chosen_colour_is_the_one_every_page_and_the_chart_draw(db_url: str) -> None:
    ledger = NegotiationLedger(db_url)
    ledger.open(
        NegotiationSpec(
            id="kerala", title="Kerala", region="Kerala", seats=20, parties=["INC", "CPIM"],
            opened_on=date(2024, 2, 1),
        )
    )  # fmt: skip
    ledger.record(
        ProposalSpec(
            type="proposal", id="kl-inc", negotiation="kerala", on=date(2024, 2, 2), by="INC",
            split={"INC": 16, "CPIM": 4},
        )
    )  # fmt: skip
    with TestClient(create_app(db_url)) as client:
        assert "#123456" not in client.get("/n/kerala").text
        # Chosen after the server started: the next page (the log has grown) uses it.
        ledger.register_parties({"INC": ""}, {"INC": "#123456"})
        page = client.get("/n/kerala").text
        assert 'style="background:#123456"' in page
        assert 'background:#123456' in client.get("/").text  # the overview's split
        assert "stroke: #123456" in client.get("/n/kerala/chart").text.lower()
