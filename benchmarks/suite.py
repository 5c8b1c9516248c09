"""The figures of issue 7, each against a baseline measured in the same run.

Each figure is a method of `Suite`; the ones measured on every imported ledger are
registered in `Suite.each_ledger`, and `FIGURES` lists them all by their `--only` key.
The loop that runs them is `running.py`'s.
"""

from __future__ import annotations

import subprocess
from typing import Any

from benchmarks.report import Figure, RecorderFigure, rate
from benchmarks.running import Runner, WorkerError, median, worker

# Issue 13: at least 0.4 of executemany on SQLite and 0.3 on PostgreSQL, at every size.
IMPORT_TARGET = {"sqlite": 0.4, "postgres": 0.3}
# Issue 13: an event imported into a big ledger costs at most 1.25x one of a ledger in one file.
GROWTH_TARGET = 1.25
# Issue 13: a rebuild at least 0.35 of reading and decoding the log.
REBUILD_TARGET = 0.35
MEMORY_LIMIT_MB = 500


class Suite(Runner):
    """Every figure for one backend."""

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
                self.per_file = per_file
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
            self.failure("import", "bulk import", size, error)
            return kept
        files, cut = len(meta["files"]), meta["cut"]
        note = f"median of {len(ours)}" + (
            f"; {files} files of ~{self.o.chunk:,} events cut by {cut}, one transaction each"
            if files > 1
            else ""
        )
        if base:
            self.rate_figure(
                "bulk import", size, ours, median(base), IMPORT_TARGET[self.backend], note
            )
            ratio = median(ours) / median(base)
            self.import_ratios[(size, cut if files > 1 else "")] = (ratio, median(ours))
        if peak >= self.memory.get("import", (size, 0.0))[1]:
            self.memory["import"] = (size, peak)
        return kept

    def growth_figures(self) -> None:
        """Issue 13's linear growth: what an event costs imported as files into a big ledger,
        against one of the biggest ledger imported as one file, each as its ratio to the
        executemany baseline of the same run (which cancels the machine's speed that day)."""
        single = [(size, r) for (size, cut), r in self.import_ratios.items() if not cut]
        if not single:
            return
        small, (small_ratio, small_rate) = max(single)
        for (size, cut), (ratio, speed) in self.import_ratios.items():
            if not cut:
                continue
            growth = small_ratio / ratio
            self.figures.append(
                Figure(
                    f"import cost per event, cut by {cut}",
                    self.backend,
                    size,
                    f"{ratio:.3f} of executemany",
                    f"{small_ratio:.3f} at {small:,} (one file)",
                    growth,
                    f"<= {GROWTH_TARGET}x",
                    growth <= GROWTH_TARGET,
                    "the ratio is the cost of an event against the one-file figure's, each "
                    f"against its own baseline; in events/s alone {small_rate / speed:.2f}x "
                    f"({speed:,.0f}/s against {small_rate:,.0f}/s)",
                )
            )

    def rebuild(self, size: int, url: str, meta: dict[str, Any]) -> None:
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
        self.rate_figure(
            "projection rebuild", size, ours, median(base), REBUILD_TARGET, f"median of {len(ours)}"
        )
        self.memory["rebuild"] = (size, peak)

    def verify(self, size: int, url: str, meta: dict[str, Any]) -> None:
        """Verify against reading and hashing the same rows through the same driver (issue 13)."""
        ours, read, memory, cpu, peak = [], [], [], [], 0.0
        for _ in range(self.runs(size)):
            v = worker("verify", {"url": url})
            h = worker("hash-log", {"url": url})
            ours.append(v["events"] / v["seconds"])
            read.append(h["events"] / h["read_seconds"])
            memory.append(h["events"] / h["seconds"])
            cpu.append(h["read_cpu_seconds"] / v["cpu_seconds"])
            peak = max(peak, v["peak_mb"])
            self.log(
                f"verify {rate(v['events'], v['seconds'])}, read+sha256 "
                f"{rate(h['events'], h['read_seconds'])}, sha256 in memory "
                f"{rate(h['events'], h['seconds'])}"
            )
        # CPU of the two processes: steadier than wall time on a shared machine, and all
        # the work on SQLite (PostgreSQL's server works in processes of its own).
        note = (
            f"median of {len(ours)}; the processes' CPU time, ratio {median(cpu):.2f}; vs sha256 "
            f"of the bytes in memory: {median(memory):,.0f}/s, ratio "
            f"{median(ours) / median(memory):.2f}"
        )
        self.rate_figure("verify", size, ours, median(read), 0.5, note)
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
        note = f"median of {len(rates)}; the baseline is verify of the chains alone"
        self.rate_figure("verify+views", size, rates, chains_only, None, note)
        self.memory["verify+views"] = (size, peak)

    def rate_figure(
        self, name: str, size: int, ours: list[float], base: float, least: float | None, note: str
    ) -> None:
        """A row of events/s: the median of ours against the baseline's, met if the ratio is
        at least `least` (None: measured, no target)."""
        ratio = median(ours) / base
        target, met = ("(measured)", None) if least is None else (f">= {least}", ratio >= least)
        value, baseline = f"{median(ours):,.0f}/s", f"{base:,.0f}/s"
        row = Figure(name, self.backend, size, value, baseline, ratio, target, met, note)
        self.figures.append(row)

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
        what = "random (talks, date) each"
        self._query_figure("as-of split query p50 / p99", size, base_size, q, ref, what)
        seat, seat_ref = q["seat"], ref["seat"]
        self.log(
            f"seat p50 {seat['p50_ms']:.2f} ms, p99 {seat['p99_ms']:.2f} ms "
            f"({q['seat_talks']} seat-level talks); at {base_size:,}: "
            f"p50 {seat_ref['p50_ms']:.2f} ms"
        )
        what = "random (seat-level talks, constituency, date) each, with its history"
        self._query_figure("as-of seat query p50 / p99", size, base_size, seat, seat_ref, what)

    def _query_figure(
        self, name: str, size: int, base_size: int, q: dict[str, Any], ref: dict[str, Any],
        what: str,
    ) -> None:  # fmt: skip
        """A query's p50 against the same query's p50 on the reference ledger: <= 2x, <= 5 ms."""
        ratio = q["p50_ms"] / ref["p50_ms"]
        met = ratio <= 2 and q["p50_ms"] <= 5
        self.figures.append(
            Figure(
                name,
                self.backend,
                size,
                f"{q['p50_ms']:.2f} / {q['p99_ms']:.2f} ms",
                f"p50 {ref['p50_ms']:.2f} ms at {base_size:,}",
                ratio,
                "p50 <= 2x, <= 5 ms",
                met,
                f"{q['samples']} {what}, both ledgers queried in turn",
            )
        )

    def web_page(self, size: int, url: str, meta: dict[str, Any]) -> None:
        samples = 50 if self.o.quick else 200
        args = {"url": url, "samples": samples, "first_day": meta["first_day"],
                "days": meta["days"]}  # fmt: skip
        found = worker("web-page", args)
        page, split, chart = found["page"], found["split"], found["chart"]
        self.log(
            f"negotiation page p50 {page['p50_ms']:.1f} ms, p99 {page['p99_ms']:.1f} ms; "
            f"as-of split query p50 {split['p50_ms']:.2f} ms ({found['samples']} samples); "
            f"chart p50 {chart['p50_ms']:.0f} ms ({found['charts']})"
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
                f"{found['samples']} random (talks, date), in-process ASGI, a page of 50 moves",
            )
        )
        self.figures.append(
            Figure(
                "its chart p50 / p99 (fetched on load)",
                self.backend,
                size,
                f"{chart['p50_ms']:.0f} / {chart['p99_ms']:.0f} ms",
                f"page p50 {page['p50_ms']:.1f} ms",
                chart["p50_ms"] / page["p50_ms"],
                "measured",
                None,
                f"{found['charts']} of those talks, drawn by matplotlib unless drawn before",
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

    def import_process(self, size: int, url: str, meta: dict[str, Any]) -> None:
        """`seatledger import` as a user runs it (a process per file, start-up included)
        against the bulk import's baseline, and the first read after it (the views' catch-up
        from nothing, in a `seatledger split` process) against reading and decoding the log."""
        from benchmarks.command import import_wall_times

        ours, base, first, decode = [], [], [], []
        for run in range(self.runs(size)):
            fresh = self.dbs.fresh(f"cli-import{size}")
            try:
                imported, read = import_wall_times(fresh, meta)
            finally:
                self.dbs.drop(fresh)
            target = self.dbs.fresh("baseline")
            try:
                b = worker("insert-rows", {"source": url, "target": target,
                                           "per_file": self.per_file})  # fmt: skip
            finally:
                self.dbs.drop(target)
            d = worker("decode-log", {"url": url})
            events = b["events"]
            ours.append(events / imported)
            base.append(events / b["seconds"])
            first.append(events / read)
            decode.append(d["events"] / d["seconds"])
            self.log(
                f"seatledger import run {run + 1}: {rate(events, imported)} ({imported:.1f}s), "
                f"first read {read:.1f}s; executemany {rate(events, b['seconds'])}, "
                f"decode {rate(d['events'], d['seconds'])}"
            )
        files = len(meta["files"])
        note = f"median of {len(ours)}; {files} process(es), one per file, start-up included"
        least = IMPORT_TARGET[self.backend]
        self.rate_figure("`seatledger import` process", size, ours, median(base), least, note)
        note = (
            f"median of {len(first)}; `seatledger split` just after the import, which catches "
            f"the views up from nothing (a process, start-up included); baseline: reading and "
            f"decoding the log"
        )
        self.rate_figure("first read after import", size, first, median(decode), None, note)

    # The figures measured on each imported ledger, in order: (--only key, name, measure).
    each_ledger = (
        ("rebuild", "projection rebuild", rebuild),
        ("verify", "verify", verify),
        ("query", "as-of split query", queries),
        ("web", "negotiation page", web_page),
        ("cli", "`seatledger split`", cli),
        ("process", "`seatledger import` process", import_process),
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


# Every figure by its --only key: the import, those on each ledger, the recorders' choice.
FIGURES = ("import", *(key for key, _, _ in Suite.each_ledger), "recorders")
