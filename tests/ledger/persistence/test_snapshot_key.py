"""The snapshot key is kept outside the database: the variable, else a private per-user file."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from ledger.persistence.snapshots import KEY_ENV, key_path, snapshot_key


def test_key_file_is_made_private_once_when_no_variable_is_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    first = snapshot_key()
    assert key_path() == tmp_path / "seatledger" / "snapshot-key"
    assert stat.S_IMODE(key_path().stat().st_mode) == 0o600
    assert len(first) == 64 and snapshot_key() == first  # made once, then read


def test_variable_is_the_key_when_it_is_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.setenv(KEY_ENV, "shared by the writers")
    assert snapshot_key() == b"shared by the writers"
    assert not key_path().exists()
