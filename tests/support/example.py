"""The bundled example timeline (the INDIA bloc's 2024 talks), recorded into a ledger."""

from __future__ import annotations

from pathlib import Path

from ledger.application import NegotiationLedger
from ledger.timeline.importer import import_timeline
from ledger.timeline.parsing import read_timeline

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "india-bloc-2024.yaml"
"""7 talks, 45 moves: 68 events in 9 aggregates once recorded."""
SEATS_EXAMPLE = ROOT / "examples" / "india-bloc-2024-seats.yaml"
"""The same talks and nine more, seat by seat (timeline@2): the Tamil Nadu pacts, Bhadohi."""


def record_example(url: str, recorded_by: str = "analyst", example: Path = EXAMPLE) -> str:
    """Import the bundled example (or `example`) into the ledger at `url`; return `url`."""
    import_timeline(NegotiationLedger(url, recorded_by=recorded_by), read_timeline(example))
    return url
