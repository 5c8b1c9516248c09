"""Recording through the command line, on SQLite and PostgreSQL: every kind of move."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from typer.testing import CliRunner, Result

from ledger.application import NegotiationLedger
from scripts.cli import app

Run = Callable[..., Result]


@pytest.fixture
def run(db_url: str) -> Run:
    """Invoke seatledger on the test database (--db given before the command, as scripts do)."""
    runner = CliRunner()

    def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
        return runner.invoke(
            app, ["--db", db_url, *args], env={"SEATLEDGER_USER": "analyst", **(env or {})}
        )

    return invoke


def ok(result: Result) -> Result:
    assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr)
    return result


def open_up(run: Run) -> None:
    ok(
        run(
            "open",
            "uttar-pradesh",
            "--title",
            "UP seat sharing",
            "--region",
            "Uttar Pradesh",
            "--seats",
            "80",
            "--parties",
            "SP, INC",
            "--on",
            "2024-01-09",
        )
    )


def test_open_prints_the_opening_move_id(run: Run) -> None:
    result = ok(
        run("open", "uttar-pradesh", "--seats", "80", "--parties", "SP,INC", "--on", "2024-01-09")
    )
    assert result.stdout.splitlines()[0] == "uttar-pradesh/opened"
    assert "opened" in result.stdout


def test_sp_offer_and_congress_acceptance_leave_an_agreed_split(run: Run, db_url: str) -> None:
    open_up(run)
    offer = ok(
        run(
            "propose",
            "uttar-pradesh",
            "--by",
            "SP",
            "--split",
            "SP=63,INC=17",
            "--on",
            "2024-02-19",
            "--id",
            "up-sp-17",
            "--source",
            "https://example.org/a",
            "--note",
            "final offer",
            "--confidence",
            "reported",
        )
    )
    assert offer.stdout.splitlines()[0] == "up-sp-17"
    assert "SP 63, INC 17" in offer.stdout and "on the table from SP" in offer.stdout
    ok(run("accept", "uttar-pradesh", "--by", "INC", "--of", "up-sp-17", "--on", "2024-02-21"))
    agreed = ok(
        run(
            "agree",
            "uttar-pradesh",
            "--split",
            "SP=63,INC=17",
            "--on",
            "2024-02-21",
            "--signatories",
            "SP,INC",
        )
    )
    assert "agreed" in agreed.stdout
    state = NegotiationLedger(db_url).negotiation("uttar-pradesh").state
    assert (state.status, state.split) == ("agreed", {"SP": 63, "INC": 17})


def test_recording_the_same_move_twice_says_unchanged(run: Run) -> None:
    open_up(run)
    args = (
        "propose",
        "uttar-pradesh",
        "--by",
        "SP",
        "--split",
        "SP=69,INC=11",
        "--on",
        "2024-01-27",
    )
    first = ok(run(*args))
    again = ok(run(*args))
    assert first.stdout.splitlines()[0] == again.stdout.splitlines()[0]
    assert "unchanged" in again.stdout


def test_counter_reject_withdraw_and_amend_follow_the_rules(run: Run, db_url: str) -> None:
    open_up(run)
    ok(
        run(
            "propose",
            "uttar-pradesh",
            "--by",
            "SP",
            "--split",
            "SP=69,INC=11",
            "--on",
            "2024-01-27",
            "--id",
            "p1",
        )
    )
    ok(
        run(
            "counter",
            "uttar-pradesh",
            "--by",
            "INC",
            "--split",
            "INC=25",
            "--on",
            "2024-02-06",
            "--in-reply-to",
            "p1",
            "--id",
            "c1",
        )
    )
    ok(run("reject", "uttar-pradesh", "--by", "SP", "--of", "c1", "--on", "2024-02-07"))
    ok(
        run(
            "propose",
            "uttar-pradesh",
            "--by",
            "INC",
            "--split",
            "INC=21",
            "--on",
            "2024-02-08",
            "--id",
            "p2",
        )
    )
    ok(run("withdraw", "uttar-pradesh", "--by", "INC", "--on", "2024-02-09"))
    ok(run("agree", "uttar-pradesh", "--split", "SP=63,INC=17", "--on", "2024-02-21"))
    amended = ok(run("amend", "uttar-pradesh", "--split", "SP=62,INC=17", "--on", "2024-03-01"))
    assert "SP 62, INC 17" in amended.stdout
    app_ = NegotiationLedger(db_url)
    assert app_.negotiation("uttar-pradesh").state.split == {"SP": 62, "INC": 17}


def test_meeting_join_walkout_note_and_end_are_recorded(run: Run, db_url: str) -> None:
    ok(
        run(
            "open",
            "maharashtra",
            "--seats",
            "48",
            "--parties",
            "SSUBT,INC,NCPSP",
            "--on",
            "2024-01-09",
        )
    )
    ok(run("parties", "add", "VBA", "--name", "Vanchit Bahujan Aghadi"))
    ok(
        run(
            "meet",
            "maharashtra",
            "--parties",
            "SSUBT,INC",
            "--on",
            "2024-01-10",
            "--venue",
            "Mumbai",
        )
    )
    ok(run("join", "maharashtra", "--party", "VBA", "--on", "2024-01-30"))
    assert "VBA" in NegotiationLedger(db_url).negotiation("maharashtra").state.at_table
    ok(run("walkout", "maharashtra", "--party", "VBA", "--on", "2024-03-27"))
    ok(run("note", "maharashtra", "--on", "2024-03-28", "--by", "INC", "--note", "talks go on"))
    ended = ok(run("end", "maharashtra", "--on", "2024-04-01", "--note", "no deal"))
    assert "no_deal" in ended.stdout
    state = NegotiationLedger(db_url).negotiation("maharashtra").state
    assert "VBA" not in state.at_table and state.status == "no_deal"


def test_dry_run_prints_the_split_it_would_leave_and_writes_nothing(run: Run, db_url: str) -> None:
    open_up(run)
    before = NegotiationLedger(db_url).recorder.max_notification_id()
    result = ok(
        run(
            "propose",
            "uttar-pradesh",
            "--by",
            "SP",
            "--split",
            "SP=69,INC=11",
            "--on",
            "2024-01-27",
            "--dry-run",
        )
    )
    assert "dry run, nothing written" in result.stdout
    assert "SP 69, INC 11" in result.stdout
    assert NegotiationLedger(db_url).recorder.max_notification_id() == before


def test_a_correction_is_recorded_and_keeps_the_original(run: Run, db_url: str) -> None:
    open_up(run)
    ok(
        run(
            "propose",
            "uttar-pradesh",
            "--by",
            "SP",
            "--split",
            "SP=69,INC=11",
            "--on",
            "2024-01-27",
            "--id",
            "up-sp-offers-11",
        )
    )
    fixed = ok(
        run(
            "correct",
            "up-sp-offers-11",
            "--split",
            "SP=62,INC=11",
            "--reason",
            "RLD has 7",
            "--id",
            "up-fix",
        )
    )
    assert fixed.stdout.splitlines()[0] == "up-fix"
    negotiation = NegotiationLedger(db_url).negotiation("uttar-pradesh")
    assert negotiation.state.split == {"SP": 62, "INC": 11}
    assert negotiation.recorded["up-sp-offers-11"].split == {"SP": 69, "INC": 11}
    ok(run("correct", "up-sp-offers-11", "--retract", "--id", "up-retract"))
    assert NegotiationLedger(db_url).negotiation("uttar-pradesh").state.status == "opened"


def test_alliance_moves_reach_every_table_of_the_alliance(run: Run, db_url: str) -> None:
    ok(
        run(
            "alliance",
            "form",
            "india-bloc",
            "--name",
            "INDIA",
            "--members",
            "RJD,JDU,INC",
            "--on",
            "2023-07-18",
        )
    )
    ok(
        run(
            "open",
            "bihar",
            "--seats",
            "40",
            "--parties",
            "RJD,JDU,INC",
            "--on",
            "2024-01-07",
            "--alliance",
            "india-bloc",
        )
    )
    ok(run("meet", "--alliance", "india-bloc", "--parties", "RJD,INC", "--on", "2024-01-13"))
    ok(run("note", "--alliance", "india-bloc", "--on", "2024-01-14", "--note", "virtual meeting"))
    left = ok(
        run(
            "alliance",
            "leave",
            "india-bloc",
            "--party",
            "JDU",
            "--on",
            "2024-01-28",
            "--id",
            "jdu-out",
        )
    )
    assert left.stdout.splitlines()[0] == "jdu-out"
    assert "JDU" not in NegotiationLedger(db_url).negotiation("bihar").state.at_table
    ok(run("alliance", "join", "india-bloc", "--party", "JDU", "--on", "2024-03-01"))


def test_recorded_by_comes_from_as_then_the_environment(run: Run, db_url: str) -> None:
    open_up(run)
    ok(
        run(
            "note",
            "uttar-pradesh",
            "--on",
            "2024-01-10",
            "--note",
            "a",
            "--id",
            "n1",
            "--as",
            "priya",
        )
    )
    ok(run("note", "uttar-pradesh", "--on", "2024-01-11", "--note", "b", "--id", "n2"))
    recorded = NegotiationLedger(db_url).negotiation("uttar-pradesh").recorded
    assert recorded["n1"].recorded_by == "priya"
    assert recorded["n2"].recorded_by == "analyst"


def test_db_is_accepted_after_the_command_too(db_url: str) -> None:
    result = CliRunner().invoke(
        app,
        [
            "open",
            "delhi",
            "--seats",
            "7",
            "--parties",
            "AAP,INC",
            "--on",
            "2024-01-08",
            "--db",
            db_url,
        ],
    )
    ok(result)
    assert NegotiationLedger(db_url).negotiation("delhi").state.seats == 7


def test_parties_list_shows_known_codes(run: Run) -> None:
    open_up(run)
    ok(run("parties", "add", "RLD", "--name", "Rashtriya Lok Dal"))
    listed = ok(run("parties", "list", "--format", "json"))
    assert '"RLD": "Rashtriya Lok Dal"' in listed.stdout and '"SP"' in listed.stdout


def test_parties_add_stores_a_chart_colour_and_list_shows_it(run: Run) -> None:
    open_up(run)
    added = ok(run("parties", "add", "RLD", "--name", "Rashtriya Lok Dal", "--colour", "#1a2b3c"))
    assert added.stdout.strip() == "RLD: Rashtriya Lok Dal (#1A2B3C)"
    listed = ok(run("parties", "list", "--format", "csv"))
    assert "RLD,Rashtriya Lok Dal,#1A2B3C" in listed.stdout.splitlines()


def test_parties_add_refuses_a_colour_that_is_not_rgb_hex(run: Run) -> None:
    result = run("parties", "add", "RLD", "--colour", "red")
    assert result.exit_code == 2 and "write it as #RRGGBB" in result.stderr
