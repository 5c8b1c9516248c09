"""Seat pages, seats in the diff and pages of moves, through Starlette's test client.

The seat-level talks of `tests/scripts/test_seats.py` (Bhadohi passes from SP to TMC on
15 March 2024), with a listed constituency whose name tries to break out of the page.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from urllib.parse import quote

import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from projections.api import LedgerViews
from scripts.cli import app as cli
from tests.scripts.test_seats import SEATS_2024
from web import pages
from web.app import create_app

HOSTILE_SEAT = '<script>alert("seat")</script> & \'co\''
SEATS = SEATS_2024.replace(
    "constituencies: [Amethi, Rae Bareli, Bhadohi]",
    "constituencies: [Amethi, Rae Bareli, Bhadohi, '" + HOSTILE_SEAT.replace("'", "''") + "']",
)


def seatledger(db_url: str, *args: str) -> str:
    done = CliRunner().invoke(cli, [*args, "--db", db_url], env={"SEATLEDGER_USER": "analyst"})
    assert done.exit_code == 0, done.output
    return done.output


@pytest.fixture
def seats_ledger(db_url: str, tmp_path: Path) -> str:
    file = tmp_path / "seats-2024.yaml"
    file.write_text(SEATS, encoding="utf-8")
    seatledger(db_url, "import", str(file))
    return db_url


@pytest.fixture
def client(seats_ledger: str) -> Iterator[TestClient]:
    with TestClient(create_app(seats_ledger)) as found:
        yield found


def test_seat_page_shows_the_holder_on_each_date_with_its_history(client: TestClient) -> None:
    before = client.get("/n/uttar-pradesh/seat/Bhadohi", params={"as_of": "2024-03-01"})
    assert before.status_code == 200
    assert "Held by <strong>SP</strong> (agreed)" in before.text
    after = client.get("/n/uttar-pradesh/seat/bhadohi", params={"as_of": "2024-03-20"}).text
    assert "Held by <strong>TMC</strong> (agreed)" in after
    assert 'href="/n/uttar-pradesh?as_of=2024-03-15#m-up-bhadohi-to-tmc"' in after
    assert "up-bhadohi-to-tmc" not in before.text  # the history stops at the date shown


@pytest.mark.parametrize("as_of", ["2024-02-19", "2024-03-20"])
def test_seat_json_twin_is_the_seat_command_json(
    client: TestClient, seats_ledger: str, as_of: str
) -> None:
    command = json.loads(seatledger(seats_ledger, "seat", "uttar-pradesh", "Bhadohi",
                                    "--as-of", as_of, "--format", "json"))  # fmt: skip
    path = "/n/uttar-pradesh/seat/Bhadohi"
    assert client.get(f"{path}.json", params={"as_of": as_of}).json() == command
    asked = client.get(path, params={"as_of": as_of}, headers={"accept": "application/json"})
    assert asked.json() == command


def test_seat_page_as_known_on_a_date_before_the_talks_were_recorded_is_a_404(
    client: TestClient,
) -> None:
    found = client.get("/n/uttar-pradesh/seat/Bhadohi.json", params={"known_on": "2020-01-01"})
    assert found.status_code == 404
    assert found.json()["status"] == 404


@pytest.mark.parametrize(
    "path",
    ["/n/uttar-pradesh/seat/Varanasi", "/n/uttar-pradesh/seat/Varanasi.json",
     "/n/bihar/seat/Patna", "/n/uttar-pradesh/seat/" + "x" * 300],
)  # fmt: skip
def test_unknown_seat_or_negotiation_gives_a_404_naming_it(client: TestClient, path: str) -> None:
    found = client.get(path)
    assert found.status_code == 404
    assert "Traceback" not in found.text
    if path.endswith("Varanasi"):
        assert "does not list &#39;Varanasi&#39;" in found.text


def test_negotiation_page_links_each_listed_seat_to_its_page(client: TestClient) -> None:
    page = client.get("/n/uttar-pradesh", params={"as_of": "2024-03-20"}).text
    link = 'href="/n/uttar-pradesh/seat/Bhadohi?as_of=2024-03-20">Bhadohi</a></td><td>TMC</td>'
    assert link in page
    found = client.get("/n/uttar-pradesh.json", params={"as_of": "2024-03-20"}).json()
    views = LedgerViews(str(client.app.state.reader.views.url))  # type: ignore[attr-defined]
    expected = views.seats("uttar-pradesh", date(2024, 3, 20))
    assert found["seats"] == [seat.to_json() for seat in expected]


def test_a_hostile_constituency_name_is_escaped_and_still_reaches_its_page(
    client: TestClient,
) -> None:
    page = client.get("/n/uttar-pradesh").text
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#34;seat&#34;)&lt;/script&gt; &amp; &#39;co&#39;" in page
    href = f"/n/uttar-pradesh/seat/{quote(HOSTILE_SEAT, safe='')}"  # "/" too: one segment
    assert f'href="{href}">' in page
    seat = client.get(href)
    assert seat.status_code == 200
    assert "<script>alert" not in seat.text
    assert client.get(href + ".json").json()["constituency"] == HOSTILE_SEAT


def test_diff_names_the_seats_that_changed_holder_on_every_surface(
    client: TestClient, seats_ledger: str, tmp_path: Path
) -> None:
    span = ("--from", "2024-03-01", "--to", "2024-03-20")
    command = json.loads(seatledger(seats_ledger, "diff", *span, "--format", "json"))
    bhadohi = {"constituency": "Bhadohi", "holder_from": "SP", "holder_to": "TMC",
               "status_from": "agreed", "status_to": "agreed"}  # fmt: skip
    (up,) = command["negotiations"]
    assert up["seats_changed"] == [bhadohi]
    assert "Bhadohi" in seatledger(seats_ledger, "diff", *span)  # the table names it too
    query = {"from": "2024-03-01", "to": "2024-03-20"}
    assert client.get("/diff.json", params=query).json() == command
    page = client.get("/diff", params=query).text
    assert '<tr data-constituency="Bhadohi">' in page and "SP (agreed)" in page
    for fmt in ("html", "markdown", "json"):
        out = tmp_path / f"report.{fmt}"
        seatledger(seats_ledger, "report", "--all", "--as-of", "2024-03-20",
                   "--diff-from", "2024-03-01", "--format", fmt, "-o", str(out))  # fmt: skip
        text = out.read_text(encoding="utf-8")
        if fmt == "json":
            assert json.loads(text)["diff"]["negotiations"][0]["seats_changed"] == [bhadohi]
        else:
            assert "Seats that changed holder" in text and "TMC (agreed)" in text
        seatledger(seats_ledger, "verify", "--report", str(out))


def test_diff_names_no_seat_when_only_counts_changed(client: TestClient) -> None:
    found = client.get("/diff.json", params={"from": "2024-02-19", "to": "2024-02-21"}).json()
    assert [n["seats_changed"] for n in found["negotiations"]] == [[]]  # on the table -> agreed


def test_long_histories_come_in_pages_of_the_latest_moves_first(
    client: TestClient, seats_ledger: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pages, "MOVES_PER_PAGE", 2)
    every = [m.to_json() for m in LedgerViews(seats_ledger).history("uttar-pradesh")]
    assert len(every) == 5  # opened, offer, deal, TMC joins, amendment
    first = client.get("/n/uttar-pradesh.json").json()
    assert first["page"] == {"number": 1, "pages": 3, "size": 2, "moves": 5}
    shown = [client.get("/n/uttar-pradesh.json", params={"page": n}).json()["history"]
             for n in (3, 2, 1)]  # fmt: skip
    assert [move for page in shown for move in page] == every
    html = client.get("/n/uttar-pradesh", params={"page": 2}).text
    assert 'href="?page=3#moves" rel="next">older moves</a>' in html
    assert 'href="?page=1#moves" rel="prev">newer moves</a>' in html
    beyond = client.get("/n/uttar-pradesh.json", params={"page": 9}).json()
    assert beyond["history"] == [] and beyond["page"]["pages"] == 3
    assert client.get("/n/uttar-pradesh", params={"page": "0"}).status_code == 400


def test_a_seat_settled_by_a_pact_is_named_as_the_report_names_it(
    seats_ledger: str, tmp_path: Path
) -> None:
    # One word for one status: the web view and an audit report both say "settled (pact)".
    seatledger(seats_ledger, "open", "tamil-nadu", "--seats", "39", "--parties",
               "DMK,INC,IUML", "--on", "2024-02-01", "--constituencies",
               "Ramanathapuram;Namakkal")  # fmt: skip
    seatledger(seats_ledger, "settle", "tamil-nadu", "--signatories", "DMK,IUML",
               "--split", "IUML=Ramanathapuram", "--on", "2024-02-24")  # fmt: skip
    with TestClient(create_app(seats_ledger)) as client:
        seat = client.get("/n/tamil-nadu/seat/Ramanathapuram", params={"as_of": "2024-03-01"})
        talks = client.get("/n/tamil-nadu", params={"as_of": "2024-03-01"})
    assert "Held by <strong>IUML</strong> (settled (pact))" in seat.text
    assert "<td>IUML</td><td>settled (pact)</td>" in talks.text
    report = tmp_path / "report.md"
    seatledger(seats_ledger, "report", "tamil-nadu", "--as-of", "2024-03-01",
               "--output", str(report))  # fmt: skip
    assert "| Ramanathapuram | IUML | settled (pact) |" in report.read_text(encoding="utf-8")
