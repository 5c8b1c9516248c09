"""The benchmark generator makes valid ledgers: every move imports (no timings here)."""

from __future__ import annotations

from pathlib import Path

from benchmarks.generator import generate
from benchmarks.ledger_files import write
from ledger.application import NegotiationLedger
from ledger.persistence.engine import dispose_engines
from ledger.timeline.importer import import_timeline
from ledger.timeline.parsing import read_timeline


def test_generated_ledger_imports_whole_when_written_as_one_file(tmp_path: Path) -> None:
    ledger = generate(200, seed=3)
    (path,) = write(ledger, tmp_path / "files", chunk_events=None)
    app = NegotiationLedger(f"sqlite:///{tmp_path / 'bench.db'}", recorded_by="bench")
    try:
        report = import_timeline(app, read_timeline(path))
    finally:
        dispose_engines()
    assert report.events == ledger.events
    assert 180 <= ledger.events <= 220


def test_generated_ledger_imports_when_cut_into_files_with_late_facts(tmp_path: Path) -> None:
    ledger = generate(600, seed=5)
    paths = write(ledger, tmp_path / "files", chunk_events=200)
    app = NegotiationLedger(f"sqlite:///{tmp_path / 'bench.db'}", recorded_by="bench")
    try:
        events = sum(import_timeline(app, read_timeline(p)).events for p in paths)
    finally:
        dispose_engines()
    assert len(paths) >= 3
    assert events == ledger.events


def test_same_seed_generates_the_same_files(tmp_path: Path) -> None:
    first = write(generate(300, seed=9), tmp_path / "a", chunk_events=None)
    second = write(generate(300, seed=9), tmp_path / "b", chunk_events=None)
    assert first[0].read_bytes() == second[0].read_bytes()
