"""Checks on the database a command is pointed at, before anything touches it."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import make_url

from ledger.domain.errors import NotFoundError


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL (None for other databases)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    return Path(parsed.database)


def missing_folder(url: str) -> str | None:
    """For a SQLite file whose folder does not exist, the message that says so; else None."""
    path = sqlite_path(url)
    if path is None or path.parent.is_dir():
        return None
    return (
        f"the folder {path.parent} does not exist, so the ledger file {path.name} cannot be "
        "there: create the folder first (mkdir -p), or point --db at another place"
    )


def require_ledger(url: str) -> str:
    """Refuse to read a SQLite ledger that does not exist (rather than create an empty one)."""
    path = sqlite_path(url)
    folder = missing_folder(url)
    if folder is not None:
        raise NotFoundError(folder)
    if path is not None and not path.exists():
        raise NotFoundError(
            f"no ledger at {path}: record or import something first, run `seatledger init`, "
            "or point --db at the ledger"
        )
    return url
