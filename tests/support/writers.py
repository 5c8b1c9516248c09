"""The concurrent-writers workload: what each writer records, and the writer process itself.

Three talks, four parties at each table, eight writers. Each writer's moves rotate over the
talks. Notes and meetings hold in any order. Proposals hold until the one agreement lands in
their talks. Rejections, withdrawals, acceptances and counter-offers name (or default to)
other writers' proposals, so whether they hold depends on how the writers interleave.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import traceback
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from ledger.domain.errors import SeatledgerError
from ledger.timeline.document import MoveSpec, NegotiationSpec

TALKS = ("table-a", "table-b", "table-c")
PARTIES = ("P1", "P2", "P3", "P4")
SEATS = 100
OPENED_ON = date(2024, 1, 1)
ALWAYS_VALID = frozenset({"note", "meeting"})

_MOVE = TypeAdapter(MoveSpec)


def openings() -> list[NegotiationSpec]:
    """The talks the writers share, opened before they start."""
    return [
        NegotiationSpec(
            id=slug,
            title=f"{slug} seat sharing",
            region=slug,
            seats=SEATS,
            parties=list(PARTIES),
            opened_on=OPENED_ON,
        )
        for slug in TALKS
    ]


def move_id(worker: int, index: int) -> str:
    """Writer `worker`'s move number `index`."""
    return f"w{worker}-{index:04d}"


def agreement_index(count: int) -> int:
    """Writer 0 records the one agreement halfway through, in a counter-offer's slot."""
    return (count // 2) // 10 * 10 + 9


def planned_moves(worker: int, workers: int, count: int) -> list[dict[str, Any]]:
    """The moves one writer will try to record, as timeline-file dictionaries."""
    party = PARTIES[worker % len(PARTIES)]
    other = PARTIES[(worker + 1) % len(PARTIES)]
    moves = []
    for i in range(count):
        slot = i % 10
        move: dict[str, Any] = {
            "id": move_id(worker, i),
            "negotiation": TALKS[(worker + i) % len(TALKS)],
            "on": (OPENED_ON + timedelta(days=1 + i)).isoformat(),
        }
        if worker == 0 and i == agreement_index(count):
            move.update(type="agreement", split={party: 40, other: 40})
        elif slot in (0, 1, 2):
            move.update(type="note", note=f"writer {worker} heard something, move {i}", by=party)
        elif slot == 3:
            move.update(type="acceptance", by=party)  # of: the latest open offer of another
        elif slot in (4, 5):
            move.update(type="meeting", parties=[party, other], venue=f"room {worker}")
        elif slot == 6:
            move.update(type="proposal", by=party, split={party: 10 + i % 7, other: 20})
        elif slot == 7 and i >= 1:
            # The next writer's proposal of the day before, at this same table.
            neighbour = (worker + 1) % workers
            move.update(type="rejection", by=party, of=move_id(neighbour, i - 1))
        elif slot == 8 and i >= 2:
            # Its own proposal of two days ago, which sits at the table before this one.
            move.update(
                type="withdrawal", by=party, of=move_id(worker, i - 2),
                negotiation=TALKS[(worker + i - 2) % len(TALKS)],
            )  # fmt: skip
        else:
            move.update(type="counter_offer", by=party, split={party: 30, other: 10})
        moves.append(move)
    return moves


def record_all(url: str, worker: int, workers: int, count: int, out: Path, barrier: Any) -> None:
    """The writer process: record each planned move through the API, noting each outcome."""
    from ledger.application import NegotiationLedger

    app = NegotiationLedger(url, recorded_by=f"writer-{worker}")
    specs = [_MOVE.validate_python(m) for m in planned_moves(worker, workers, count)]
    barrier.wait(timeout=120)
    outcomes = []
    started = time.perf_counter()
    for spec in specs:
        try:
            outcome = app.record(spec)
            outcomes.append({"id": spec.id, "type": spec.type, "status": outcome.status})
        except SeatledgerError as error:
            outcomes.append(_refusal(spec, error))
        except Exception as error:  # the test fails on these: nothing else may escape
            outcomes.append(
                {"id": spec.id, "type": spec.type, "status": "crashed",
                 "error": type(error).__name__, "message": traceback.format_exc()}
            )  # fmt: skip
    elapsed = time.perf_counter() - started
    out.write_text(json.dumps({"pid": os.getpid(), "seconds": elapsed, "outcomes": outcomes}))


COMMANDS = {
    "note": "note", "meeting": "meet", "proposal": "propose", "counter_offer": "counter",
    "acceptance": "accept", "rejection": "reject", "withdrawal": "withdraw", "agreement": "agree",
}  # fmt: skip
ROOT = Path(__file__).resolve().parents[2]


def cli_args(move: dict[str, Any]) -> list[str]:
    """The `seatledger` arguments that record a planned move."""
    args = [COMMANDS[move["type"]], move["negotiation"], "--on", move["on"], "--id", move["id"]]
    if "by" in move:
        args += ["--by", move["by"]]
    if "split" in move:
        args += ["--split", ",".join(f"{p}={n}" for p, n in move["split"].items())]
    if "parties" in move:
        args += ["--parties", ",".join(move["parties"])]
    for field in ("venue", "note", "of"):
        if field in move:
            args += [f"--{field}", move[field]]
    return args


def record_all_by_cli(
    url: str, worker: int, workers: int, count: int, out: Path, barrier: Any
) -> None:
    """A writer on the command line: its code path in-process, one move in 10 (in 20 at CI
    size) through a real `seatledger` process."""
    from typer.testing import CliRunner

    from scripts.cli import app
    from tests.support.ledgers import scale

    every = 10 if scale() >= 1 else 20
    runner = CliRunner()
    moves = planned_moves(worker, workers, count)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SEATLEDGER_USER": f"writer-{worker}"}
    barrier.wait(timeout=120)
    outcomes = []
    started = time.perf_counter()
    for i, move in enumerate(moves):
        argv = ["--db", url, *cli_args(move)]
        if i % every == every - 1:
            done = subprocess.run(
                [sys.executable, "-m", "scripts.cli", *argv],
                cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False,
            )  # fmt: skip
            code, stdout, stderr = done.returncode, done.stdout, done.stderr
        else:
            result = runner.invoke(app, [*argv, "--as", f"writer-{worker}"])
            code, stdout, stderr = result.exit_code, result.stdout, result.stderr
            if result.exception is not None and not isinstance(result.exception, SystemExit):
                stderr += "".join(traceback.format_exception(result.exception))
        status = {0: "recorded", 2: "refused"}.get(code, "crashed")
        outcomes.append(
            {"id": move["id"], "type": move["type"], "status": status, "code": code,
             "subprocess": i % every == every - 1, "stdout": stdout, "message": stderr}
        )  # fmt: skip
    elapsed = time.perf_counter() - started
    out.write_text(json.dumps({"pid": os.getpid(), "seconds": elapsed, "outcomes": outcomes}))


def _refusal(spec: Any, error: SeatledgerError) -> dict[str, Any]:
    return {
        "id": spec.id,
        "type": spec.type,
        "status": "refused",
        "error": type(error).__name__,
        "message": str(error),
    }
