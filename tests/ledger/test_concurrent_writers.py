"""Eight writer processes record into the same talks at once: nothing lost, nothing twice."""

from __future__ import annotations

import json
import multiprocessing
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from ledger.application import NegotiationLedger
from ledger.domain import errors
from ledger.domain.folding import as_known
from ledger.domain.negotiation import negotiation_id
from projections.api import LedgerViews
from projections.reference import replay_history, replay_splits
from tests.support.ledgers import check_move_index, check_verified, log_position, scaled
from tests.support.writers import (
    ALWAYS_VALID,
    OPENED_ON,
    TALKS,
    openings,
    planned_moves,
    record_all,
    record_all_by_cli,
)

pytestmark = pytest.mark.reliability  # sized by SEATLEDGER_RELIABILITY_SCALE

WRITERS = 8
MOVES_EACH = scaled(200, minimum=20)
CONFLICT = "other writers kept changing the same talks"
RULE_ERRORS = {
    name for name, cls in vars(errors).items()
    if isinstance(cls, type) and issubclass(cls, errors.RuleError)
}  # fmt: skip


def open_shared_talks(url: str) -> None:
    app = NegotiationLedger(url, recorded_by="setup")
    for spec in openings():
        app.open(spec)


def run_writers(url: str, tmp_path: Path, target: Any, count: int) -> list[dict[str, Any]]:
    """Start the writers in fresh interpreters, release them together, collect outcomes."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(WRITERS)
    processes = [
        context.Process(
            target=target, args=(url, w, WRITERS, count, tmp_path / f"writer-{w}.json", barrier)
        )
        for w in range(WRITERS)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=1800)
    for w, process in enumerate(processes):
        if process.is_alive():
            process.kill()
        assert process.exitcode == 0, f"writer {w} ended with exit code {process.exitcode}"
    return [json.loads((tmp_path / f"writer-{w}.json").read_text()) for w in range(WRITERS)]


def kind_of_refusal(outcome: dict[str, Any]) -> str:
    """'conflict' or 'rule', after checking that the refusal explains itself."""
    message = outcome["message"]
    if "error" in outcome:  # through the API: the exception itself
        if outcome["error"] == "ConcurrencyError":
            assert CONFLICT in message
            return "conflict"
        assert outcome["error"] in RULE_ERRORS, outcome
    else:  # through the command line: exit 2, one or two lines on stderr
        assert outcome["code"] == 2 and message.startswith("error: "), outcome
        assert "Traceback" not in message and 1 <= len(message.strip().splitlines()) <= 2
        if CONFLICT in message:
            return "conflict"
    assert outcome["id"] in message, f"a refusal that does not name its move: {outcome}"
    return "rule"


def check_outcomes(url: str, results: list[dict[str, Any]], count: int) -> Counter[str]:
    """Every accepted move stored once, every refused move absent, every refusal explained."""
    planned = {m["id"]: m for w in range(WRITERS) for m in planned_moves(w, WRITERS, count)}
    outcomes = [o for r in results for o in r["outcomes"]]
    assert len(outcomes) == len(planned) == WRITERS * count
    crashed = [o for o in outcomes if o["status"] == "crashed"]
    assert not crashed, crashed[0]["message"]
    for o in outcomes:
        if o["status"] == "recorded" and "stdout" in o:  # the command line prints the id
            assert o["stdout"].splitlines()[:1] == [o["id"]] and "recorded;" in o["stdout"], o

    recorded = {o["id"] for o in outcomes if o["status"] == "recorded"}
    refusals = {o["id"]: kind_of_refusal(o) for o in outcomes if o["status"] == "refused"}
    assert len(recorded) + len(refusals) == len(outcomes)
    wrongly = [
        i for i, why in refusals.items() if why == "rule" and planned[i]["type"] in ALWAYS_VALID
    ]
    assert not wrongly, f"notes and meetings hold in any order, yet: {wrongly[:3]}"
    assert "rule" in refusals.values(), "some moves should depend on the order of writers"

    openings_ids = {f"{slug}/opened" for slug in TALKS}
    indexed = check_move_index(url)
    assert indexed == recorded | openings_ids, (
        f"lost: {sorted(recorded - indexed)[:5]}; "
        f"stored though refused: {sorted(indexed - recorded - openings_ids)[:5]}"
    )
    position = log_position(url)
    assert (position.events, position.moves) == (
        len(recorded) + len(TALKS) + 1,  # + the party roster's registration
        len(recorded) + len(TALKS),
    )
    app = NegotiationLedger(url, recorded_by="checker")
    for slug in TALKS:
        mine = {m for m in recorded if planned[m]["negotiation"] == slug}
        loaded = app.negotiation(slug)  # through the latest snapshot, if any
        replayed = as_known(app.events.get(negotiation_id(slug)), None)
        assert set(loaded.recorded) == mine | {f"{slug}/opened"}
        assert loaded.version == replayed.version == len(mine) + 1
        assert loaded.state == replayed.state
        assert loaded.recorded == replayed.recorded
    return Counter(["recorded"] * len(recorded) + list(refusals.values()))


def check_views(url: str, count: int) -> None:
    """The projections (caught up by the first read) answer as a replay of the log does."""
    views = LedgerViews(url)
    for days in (None, count // 4, count // 2 + 1, count):
        as_of = None if days is None else OPENED_ON + timedelta(days=days)
        assert views.splits(as_of) == replay_splits(url, as_of), f"as of {as_of}"
    for slug in TALKS:
        assert views.history(slug) == replay_history(url, slug)


def check_all(url: str, results: list[dict[str, Any]], label: str) -> None:
    tally = check_outcomes(url, results, MOVES_EACH)
    check_views(url, MOVES_EACH)
    check_verified(url)
    seconds = max(r["seconds"] for r in results)
    print(
        f"\n{label}: {WRITERS} writers x {MOVES_EACH} moves in {seconds:.1f}s "
        f"({WRITERS * MOVES_EACH / seconds:.0f} moves/s): {dict(tally)}"
    )


@pytest.mark.slow
def test_every_accepted_move_is_stored_once_when_eight_api_writers_record_at_once(
    db_url: str, tmp_path: Path
) -> None:
    open_shared_talks(db_url)
    results = run_writers(db_url, tmp_path, record_all, MOVES_EACH)
    check_all(db_url, results, "API")


@pytest.mark.slow
def test_every_accepted_move_is_stored_once_when_eight_cli_writers_record_at_once(
    db_url: str, tmp_path: Path
) -> None:
    open_shared_talks(db_url)
    results = run_writers(db_url, tmp_path, record_all_by_cli, MOVES_EACH)
    check_all(db_url, results, "command line")
