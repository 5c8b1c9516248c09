"""A password in the database URL never shows in what verify, digest or roles say."""

from __future__ import annotations

import pytest
from eventsourcing.persistence import OperationalError
from sqlalchemy import update
from sqlalchemy.engine import make_url

from ledger.domain.errors import InputError, NotFoundError
from ledger.integrity.verifier import compute_digest, verify
from ledger.persistence.engine import get_engine
from ledger.persistence.roles import create_roles
from ledger.persistence.schema import TABLES
from tests.support.example import record_example

PASSWORD = "hunter2-Zq9"


def _with_password(url: str, search_path: str | None = None) -> str:
    # Trust authentication ignores the password, so the URL still connects.
    parsed = make_url(url).set(password=PASSWORD)
    if search_path is not None:
        parsed = parsed.update_query_dict({"options": f"-csearch_path={search_path}"})
    return parsed.render_as_string(hide_password=False)


def test_password_is_absent_when_verify_reports_problems(pg_url: str) -> None:
    url = _with_password(pg_url)
    record_example(url)
    digest = compute_digest(url)
    with get_engine(pg_url).begin() as conn:
        conn.exec_driver_sql("DROP TRIGGER seatledger_events_no_change ON seatledger_events")
        conn.execute(update(TABLES.events).values(hash="ab" * 32))

    report = verify(url, digest=digest)

    assert not report.ok
    said = [report.summary(), repr(report), digest.to_json()]
    said += [problem.describe() for problem in report.problems]
    assert not [text for text in said if PASSWORD in text]


def test_url_is_masked_when_the_ledger_does_not_exist(pg_url: str) -> None:
    url = _with_password(pg_url, search_path="no_such_schema")

    with pytest.raises(NotFoundError) as missing:
        verify(url)

    assert PASSWORD not in str(missing.value)
    assert "***" in str(missing.value)


def test_password_is_absent_when_the_server_cannot_be_reached() -> None:
    url = f"postgresql://analyst:{PASSWORD}@127.0.0.1:1/ledger"

    with pytest.raises(OperationalError) as refused:
        verify(url)

    assert PASSWORD not in str(refused.value)
    assert PASSWORD not in repr(refused.value.__cause__)


def test_password_is_absent_when_roles_cannot_be_created() -> None:
    url = f"postgresql://analyst:{PASSWORD}@127.0.0.1:1/ledger"

    with pytest.raises(InputError) as refused:
        create_roles(url, password="role-secret-77")

    assert PASSWORD not in str(refused.value)
    assert "role-secret-77" not in str(refused.value)
    assert "***" in str(refused.value)
