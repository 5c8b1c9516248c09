"""A read-only role still gets current answers when the views lag (PostgreSQL roles)."""

from __future__ import annotations

import secrets
from datetime import date

from ledger.application import NegotiationLedger
from ledger.persistence.roles import create_roles
from ledger.timeline.document import NegotiationSpec, ProposalSpec
from projections.api import LedgerViews
from tests.ledger.persistence.test_roles import _as, _drop_roles
from tests.support.example import record_example


def test_reader_sees_a_move_the_views_have_not_applied_yet(pg_url: str, pg_server_url: str) -> None:
    record_example(pg_url, recorded_by="owner")
    LedgerViews(pg_url).catch_up()
    suffix = secrets.token_hex(4)
    writer, reader = f"sl_writer_{suffix}", f"sl_reader_{suffix}"
    try:
        create_roles(pg_url, writer=writer, reader=reader)
        NegotiationLedger(_as(pg_url, writer), recorded_by="staff").open(
            NegotiationSpec(
                id="kerala", seats=20, parties=["INC", "CPIM"], opened_on=date(2024, 2, 1)
            )
        )
        NegotiationLedger(_as(pg_url, writer), recorded_by="staff").record(
            ProposalSpec(
                type="proposal",
                negotiation="kerala",
                on=date(2024, 2, 2),
                by="INC",
                split={"INC": 16, "CPIM": 4},
            )
        )
        as_reader = LedgerViews(_as(pg_url, reader))
        assert as_reader.status().lag > 0  # the reader could not write the views...
        seen = as_reader.split("kerala")  # ...but answers from the log itself
        assert (seen.status, seen.split, seen.by) == ("negotiating", {"INC": 16, "CPIM": 4}, "INC")
        assert [v.to_json() for v in as_reader.splits()] == [
            v.to_json() for v in LedgerViews(pg_url).splits()
        ]
    finally:
        _drop_roles(pg_server_url, writer, reader)
