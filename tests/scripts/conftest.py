"""Shared end-to-end fixtures: the team (a PostgreSQL ledger whose writer, projector and reader
roles are real), and a check of every command's output for words a user must never read."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from tests.ledger.persistence.test_roles import _as, _drop_roles
from tests.scripts.test_subprocess import EXAMPLE, seatledger
from tests.support import pg


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
    """The example imported by the writer into a ledger whose roles `init --roles` made,
    and Goa recorded seat by seat."""
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
        # One seat-level negotiation, so that `seats` and `seat` have constituencies to read.
        found.run(
            "writer", "open", "goa", "--title", "Goa", "--region", "Goa", "--seats", "2",
            "--parties", "INC,AAP", "--on", "2024-02-01", "--constituencies", "North Goa;South Goa",
        )  # fmt: skip
        split = "INC=North Goa;South Goa"
        found.run("writer", "agree", "goa", "--split", split, "--on", "2024-02-24")
        yield found
    finally:
        _drop_roles(pg_server_url, *names.values())
        pg.drop_test_schema(pg_server_url, schema)


# pydantic's own phrases and Python's: a message says what is wrong in the user's words.
FORBIDDEN = (
    "Input tag",
    "Extra inputs",
    "pydantic",
    "Traceback (most recent call last)",
    "Input should be",
    "Field required",
    "Value error,",
    "validation error",
    "errors.pydantic.dev",
)


def forbidden_in(text: str) -> list[str]:
    """The forbidden phrases found in `text` (compared case-insensitively)."""
    folded = text.casefold()
    return [phrase for phrase in FORBIDDEN if phrase.casefold() in folded]


@pytest.fixture(autouse=True)
def no_library_words_in_messages(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Wrap CliRunner.invoke: any output of any command (but --debug) is checked."""
    invoke = CliRunner.invoke

    def checked(self: CliRunner, cli: Any, args: Any = None, *rest: Any, **kw: Any) -> Result:
        result = invoke(self, cli, args, *rest, **kw)
        if "--debug" not in [str(a) for a in (args or [])]:
            said = result.stdout + (result.stderr or "")
            found = forbidden_in(said)
            assert not found, f"{found} in the output of {args}: {said[-600:]}"
        return result

    monkeypatch.setattr(CliRunner, "invoke", checked)
    yield
