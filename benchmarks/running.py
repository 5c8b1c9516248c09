"""Running the benchmarks: one measurement a subprocess, one backend's sizes in turn.

`worker` runs a measurement of `benchmarks/worker.py` in a fresh interpreter; `Ledgers`
keeps the generated timeline files on disk; `Runner` takes one backend through every size:
generate (or reuse) the ledger, import it, then measure each figure its subclass registers
(`suite.py`), a failure a row of its own rather than the end of the run.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from benchmarks import generator
from benchmarks.cast import SPAN_DAYS, START
from benchmarks.databases import Databases
from benchmarks.ledger_files import write
from benchmarks.report import Figure

ROOT = Path(__file__).resolve().parent.parent

# A figure measured on an imported ledger: measure(runner, size, url, meta).
Measure = Callable[[Any, int, str, dict[str, Any]], None]


class WorkerError(RuntimeError):
    """A measurement failed in its subprocess."""


class Unavailable(WorkerError):
    """What a figure measures is not in this checkout (a module not yet written)."""


def worker(task: str, args: dict[str, Any], timeout: float = 7200) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter and return what it printed."""
    command = [sys.executable, "-m", "benchmarks.worker", task, json.dumps(args)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-1:] or ["(no message)"]
        error = Unavailable if "ModuleNotFoundError" in tail[0] else WorkerError
        raise error(f"{task}: {tail[0][:200]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@dataclass
class Options:
    sizes: list[int]
    backends: list[str]
    quick: bool
    runs: int | None
    chunk: int
    cuts: list[str]  # the first: the ledger every figure is measured on
    seed: int
    cache: Path
    workdir: Path
    only: set[str]


@dataclass
class Ledgers:
    """Generated timeline files, cached on disk by size, seed, chunk and generator source."""

    options: Options
    meta: dict[int, dict[str, Any]] = field(default_factory=dict)

    def files(self, size: int, cut: str | None = None) -> dict[str, Any]:
        o = self.options
        cut = cut or o.cuts[0]
        tag = generator.source_digest()
        folder = o.cache / f"{size}-seed{o.seed}-chunk{o.chunk}-{cut}-{tag}"
        meta_path = folder / "meta.json"
        if not meta_path.exists():
            started = time.perf_counter()
            ledger = generator.generate(size, seed=o.seed)
            paths = write(ledger, folder, o.chunk, cut)
            meta = {
                "events": ledger.events,
                "moves": len(ledger.moves),
                "negotiations": len(ledger.header["negotiations"]),
                "files": [str(p) for p in paths],
                "bytes": sum(p.stat().st_size for p in paths),
                "first_day": START.isoformat(),
                "days": SPAN_DAYS,
                "generated_in_s": round(time.perf_counter() - started, 1),
                "cut": cut,
            }
            meta_path.write_text(json.dumps(meta, indent=1))
        meta = json.loads(meta_path.read_text())
        meta.setdefault("cut", cut)
        if cut == o.cuts[0]:
            self.meta[size] = meta
        return dict(meta)


def median(values: list[float]) -> float:
    """The median (of a figure's runs)."""
    return statistics.median(values)


class Runner:
    """Takes one backend through every size; collects Figure rows and failures.

    A subclass registers its figures in `each_ledger` and says how a ledger is imported.
    """

    # The figures measured on each imported ledger, in order: (--only key, name, measure).
    each_ledger: ClassVar[tuple[tuple[str, str, Measure], ...]] = ()

    def __init__(self, options: Options, backend: str, dbs: Databases, ledgers: Ledgers) -> None:
        self.o = options
        self.backend = backend
        self.dbs = dbs
        self.ledgers = ledgers
        self.figures: list[Figure] = []
        self.failed: list[str] = []
        # The smallest ledger, kept until the end: bigger ones are queried in turn with it.
        self.reference: tuple[int, str] | None = None
        self.memory: dict[str, tuple[int, float]] = {}
        # Events recorded by each file of the last import: the executemany baseline's cut.
        self.per_file: list[int] = []
        # Each import's (ratio to executemany, events/s) by (size, cut; "" for one file):
        # issue 13's growth.
        self.import_ratios: dict[tuple[int, str], tuple[float, float]] = {}

    def log(self, text: str) -> None:
        print(f"[{self.backend}] {text}", file=sys.stderr, flush=True)

    def runs(self, size: int) -> int:
        """How many times each figure is measured at this size (the median is reported)."""
        if self.o.runs is not None:
            return self.o.runs
        return 1 if self.o.quick or size >= 1_000_000 else 3

    def guarded(self, name: str, size: int | None, fn: Any, *args: Any) -> None:
        """Measure `name` by fn(*args); if it cannot be measured, a row that says why."""
        try:
            fn(*args)
        except Unavailable as error:
            self.log(f"{name}: not available: {error}")
            self.figures.append(
                Figure(
                    name,
                    self.backend,
                    size,
                    "n/a",
                    "",
                    None,
                    "",
                    None,
                    f"not in this checkout: {error}",
                )
            )
        except (WorkerError, subprocess.TimeoutExpired) as error:
            self.failure(name, name, size, error)

    def failure(self, label: str, name: str, size: int | None, error: Exception) -> None:
        """A measurement that failed: logged, listed, and a row saying so."""
        self.log(f"{label}: FAILED: {error}")
        self.failed.append(f"{self.backend} {size}: {label}: {error}")
        self.figures.append(
            Figure(name, self.backend, size, "error", "", None, "", None, str(error)[:160])
        )

    # -- per size -------------------------------------------------------------

    def size(self, size: int) -> None:
        """Generate (or reuse) the ledger of this size, import it, measure its figures."""
        meta = self.ledgers.files(size)
        self.log(
            f"{size:,} events requested: {meta['events']:,} events, {meta['moves']:,} moves "
            f"in {len(meta['files'])} file(s), {meta['negotiations']} negotiations"
        )
        url: str | None = None
        try:
            url = self.imports(size, meta)
            if url is None:
                return
            for key, name, measure in self.each_ledger:
                if self.wants(key):
                    self.guarded(name, size, measure, self, size, url, meta)
            if len(meta["files"]) > 1 and self.wants("import"):
                for cut in self.o.cuts[1:]:  # the import only, of the same season cut otherwise
                    other = self.imports(size, self.ledgers.files(size, cut))
                    if other is not None:
                        self.dbs.drop(other)
        finally:
            if url is not None and self.reference is None and self.wants("query"):
                self.reference = (size, url)
            elif url is not None:
                self.dbs.drop(url)

    def close(self) -> None:
        """Drop the reference ledger."""
        if self.reference is not None:
            self.dbs.drop(self.reference[1])
            self.reference = None

    def wants(self, figure: str) -> bool:
        return not self.o.only or figure in self.o.only

    def imports(self, size: int, meta: dict[str, Any]) -> str | None:
        """Import the ledger of this size (measuring it); its URL, or None if that failed."""
        raise NotImplementedError
