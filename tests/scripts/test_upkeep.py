"""Integrity and upkeep through the command line: init, verify, digest, projections."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner, Result

from ledger.persistence.engine import dispose_engines, get_engine
from ledger.persistence.schema import TABLES
from scripts.cli import app
from tests.support.example import EXAMPLE

Run = Callable[..., Result]


@pytest.fixture
def run(db_url: str) -> Run:
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(app, ["--db", db_url, *args])

    return invoke


@pytest.fixture
def example(run: Run) -> None:
    assert run("import", str(EXAMPLE)).exit_code == 0


def tamper(url: str) -> None:
    """Change the seats of one stored event in place, as someone with the owner's rights."""
    events = TABLES.events.name
    with get_engine(url).begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"DROP TRIGGER {events}_no_change ON {events}")
        else:
            conn.exec_driver_sql(f"DROP TRIGGER {events}_no_update")
        state = conn.execute(
            text(f"SELECT state FROM {events} WHERE notification_id = 10")
        ).scalar_one()
        forged = bytes(state).replace(b'"seats":', b'"seats": ', 1) + b" "
        conn.execute(
            text(f"UPDATE {events} SET state = :s WHERE notification_id = 10"), {"s": forged}
        )


def test_init_creates_the_ledger_and_is_idempotent(run: Run) -> None:
    first = run("init")
    assert first.exit_code == 0 and "ledger ready" in first.stdout
    assert run("init").exit_code == 0
    assert run("projections", "status", "-f", "json").exit_code == 0


def test_init_in_the_current_folder_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SEATLEDGER_DB", raising=False)
    try:
        assert CliRunner().invoke(app, ["init"]).exit_code == 0
    finally:
        dispose_engines()
    assert (tmp_path / "seatledger.db").exists()


def test_verify_passes_an_untouched_ledger(run: Run, example: None) -> None:
    result = run("verify")
    assert result.exit_code == 0 and result.stdout.startswith("ok:")


def test_verify_exits_1_and_names_the_event_that_was_changed(
    run: Run, example: None, db_url: str
) -> None:
    tamper(db_url)
    result = run("verify")
    assert result.exit_code == 1, result.stdout
    assert "hash-mismatch" in result.stdout and "notification 10" in result.stdout
    data = json.loads(run("verify", "--format", "json").stdout)
    assert data["ok"] is False and data["problems"][0]["notification"] == 10


def test_a_digest_kept_elsewhere_verifies_the_ledger_later(
    run: Run, example: None, tmp_path: Path
) -> None:
    kept = tmp_path / "digest.json"
    written = run("digest", "-o", str(kept))
    assert written.exit_code == 0 and str(kept) in written.stdout
    assert json.loads(kept.read_text())["position"] > 0
    checked = run("verify", "--digest", str(kept))
    assert checked.exit_code == 0 and "digest" in checked.stdout
    printed = run("digest")
    assert json.loads(printed.stdout)["root"] == json.loads(kept.read_text())["root"]


def test_verify_refuses_a_digest_file_that_is_not_one(
    run: Run, example: None, tmp_path: Path
) -> None:
    bogus = tmp_path / "digest.json"
    bogus.write_text("{}")
    result = run("verify", "--digest", str(bogus))
    assert result.exit_code == 2 and "digest" in result.stderr


def test_projections_status_catch_up_and_rebuild(run: Run, example: None) -> None:
    status = json.loads(run("projections", "status", "--format", "json").stdout)
    assert set(status) == {"position", "head", "lag"} and status["head"] > 0
    caught = run("projections", "catch-up")
    assert caught.exit_code == 0 and "position" in caught.stdout
    rebuilt = run("projections", "rebuild")
    assert rebuilt.exit_code == 0 and f"position {status['head']}" in rebuilt.stdout
    after = json.loads(run("projections", "status", "--format", "json").stdout)
    assert after == {"position": status["head"], "head": status["head"], "lag": 0}


def test_init_roles_is_refused_on_sqlite(sqlite_url: str) -> None:
    result = CliRunner().invoke(app, ["--db", sqlite_url, "init", "--roles"])
    assert result.exit_code == 2 and "PostgreSQL" in result.stderr


def test_init_roles_creates_a_writer_and_a_reader_on_postgresql(
    pg_url: str, pg_server_url: str
) -> None:
    suffix = secrets.token_hex(4)
    writer, reader = f"sl_w_{suffix}", f"sl_r_{suffix}"
    try:
        result = CliRunner().invoke(
            app, ["--db", pg_url, "init", "--roles", "--writer", writer, "--reader", reader]
        )
        assert result.exit_code == 0, result.stderr
        assert writer in result.stdout and reader in result.stdout
    finally:
        dispose_engines()
        conninfo = make_url(pg_server_url).set(drivername="postgresql").render_as_string(False)
        with psycopg.connect(conninfo, autocommit=True) as conn:
            for role in (writer, reader):
                if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone():
                    conn.execute(f'REASSIGN OWNED BY "{role}" TO CURRENT_USER')
                    conn.execute(f'DROP OWNED BY "{role}"')
                    conn.execute(f'DROP ROLE "{role}"')


def test_a_group_takes_db_before_its_command_too(db_url: str) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["init", "--db", db_url]).exit_code == 0
    status = runner.invoke(app, ["projections", "--db", db_url, "status", "-f", "json"])
    assert status.exit_code == 0 and json.loads(status.stdout)["lag"] == 0
