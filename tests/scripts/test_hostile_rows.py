"""Rows written behind seatledger's back (any bytes in topic and state, triggers dropped as an
attacker with the database's file or owner role would) never make a command crash: reads
refuse with exit 2 naming the row, and `verify` lists it with exit 1."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from typer.testing import CliRunner

from ledger.application import NegotiationLedger
from ledger.persistence.engine import get_engine, write_transaction
from ledger.timeline.importer import import_timeline
from ledger.timeline.parsing import parse_timeline
from projections.api import LedgerViews
from scripts.cli import app as cli
from tests.scripts.test_hostile_output import RAW
from tests.support.hostile import as_yaml, base
from tests.support.ledgers import scaled

pytestmark = pytest.mark.reliability  # sized by SEATLEDGER_RELIABILITY_SCALE

READS = (
    ["split", "seed-up"], ["splits"], ["rollup", "-f", "json"], ["history"],
    ["history", "seed-up", "-f", "csv"], ["replay"], ["replay", "--view", "history"],
    ["report", "--all", "-f", "json", "-o", "-"], ["export"], ["parties", "list"],
    ["projections", "status"], ["digest"], ["diff", "--from", "2024-01-01"],
    ["report", "seed-up", "-f", "html", "-o", "-"],
    ["note", "seed-up", "--on", "2024-03-01", "--note", "a write loads the talks too"],
)  # fmt: skip
TOPICS = st.one_of(
    st.binary(max_size=60).map(lambda b: b.decode("utf-8", "replace")),
    st.text(max_size=60),
    st.sampled_from(
        [
            "ledger.domain.events:ProposalMade", "ledger.domain.events:Nope",
            "ledger.domain.alliance:AllianceFormed", "ledger.persistence.mapper:canonical_json",
            "ledger.persistence.roles:create_roles", "this:s", "os:system", "builtins:eval",
            "ledger.domain.snapshot:StorySnapshot", "[/bold]\x1b[31m:x",
        ]
    ),
)  # fmt: skip
STATES = st.one_of(
    st.binary(max_size=200),
    st.sampled_from([b"{}", b"[]", b"null", b'{"move_id": 5}', b"{" * 5000, b'"\xff"']),
    st.dictionaries(st.text(max_size=10), st.text(max_size=10) | st.integers()).map(
        lambda d: repr(d).replace("'", '"').encode()
    ),
)
ROWS = settings(  # each example runs every command above: 15 examples a database in CI
    max_examples=scaled(75, minimum=10),
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # shrinking 15 commands takes ages
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def url(db_url: str) -> str:
    """The small base ledger, views caught up, and the events table open to edits."""
    app = NegotiationLedger(db_url, recorded_by="fuzzer")
    import_timeline(app, parse_timeline(as_yaml(base("seed")).decode()))
    LedgerViews(db_url).catch_up()
    return db_url


def insert_row(url: str, aggregate: uuid.UUID, version: int, topic: str, state: bytes) -> None:
    """Append a row as an attacker would: straight into the table, no hash, no move index."""
    with write_transaction(get_engine(url)) as conn:
        postgres = conn.dialect.name == "postgresql"
        conn.execute(
            text(
                "INSERT INTO seatledger_events (originator_id, originator_version, topic, state,"
                " hash) VALUES (:id, :version, :topic, :state, :hash)"
            ),
            {"id": str(aggregate) if postgres else aggregate.hex, "version": version,
             "topic": topic.replace("\x00", "") if postgres else topic, "state": state,
             "hash": "0" * 64},
        )  # fmt: skip


def delete_row(url: str, aggregate: uuid.UUID, version: int) -> None:
    """Take the forged row out again (each command puts the triggers back first)."""
    with write_transaction(get_engine(url)) as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("DROP TRIGGER seatledger_events_no_change ON seatledger_events"))
            key: str = str(aggregate)
        else:
            conn.execute(text("DROP TRIGGER seatledger_events_no_delete"))
            key = aggregate.hex
        conn.execute(
            text(
                "DELETE FROM seatledger_events"
                " WHERE originator_id = :id AND originator_version = :v"
            ),
            {"id": key, "v": version},
        )


def existing_aggregate(url: str) -> tuple[uuid.UUID, int]:
    """The seed talks' aggregate and its next version (a junk row extends a real chain)."""
    from ledger.domain.negotiation import negotiation_id

    key = negotiation_id("seed-up")
    app = NegotiationLedger(url)
    return key, len(app.recorder.select_events(key)) + 1


def check_every_read(url: str, junk: str) -> None:
    for args in READS:
        result = CliRunner().invoke(cli, ["--db", url, *args])
        assert result.exit_code in (0, 2), (args, result.exit_code, result.output[-1500:])
        output = result.stdout + result.stderr
        assert RAW.search(output) is None, (args, output[-1500:])
        if result.exit_code == 2:  # the row is named: its aggregate and version at least
            assert "cannot be read" in result.stderr and "version" in result.stderr, args
    verified = CliRunner().invoke(cli, ["--db", url, "verify"])
    assert verified.exit_code == 1, (junk, verified.output[-1500:])
    assert RAW.search(verified.stdout + verified.stderr) is None


@ROWS
@given(topic=TOPICS, state=STATES, extend=st.booleans())
def test_no_command_crashes_when_a_forged_row_holds_any_topic_and_state(
    url: str, topic: str, state: bytes, extend: bool
) -> None:
    if extend:
        aggregate, version = existing_aggregate(url)
    else:
        aggregate, version = uuid.uuid4(), 1
    insert_row(url, aggregate, version, topic, state)
    try:
        check_every_read(url, f"{topic!r} {state[:60]!r}")
    finally:
        delete_row(url, aggregate, version)


def test_reads_name_the_row_when_one_cannot_be_decoded(url: str) -> None:
    aggregate = uuid.uuid4()
    insert_row(url, aggregate, 1, "this:s", b"\xff junk")
    result = CliRunner().invoke(cli, ["--db", url, "splits"])
    assert result.exit_code == 2
    assert str(aggregate) in result.stderr and "version 1" in result.stderr
    assert "notification" in result.stderr and "seatledger verify" in result.stderr
    assert "Beautiful is better" not in result.output  # the topic's module was never imported
