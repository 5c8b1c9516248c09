"""The team fixture: a PostgreSQL ledger whose writer, projector and reader roles are real."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests import pg
from tests.e2e.test_cli_subprocess import EXAMPLE, seatledger
from tests.integration.test_roles import _as, _drop_roles


@dataclass(frozen=True)
class Team:
    """A ledger set up with `init --roles`, and a URL to connect as each of its roles."""

    owner: str
    writer: str
    projector: str
    reader: str
    names: dict[str, str]
    home: Path

    def run(self, role: str, *args: str) -> Any:
        """Run seatledger as `role` (owner, writer, projector, reader); exit 0 expected."""
        done = seatledger("--db", getattr(self, role), *args, cwd=self.home)
        assert done.returncode == 0, (role, args, done.stdout, done.stderr)
        return done


@pytest.fixture(scope="module")
def team(pg_server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Team]:
    """The example imported by the writer into a ledger whose roles `init --roles` made."""
    schema, owner = pg.create_test_schema(pg_server_url)
    suffix = secrets.token_hex(4)
    names = {role: f"sl_{role}_{suffix}" for role in ("writer", "projector", "reader")}
    home = tmp_path_factory.mktemp("team")
    try:
        made = seatledger(
            "--db", owner, "init", "--roles", "--writer", names["writer"],
            "--projector", names["projector"], "--reader", names["reader"], cwd=home,
        )  # fmt: skip
        assert made.returncode == 0, made.stderr
        assert all(name in made.stdout for name in names.values())
        urls = {role: _as(owner, name) for role, name in names.items()}
        found = Team(owner, urls["writer"], urls["projector"], urls["reader"], names, home)
        found.run("writer", "import", str(EXAMPLE))
        yield found
    finally:
        _drop_roles(pg_server_url, *names.values())
        pg.drop_test_schema(pg_server_url, schema)
