"""The digest's Merkle root and its file, without a database."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ledger.domain.errors import InputError
from ledger.integrity.verifier import Digest, Head, merkle_root, read_digest, write_digest

UP = "b728b1bc-5378-596b-9ac8-433b287c61f1"
DELHI = "c0a0b6f4-9a0e-5b53-8b9e-0d6a4f7b7e21"
ROSTER = "d38ea961-c097-5533-b046-526ec0bd83ff"


def sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def head(aggregate: str, version: int, fill: str) -> Head:
    return Head(aggregate=aggregate, version=version, hash=fill * 64)


def digest_of(*heads: Head) -> Digest:
    return Digest(
        root=merkle_root([h.leaf() for h in heads]),
        position=68,
        events=68,
        created_at=datetime(2024, 6, 4, 12, 0, tzinfo=UTC),
        heads=heads,
    )


def test_leaf_is_the_hash_of_id_version_and_head_hash_when_computed() -> None:
    up = head(UP, 10, "a")

    assert up.leaf() == sha(f"{UP}\n10\n{'a' * 64}".encode())


def test_root_is_the_hash_of_nothing_when_the_ledger_is_empty() -> None:
    assert merkle_root([]) == hashlib.sha256(b"").hexdigest()


def test_root_is_the_leaf_itself_when_there_is_one_aggregate() -> None:
    assert merkle_root([sha(b"up")]) == sha(b"up").hex()


def test_last_node_is_paired_with_itself_when_a_level_is_odd() -> None:
    a, b, c = sha(b"up"), sha(b"delhi"), sha(b"roster")

    expected = sha(sha(a + b) + sha(c + c))

    assert merkle_root([a, b, c]) == expected.hex()


def test_digest_reads_back_equal_when_written_to_a_file(tmp_path: Path) -> None:
    digest = digest_of(head(UP, 10, "a"), head(DELHI, 7, "b"), head(ROSTER, 1, "c"))
    path = tmp_path / "digest.json"

    write_digest(digest, path)

    assert read_digest(path) == digest
    assert Digest.from_json(digest.to_json()).computed_root() == digest.root
    assert json.loads(path.read_text())["heads"][0] == {
        "aggregate": UP,
        "version": 10,
        "hash": "a" * 64,
    }


def test_input_error_names_the_file_when_it_is_not_json(tmp_path: Path) -> None:
    path = tmp_path / "digest.json"
    path.write_text("root = 1\n")

    with pytest.raises(InputError, match=r"digest file .*digest\.json is not a seatledger digest"):
        read_digest(path)


def test_input_error_names_the_field_when_a_head_hash_is_not_hex() -> None:
    document = json.loads(digest_of(head(UP, 10, "a")).to_json())
    document["heads"][0]["hash"] = "not-a-hash"

    with pytest.raises(InputError, match=r"heads\.0\.hash"):
        Digest.from_json(json.dumps(document))


def test_input_error_when_heads_are_not_sorted_by_aggregate() -> None:
    document = json.loads(digest_of(head(UP, 10, "a"), head(DELHI, 7, "b")).to_json())
    document["heads"].reverse()

    with pytest.raises(InputError, match="sorted by aggregate id"):
        Digest.from_json(json.dumps(document))


def test_input_error_when_a_head_is_given_twice_to_fake_a_doubled_node() -> None:
    # Three heads pair the last with itself: the same root as four heads ending in it twice.
    three = digest_of(head(UP, 10, "a"), head(DELHI, 7, "b"), head(ROSTER, 3, "c"))
    document = json.loads(three.to_json())
    document["heads"].append(document["heads"][-1])
    leaves = [h.leaf() for h in (*three.heads, three.heads[-1])]
    assert merkle_root(leaves) == three.root

    with pytest.raises(InputError, match="each aggregate once"):
        Digest.from_json(json.dumps(document))


def test_input_error_when_the_digest_format_is_unknown() -> None:
    document = json.loads(digest_of(head(UP, 10, "a")).to_json())
    document["format"] = "qldb/digest"

    with pytest.raises(InputError, match="format"):
        Digest.from_json(json.dumps(document))


def test_input_error_names_the_file_when_it_does_not_exist(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"cannot read digest file .*missing\.json"):
        read_digest(tmp_path / "missing.json")
