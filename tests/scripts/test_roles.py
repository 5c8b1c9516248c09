"""The three PostgreSQL roles through the command line, each command a real process."""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.error
import urllib.request
from typing import Any

import psycopg
import pytest
import typer
from psycopg import errors as pg_errors
from sqlalchemy.engine import make_url

from scripts.cli import app
from tests.scripts.conftest import Team
from tests.scripts.test_subprocess import seatledger
from tests.support.killing import kill, start

LAG_NOTICE = "the views lag the event log by"
TABLES = (
    "seatledger_events",
    "seatledger_moves",
    "seatledger_snapshots",
    "seatledger_tracking",
    "seatledger_view_splits",
    "seatledger_view_moves",
    "seatledger_view_position",
)
LOG = ("seatledger_events", "seatledger_moves")


def _connect(url: str) -> psycopg.Connection[Any]:
    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    return psycopg.connect(conninfo, autocommit=True)


def _lag(team: Team) -> int:
    return int(json.loads(team.run("reader", "projections", "status", "-f", "json").stdout)["lag"])


def _without_instants(found: dict[str, Any]) -> dict[str, Any]:
    # A digest is made when asked for: its time differs from one run to the next. A report's
    # "known through" does not: it is the log's last recorded instant either way.
    if "digest" in found:
        return {**found, "digest": {**found["digest"], "created_at": None}}
    return {**found, "created_at": None}


READS = {
    "split": (["split", "delhi", "--as-of", "2024-04-30", "-f", "json"], True),
    "splits": (["splits", "--as-of", "2024-03-31", "-f", "json"], True),
    "rollup": (["rollup", "-f", "json"], True),
    "history": (["history", "delhi", "-f", "json"], True),
    "seats": (["seats", "goa", "--as-of", "2024-03-01", "-f", "json"], True),
    "seat": (["seat", "goa", "south goa", "-f", "json"], True),
    "history-all": (["history", "--known-on", "2030-01-01", "-f", "json"], True),
    "diff": (["diff", "--from", "2024-02-01", "--to", "2024-03-31", "-f", "json"], True),
    "report": (["report", "--all", "-o", "-", "-f", "json"], True),
    "replay": (["replay", "-f", "json"], False),
    "replay-history": (["replay", "--view", "history", "-f", "json"], False),
    "verify": (["verify", "-f", "json"], False),
    "status": (["projections", "status", "-f", "json"], False),
    "digest": (["digest"], False),
    "export": (["export"], False),
    "parties": (["parties", "list", "-f", "json"], False),
}
"""Every command that reads: (arguments, whether it reads the views and so may replay)."""


def test_every_reading_command_is_tried_as_the_reader_when_it_is_on_the_command_line() -> None:
    # A new reading command (seats, seat, diff...) must be added to READS, so that it is
    # run as the reader with lagging and with fresh views like the others.
    group = typer.main.get_command(app)
    reading = {
        name
        for name, command in getattr(group, "commands", {}).items()
        if getattr(command, "rich_help_panel", None) == "Reading"
    }
    tried = {args[0] for args, _ in READS.values()} | {"serve"}  # serve: its own test below
    assert reading - tried == set()


@pytest.mark.parametrize("command", READS, ids=list(READS))
def test_reader_gets_the_same_answer_when_views_lag_and_when_they_are_fresh(
    team: Team, command: str
) -> None:
    args, reads_views = READS[command]
    team.run("writer", "note", "delhi", "--on", "2024-04-02", "--note", f"seen {command}")

    lagging = team.run("reader", *args)
    assert _lag(team) > 0  # the reader could not, and did not, update the views
    team.run("projector", "projections", "catch-up")
    fresh = team.run("reader", *args)

    assert "Traceback" not in lagging.stderr
    assert lagging.stderr.count(LAG_NOTICE) == (1 if reads_views else 0), lagging.stderr
    assert LAG_NOTICE not in fresh.stderr
    if command == "export":
        assert lagging.stdout == fresh.stdout and "delhi" in fresh.stdout
        return
    before, after = json.loads(lagging.stdout), json.loads(fresh.stdout)
    if command in {"report", "digest"}:
        before, after = _without_instants(before), _without_instants(after)
    if command == "report":
        assert before["rollup"]["parties"]["SP"] == 63
    if command == "status":
        assert (before["lag"], after["lag"]) == (after["head"] - before["position"], 0)
        return
    assert before == after
    if command == "split":
        assert (after["status"], after["split"]) == ("agreed", {"AAP": 4, "INC": 3})
    if command == "verify":
        assert after["ok"] is True


@pytest.mark.parametrize("checker", ["reader", "owner"])
def test_report_made_by_the_reader_passes_verify_report_when_views_lagged(
    team: Team, checker: str, tmp_path: Any
) -> None:
    team.run("writer", "note", "delhi", "--on", "2024-04-05", "--note", f"lagged {checker}")
    assert _lag(team) > 0
    for fmt in ("json", "markdown", "html"):
        report = tmp_path / f"report.{fmt}"
        team.run("reader", "report", "--all", "-f", fmt, "-o", str(report))

        checked = seatledger(
            "--db", getattr(team, checker), "verify", "--report", str(report), cwd=team.home
        )

        assert checked.returncode == 0, (fmt, checked.stdout, checked.stderr)


def test_notice_names_how_far_the_views_lag_when_the_reader_replays(team: Team) -> None:
    team.run("projector", "projections", "catch-up")
    for day in (3, 4):
        team.run("writer", "note", "delhi", "--on", f"2024-04-0{day}", "--note", "lag two")

    done = team.run("reader", "split", "delhi")

    assert "by 2 notification(s)" in done.stderr
    assert "AAP" in done.stdout


@pytest.mark.parametrize("role", ["writer", "reader"])
@pytest.mark.parametrize("table", TABLES)
def test_table_refuses_update_delete_and_truncate_when_not_the_projector_or_owner(
    team: Team, role: str, table: str
) -> None:
    with _connect(getattr(team, role)) as conn:
        column = conn.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = %s LIMIT 1",
            (table,),
        ).fetchone()
        assert column is not None
        for statement in (
            f'UPDATE {table} SET "{column[0]}" = "{column[0]}"',
            f"DELETE FROM {table}",
            f"TRUNCATE {table}",
        ):
            with pytest.raises(pg_errors.InsufficientPrivilege):
                conn.execute(statement)


@pytest.mark.parametrize("table", [t for t in TABLES if t not in LOG])
def test_writer_and_reader_are_refused_when_they_insert_beside_the_log(
    team: Team, table: str
) -> None:
    for role in ("writer", "reader"):
        if role == "writer" and table == "seatledger_snapshots":
            continue  # the writer snapshots what it records; a trigger supersedes old ones
        with _connect(getattr(team, role)) as conn, pytest.raises(pg_errors.InsufficientPrivilege):
            conn.execute(f"INSERT INTO {table} DEFAULT VALUES")


@pytest.mark.parametrize("table", LOG)
def test_projector_is_refused_when_it_writes_the_event_log(team: Team, table: str) -> None:
    with _connect(team.projector) as conn:
        for statement in (
            f"INSERT INTO {table} DEFAULT VALUES",
            f"UPDATE {table} SET originator_version = originator_version",
            f"DELETE FROM {table}",
            f"TRUNCATE {table}",
        ):
            with pytest.raises(pg_errors.InsufficientPrivilege):
                conn.execute(statement)


def test_reader_and_writer_are_refused_with_a_pointer_when_they_catch_up(team: Team) -> None:
    team.run("writer", "note", "delhi", "--on", "2024-04-05", "--note", "one more")
    for role in ("writer", "reader"):
        for command in ("catch-up", "rebuild"):
            done = seatledger("--db", getattr(team, role), "projections", command, cwd=team.home)
            assert done.returncode == 2, done.stderr
            assert "projector role" in done.stderr
            assert "Traceback" not in done.stderr


def test_web_view_serves_the_same_pages_to_the_reader_when_views_lag_and_when_fresh(
    team: Team,
) -> None:
    team.run("writer", "note", "delhi", "--on", "2024-04-07", "--note", "seen on the web")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = start(["-m", "scripts.cli", "--db", team.reader, "serve", "--port", str(port)])
    base = f"http://127.0.0.1:{port}"
    try:
        lagging = [_get_json(f"{base}{page}", server) for page in PAGES]
        assert _lag(team) > 0
        team.run("projector", "projections", "catch-up")
        fresh = [_get_json(f"{base}{page}", server) for page in PAGES]
    finally:
        kill(server)
    assert lagging == fresh
    assert "seen on the web" in json.dumps(fresh[1])


PAGES = ("/index.json", "/n/delhi.json", "/diff.json?from=2024-02-01&to=2024-03-31")


def _get_json(url: str, server: subprocess.Popen[bytes]) -> Any:
    end = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                return json.loads(response.read())
        except urllib.error.URLError:
            assert server.poll() is None, "the server ended"
            assert time.monotonic() < end, "the server did not answer within 60 s"
            time.sleep(0.1)
