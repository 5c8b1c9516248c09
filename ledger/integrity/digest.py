"""The ledger digest: a Merkle root over every aggregate's head, to keep somewhere else."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlalchemy import Connection

from ledger.domain.errors import InputError
from ledger.integrity.log_reader import (
    canonical_id,
    count_rows,
    head_pages,
    ledger_snapshot,
    max_notification_id,
)
from ledger.persistence.schema import TABLES
from ledger.wording import problem

DIGEST_FORMAT = "seatledger/digest@1"
HEX64 = r"^[0-9a-f]{64}$"

Progress = Callable[[int, int], None]


class Head(BaseModel):
    """One aggregate's last event when the digest was taken."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    aggregate: str
    version: int = Field(ge=1)
    hash: str = Field(pattern=HEX64)

    @field_validator("aggregate")
    @classmethod
    def _canonical_uuid(cls, value: str) -> str:
        if str(UUID(value)) != value:
            raise ValueError("must be a lowercase UUID with dashes")
        return value

    def leaf(self) -> bytes:
        """Return this head's Merkle leaf."""
        return leaf_hash(self.aggregate, self.version, self.hash)


def leaf_hash(aggregate: str, version: int, head_hash: str) -> bytes:
    """Return the Merkle leaf of one head: sha256 of "<aggregate>\\n<version>\\n<hash>"."""
    return hashlib.sha256(f"{aggregate}\n{version}\n{head_hash}".encode()).digest()


def merkle_root(leaves: Sequence[bytes]) -> str:
    """Return the hex SHA-256 Merkle root of 32-byte leaves (last node doubled on odd levels)."""
    if not leaves:
        return hashlib.sha256(b"").hexdigest()
    level = list(leaves)
    while len(level) > 1:
        if len(level) % 2:
            level.append(level[-1])
        level = [hashlib.sha256(level[i] + level[i + 1]).digest() for i in range(0, len(level), 2)]
    return level[0].hex()


class Digest(BaseModel):
    """One value for the whole ledger, with the heads it covers and the log position."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    format: Literal["seatledger/digest@1"] = "seatledger/digest@1"
    root: str = Field(pattern=HEX64)
    position: int = Field(ge=0, description="the highest notification id covered")
    events: int = Field(ge=0, description="how many events the ledger held")
    created_at: datetime
    heads: tuple[Head, ...]

    @field_validator("created_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("must carry a UTC offset")
        return value.astimezone(UTC)

    @model_validator(mode="after")
    def _sorted_heads(self) -> Digest:
        # Sorted and unique, so that the root is well defined and no head can be
        # doubled to fake an odd level's duplicated node.
        ids = [head.aggregate for head in self.heads]
        if any(a >= b for a, b in pairwise(ids)):
            raise ValueError("heads must be sorted by aggregate id, each aggregate once")
        return self

    @property
    def aggregates(self) -> int:
        """How many aggregates the digest covers."""
        return len(self.heads)

    def computed_root(self) -> str:
        """Return the Merkle root recomputed from the heads (equal to `root` unless altered)."""
        return merkle_root([head.leaf() for head in self.heads])

    def to_json(self) -> str:
        """Return the digest as an indented JSON document."""
        return self.model_dump_json(indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str, *, source: str = "digest") -> Digest:
        """Parse a digest document, or raise InputError saying what is wrong with it."""
        try:
            return cls.model_validate_json(text)
        except ValidationError as error:
            raise InputError(_explain(error, source)) from None

    def write_digest(self, path: Path | str) -> None:
        """Write the digest to a file (replacing it)."""
        write_digest(self, path)

    @classmethod
    def read_digest(cls, path: Path | str) -> Digest:
        """Read a digest file written by write_digest."""
        return read_digest(path)


def _explain(error: ValidationError, source: str) -> str:
    problems = []
    for item in error.errors()[:3]:
        where = ".".join(str(part) for part in item["loc"]) or "document"
        problems.append(f"{where}: {problem(item)}")
    more = f" (and {error.error_count() - 3} more)" if error.error_count() > 3 else ""
    return f"{source} is not a seatledger digest: " + "; ".join(problems) + more


def write_digest(digest: Digest, path: Path | str) -> None:
    """Write a digest to a file (replacing it)."""
    try:
        Path(path).write_text(digest.to_json(), encoding="utf-8")
    except OSError as error:
        raise InputError(f"cannot write digest file {path}: {error.strerror}") from None


def read_digest(path: Path | str) -> Digest:
    """Read a digest file, or raise InputError naming the file and what is wrong."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise InputError(f"cannot read digest file {path}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise InputError(f"digest file {path} is not UTF-8 text") from None
    return Digest.from_json(text, source=f"digest file {path}")


def _head(aggregate: str, version: int, hash_: str) -> Head:
    try:
        return Head(aggregate=aggregate, version=version, hash=hash_)
    except ValidationError:
        msg = (
            f"cannot digest aggregate {aggregate}: its last event (v{version}) carries "
            f"{hash_!r}, not a SHA-256 hash; run `seatledger verify`"
        )
        raise InputError(msg) from None


def compute_digest(url: str, progress: Progress | None = None) -> Digest:
    """Return the digest of the ledger at `url`: its heads, Merkle root and position."""
    with ledger_snapshot(url) as conn:
        return digest_in(conn, progress)


def digest_in(
    conn: Connection, progress: Progress | None = None, *, at: int | None = None
) -> Digest:
    """Return the digest of the ledger as `conn` (a read snapshot) sees it.

    `at`: the digest the ledger had at that notification id (of its events up to it).
    """
    created_at = datetime.now(UTC).replace(microsecond=0)
    table = conn.dialect.identifier_preparer.quote(TABLES.events.name)
    if at is None:
        position = max_notification_id(conn)
        events = count_rows(conn, TABLES.events.name)
        upto = ""
    else:
        position, upto = at, f" WHERE notification_id <= {int(at)}"
        events = int(conn.exec_driver_sql(f"SELECT count(*) FROM {table}{upto}").scalar_one())
    total = int(
        conn.exec_driver_sql(
            f"SELECT count(DISTINCT originator_id) FROM {table}{upto}"
        ).scalar_one()
    )
    heads: dict[str, Head] = {}
    for page in head_pages(conn, at=at):
        for raw, version, hash_ in page:
            aggregate = canonical_id(conn, raw)
            # Only a duplicated version (a dropped constraint) gives two rows.
            if aggregate not in heads:
                heads[aggregate] = _head(aggregate, version, hash_)
        if progress is not None:
            progress(len(heads), total)
    ordered = tuple(heads[key] for key in sorted(heads))
    return Digest(
        root=merkle_root([head.leaf() for head in ordered]),
        position=position,
        events=events,
        created_at=created_at,
        heads=ordered,
    )
