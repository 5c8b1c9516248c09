"""The figures of issue 7, each against a baseline measured in the same run."""

from __future__ import annotations

import hashlib
import json
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import generator
from benchmarks.databases import Databases
from benchmarks.report import Figure, RecorderFigure, rate

ROOT = Path(__file__).resolve().parent.parent
IMPORT_TARGET = {"sqlite": 0.4, "postgres": 0.25}
MEMORY_LIMIT_MB = 500


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
    cut: str
    seed: int
    cache: Path
    workdir: Path
    only: set[str]


@dataclass
class Ledgers:
    """Generated timeline files, cached on disk by size, seed, chunk and generator source."""

    options: Options
    meta: dict[int, dict[str, Any]] = field(default_factory=dict)

    def files(self, size: int) -> dict[str, Any]:
        source = Path(generator.__file__).read_bytes()
        tag = hashlib.sha256(source).hexdigest()[:8]
        o = self.options
        folder = o.cache / f"{size}-seed{o.seed}-chunk{o.chunk}-{o.cut}-{tag}"
        meta_path = folder / "meta.json"
        if not meta_path.exists():
            started = time.perf_counter()
            ledger = generator.generate(size, seed=o.seed)
            paths = generator.write(ledger, folder, o.chunk, o.cut)
            meta = {
                "events": ledger.events,
                "moves": len(ledger.moves),
                "negotiations": len(ledger.header["negotiations"]),
                "files": [str(p) for p in paths],
                "bytes": sum(p.stat().st_size for p in paths),
                "first_day": generator.START.isoformat(),
                "days": generator.SPAN_DAYS,
                "generated_in_s": round(time.perf_counter() - started, 1),
            }
            meta_path.write_text(json.dumps(meta, indent=1))
        meta = json.loads(meta_path.read_text())
        self.meta[size] = meta
        return dict(meta)


def median(values: list[float]) -> float:
    return statistics.median(values)


class Suite:
    """Runs every figure for one backend; collects Figure rows."""

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

    def log(self, text: str) -> None:
        print(f"[{self.backend}] {text}", file=sys.stderr, flush=True)

    def runs(self, size: int) -> int:
        if self.o.runs is not None:
            return self.o.runs
        return 1 if self.o.quick or size >= 1_000_000 else 3

    def guarded(self, name: str, size: int | None, fn: Any, *args: Any) -> None:
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
            self.log(f"{name}: FAILED: {error}")
            self.failed.append(f"{self.backend} {size}: {name}: {error}")
            self.figures.append(
                Figure(name, self.backend, size, "error", "", None, "", None, str(error)[:160])
            )

    # -- per size -------------------------------------------------------------

    def size(self, size: int) -> None:
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
            if self.wants("rebuild"):
                self.guarded("projection rebuild", size, self.rebuild, size, url)
            if self.wants("verify"):
                self.guarded("verify", size, self.verify, size, url)
            if self.wants("query"):
                self.guarded("as-of split query", size, self.queries, size, url, meta)
            if self.wants("web"):
                self.guarded("negotiation page", size, self.web_page, size, url, meta)
            if self.wants("cli"):
                self.guarded("`seatledger split`", size, self.cli, size, url, meta)
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
        ours, base, peak, kept = [], [], 0.0, None
        per_file: list[int] = []
        try:
            for run in range(self.runs(size)):
                url = self.dbs.fresh(f"import{size}")
                result = worker("import-files", {"url": url, "files": meta["files"]})
                self.log(
                    f"import run {run + 1}: {rate(result['events'], result['seconds'])} "
                    f"({result['seconds']:.1f}s, parse {result['parse_seconds']:.1f}s, "
                    f"peak {result['peak_mb']:.0f} MB)"
                )
                ours.append(result["events"] / result["seconds"])
                peak, per_file = max(peak, result["peak_mb"]), result["per_file"]
                if self.wants("import"):
                    target = self.dbs.fresh("baseline")
                    try:
                        b = worker(
                            "insert-rows", {"source": url, "target": target, "per_file": per_file}
                        )
                    finally:
                        self.dbs.drop(target)
                    self.log(f"baseline run {run + 1}: {rate(b['events'], b['seconds'])}")
                    base.append(b["events"] / b["seconds"])
                if kept is not None:
                    self.dbs.drop(kept)
                kept = url
        except (WorkerError, subprocess.TimeoutExpired) as error:
            self.log(f"import: FAILED: {error}")
            self.failed.append(f"{self.backend} {size}: import: {error}")
            self.figures.append(
                Figure(
                    "bulk import", self.backend, size, "error", "", None, "", None, str(error)[:160]
                )
            )
            return kept
        files = len(meta["files"])
        note = f"median of {len(ours)}" + (
            f"; {files} files of ~{self.o.chunk:,} events cut by {self.o.cut}, one transaction each"
            if files > 1
            else ""
        )
        if base:
            ratio = median(ours) / median(base)
            target = IMPORT_TARGET[self.backend]
            self.figures.append(
                Figure(
                    "bulk import",
                    self.backend,
                    size,
                    f"{median(ours):,.0f}/s",
                    f"{median(base):,.0f}/s",
                    ratio,
                    f">= {target}",
                    ratio >= target,
                    note,
                )
            )
        self.memory["import"] = (size, peak)
        return kept

    def rebuild(self, size: int, url: str) -> None:
        ours, base, peak = [], [], 0.0
        for _ in range(self.runs(size)):
            r = worker("rebuild", {"url": url})
            b = worker("decode-log", {"url": url})
            ours.append(r["events"] / r["seconds"])
            base.append(b["events"] / b["seconds"])
            peak = max(peak, r["peak_mb"])
            self.log(
                f"rebuild {rate(r['events'], r['seconds'])}, "
                f"decode {rate(b['events'], b['seconds'])}"
            )
        ratio = median(ours) / median(base)
        self.figures.append(
            Figure(
                "projection rebuild",
                self.backend,
                size,
                f"{median(ours):,.0f}/s",
                f"{median(base):,.0f}/s",
                ratio,
                ">= 0.5",
                ratio >= 0.5,
                f"median of {len(ours)}",
            )
        )
        self.memory["rebuild"] = (size, peak)

    def verify(self, size: int, url: str) -> None:
        ours, base, read, peak = [], [], [], 0.0
        for _ in range(self.runs(size)):
            v = worker("verify", {"url": url})
            h = worker("hash-log", {"url": url})
            ours.append(v["events"] / v["seconds"])
            base.append(h["events"] / h["seconds"])
            read.append(h["events"] / h["read_seconds"])
            peak = max(peak, v["peak_mb"])
            self.log(
                f"verify {rate(v['events'], v['seconds'])}, sha256 "
                f"{rate(h['events'], h['seconds'])}, read+sha256 "
                f"{rate(h['events'], h['read_seconds'])}"
            )
        ratio = median(ours) / median(base)
        note = (
            f"median of {len(ours)}; vs reading and hashing the same rows: "
            f"{median(read):,.0f}/s, ratio {median(ours) / median(read):.2f}"
        )
        self.figures.append(
            Figure(
                "verify",
                self.backend,
                size,
                f"{median(ours):,.0f}/s",
                f"{median(base):,.0f}/s",
                ratio,
                ">= 0.3",
                ratio >= 0.3,
                note,
            )
        )
        self.memory["verify"] = (size, peak)
        self.verify_derived(size, url, median(ours))

    def verify_derived(self, size: int, url: str, chains_only: float) -> None:
        """The command's verify (views and snapshots re-derived too) against chains alone."""
        rates, peak = [], 0.0
        for _ in range(self.runs(size)):
            v = worker("verify-derived", {"url": url})
            rates.append(v["events"] / v["seconds"])
            peak = max(peak, v["peak_mb"])
            self.log(f"verify with views and snapshots {rate(v['events'], v['seconds'])}")
        ratio = median(rates) / chains_only
        note = f"median of {len(rates)}; the baseline is verify of the chains alone"
        self.figures.append(
            Figure(
                "verify+views", self.backend, size, f"{median(rates):,.0f}/s",
                f"{chains_only:,.0f}/s", ratio, "(measured)", None, note,
            )
        )  # fmt: skip
        self.memory["verify+views"] = (size, peak)

    def queries(self, size: int, url: str, meta: dict[str, Any]) -> None:
        samples = 200 if self.o.quick else 1000
        urls = [url] if self.reference is None else [self.reference[1], url]
        args = {
            "urls": urls,
            "samples": samples,
            "first_day": meta["first_day"],
            "days": meta["days"],
        }
        results = worker("queries", args)["ledgers"]
        q, ref = results[-1], results[0]
        base_size = size if self.reference is None else self.reference[0]
        self.log(
            f"split p50 {q['p50_ms']:.2f} ms, p99 {q['p99_ms']:.2f} ms "
            f"({q['samples']} queries, catch-up {q['catch_up_seconds']:.1f}s); "
            f"at {base_size:,} in the same process: p50 {ref['p50_ms']:.2f} ms"
        )
        ratio = q["p50_ms"] / ref["p50_ms"]
        met = ratio <= 2 and q["p50_ms"] <= 5
        self.figures.append(
            Figure(
                "as-of split query p50 / p99",
                self.backend,
                size,
                f"{q['p50_ms']:.2f} / {q['p99_ms']:.2f} ms",
                f"p50 {ref['p50_ms']:.2f} ms at {base_size:,}",
                ratio,
                "p50 <= 2x, <= 5 ms",
                met,
                f"{q['samples']} random (talks, date) each, both ledgers queried in turn",
            )
        )

    def web_page(self, size: int, url: str, meta: dict[str, Any]) -> None:
        samples = 50 if self.o.quick else 200
        args = {"url": url, "samples": samples, "first_day": meta["first_day"],
                "days": meta["days"]}  # fmt: skip
        found = worker("web-page", args)
        page, split = found["page"], found["split"]
        self.log(
            f"negotiation page p50 {page['p50_ms']:.1f} ms, p99 {page['p99_ms']:.1f} ms; "
            f"as-of split query p50 {split['p50_ms']:.2f} ms ({found['samples']} samples)"
        )
        self.figures.append(
            Figure(
                "negotiation page p50 / p99 (server side)",
                self.backend,
                size,
                f"{page['p50_ms']:.1f} / {page['p99_ms']:.1f} ms",
                f"as-of query p50 {split['p50_ms']:.2f} ms",
                page["p50_ms"] / split["p50_ms"],
                "p50 < 50 ms",
                page["p50_ms"] < 50,
                f"{found['samples']} random (talks, date), in-process ASGI, chart drawn each time",
            )
        )

    def cli(self, size: int, url: str, meta: dict[str, Any]) -> None:
        from benchmarks.command import split_wall_times

        ours, base = split_wall_times(url, meta, repeats=3 if self.o.quick else 7)
        ratio = ours / base
        self.log(f"seatledger split {ours * 1000:.0f} ms, python -c imports {base * 1000:.0f} ms")
        self.figures.append(
            Figure(
                "`seatledger split` wall",
                self.backend,
                size,
                f"{ours * 1000:.0f} ms",
                f"{base * 1000:.0f} ms",
                ratio,
                "<= 1.5",
                ratio <= 1.5,
                "baseline: python -c importing the same modules",
            )
        )

    def memory_figures(self) -> None:
        for what, (size, peak) in self.memory.items():
            self.figures.append(
                Figure(
                    f"peak memory, {what}",
                    self.backend,
                    size,
                    f"{peak:,.0f} MB",
                    "",
                    None,
                    f"< {MEMORY_LIMIT_MB} MB",
                    peak < MEMORY_LIMIT_MB,
                    "VmHWM of its own process",
                )
            )

    # -- recorders ------------------------------------------------------------------

    def recorders(self) -> list[RecorderFigure]:
        from benchmarks.recorders import RECORDERS

        quick = self.o.quick
        args = {
            "aggregates": 20 if quick else 100,
            "events_per_aggregate": 100,
            "singles": 200 if quick else 1000,
            "backend": self.backend,
            "workdir": str(self.o.workdir),
        }
        rows: list[RecorderFigure] = []
        for recorder in RECORDERS:
            batched, single = [], []
            try:
                for _ in range(1 if quick else 3):
                    url = self.dbs.fresh(f"rec-{recorder[:6]}")
                    try:
                        r = worker("recorders", {**args, "recorder": recorder, "url": url})
                    finally:
                        self.dbs.drop(url)
                    batched.append(r["batched_per_s"])
                    single.append(r["single_per_s"])
            except (WorkerError, subprocess.TimeoutExpired) as error:
                self.failed.append(f"{self.backend}: recorder {recorder}: {error}")
                rows.append(RecorderFigure(recorder, self.backend, "error", "", str(error)[:160]))
                continue
            self.log(
                f"recorder {recorder}: {median(batched):,.0f}/s batched, "
                f"{median(single):,.0f}/s one save per event"
            )
            note = (
                f"{args['aggregates']} x 100 events; {args['singles']} single saves; "
                f"median of {len(batched)}"
            )
            rows.append(
                RecorderFigure(
                    recorder,
                    self.backend,
                    f"{median(batched):,.0f}/s",
                    f"{median(single):,.0f}/s",
                    note,
                )
            )
        return rows
