"""The re-check snippet in docs/integrity.md works on a real ledger, with nothing of seatledger."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

from sqlalchemy import update

from ledger.application import NegotiationLedger
from ledger.domain.negotiation import negotiation_id
from ledger.persistence.engine import get_engine
from ledger.persistence.schema import TABLES
from ledger.timeline.importer import import_timeline
from ledger.timeline.parsing import read_timeline
from tests.support.example import EXAMPLE

ROOT = Path(__file__).resolve().parents[3]
DOC = ROOT / "docs" / "integrity.md"


def run_snippet(database: Path) -> list[str]:
    """Run the documented snippet against a SQLite file; return what it printed."""
    found = re.search(r"```python\n(import hashlib, sqlite3.*?)```", DOC.read_text(), re.S)
    assert found is not None, "the re-check snippet is missing from docs/integrity.md"
    code = found.group(1).replace('"seatledger.db"', repr(str(database)))
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, str(DOC), "exec"), {})
    return printed.getvalue().splitlines()


def test_documented_snippet_says_ok_for_every_event_when_the_ledger_is_untouched(
    sqlite_url: str,
) -> None:
    import_timeline(NegotiationLedger(sqlite_url), read_timeline(EXAMPLE))

    lines = run_snippet(Path(sqlite_url.removeprefix("sqlite:///")))

    assert len(lines) == 68
    assert all(line.endswith(" ok") for line in lines)


def test_documented_snippet_says_broken_when_a_seat_number_was_edited(sqlite_url: str) -> None:
    import_timeline(NegotiationLedger(sqlite_url), read_timeline(EXAMPLE))
    up = negotiation_id("uttar-pradesh")
    events = TABLES.events
    with get_engine(sqlite_url).begin() as conn:
        conn.exec_driver_sql("DROP TRIGGER seatledger_events_no_update")
        at_agreement = (events.c.originator_id == up) & (events.c.originator_version == 9)
        state = conn.execute(events.select().where(at_agreement)).one().state
        edited = state.replace(b'"INC":17', b'"INC":27')
        conn.execute(update(events).where(at_agreement).values(state=edited))

    lines = run_snippet(Path(sqlite_url.removeprefix("sqlite:///")))

    assert [line for line in lines if not line.endswith(" ok")] == [f"{up} 9 BROKEN"]
