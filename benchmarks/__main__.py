"""`python -m benchmarks [--sizes 10000,100000,1000000] [--backends sqlite,postgres] [--quick]`.

Generates the synthetic ledgers (cached), measures every figure of issue 7 against its
baseline in the same run, prints the table, and with `--markdown BENCHMARKS.md` writes it
there. Exit status 1 only if a measurement failed (timings are never asserted).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.databases import Databases, postgres_server
from benchmarks.machine import describe
from benchmarks.report import (
    HEADERS,
    RECORDER_HEADERS,
    Figure,
    RecorderFigure,
    text_table,
    write_markdown,
)
from benchmarks.running import ROOT, Ledgers, Options
from benchmarks.suite import FIGURES, Suite


def parse(argv: list[str]) -> tuple[Options, argparse.Namespace]:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "--sizes", default="10000,100000,1000000", help="ledger sizes in events, comma-separated"
    )
    parser.add_argument("--backends", default="sqlite,postgres", help="sqlite and/or postgres")
    parser.add_argument(
        "--quick", action="store_true", help="one run per figure, fewer queries and saves (CI)"
    )
    parser.add_argument("--runs", type=int, help="runs per figure (default 3; 1 at 1M or --quick)")
    parser.add_argument(
        "--chunk",
        type=int,
        default=100_000,
        help="events per timeline file; bigger ledgers import as several files",
    )
    parser.add_argument(
        "--cut",
        default="time,talks",
        help="how a big ledger is cut into files: stretches of time (each file extends "
        "every talks) and/or groups of talks (a file per region); the first cut's ledger "
        "is the one every other figure is measured on, each further cut is imported too",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--only", default="", help=f"some of {','.join(FIGURES)}")
    parser.add_argument(
        "--cache",
        type=Path,
        default=ROOT / "out" / "bench-cache",
        help="where generated timeline files are kept",
    )
    parser.add_argument("--markdown", type=Path, help="write the results into this file")
    parser.add_argument("--json", type=Path, default=ROOT / "out" / "bench-results.json")
    args = parser.parse_args(argv)
    only = {f for f in args.only.split(",") if f}
    unknown = only - set(FIGURES)
    if unknown:
        parser.error(f"--only: unknown figure(s) {', '.join(sorted(unknown))}")
    cuts = [c for c in args.cut.split(",") if c]
    if not cuts or set(cuts) - {"time", "talks"} or len(set(cuts)) < len(cuts):
        parser.error("--cut: time and/or talks")
    backends = [b for b in args.backends.split(",") if b]
    if set(backends) - {"sqlite", "postgres"}:
        parser.error("--backends: sqlite and/or postgres")
    options = Options(
        sizes=sorted(int(s.replace("_", "")) for s in args.sizes.split(",") if s),
        backends=backends,
        quick=args.quick,
        runs=args.runs,
        chunk=args.chunk,
        cuts=cuts,
        seed=args.seed,
        cache=args.cache,
        workdir=Path(tempfile.mkdtemp(prefix="seatledger-bench-")),
        only=only,
    )
    return options, args


def main(argv: list[str]) -> int:
    options, args = parse(argv)
    started = time.perf_counter()
    pg_url, pg_why = (None, "not requested")
    if "postgres" in options.backends:
        pg_url, pg_why = postgres_server()
        if pg_url is None:
            print(f"PostgreSQL skipped: {pg_why}", file=sys.stderr)
    machine = describe(pg_url)
    print(f"machine: {json.dumps(machine)}", file=sys.stderr)
    ledgers = Ledgers(options)
    figures: list[Figure] = []
    recorders: list[RecorderFigure] = []
    failed: list[str] = []
    try:
        for backend in options.backends:
            if backend == "postgres" and pg_url is None:
                continue
            dbs = Databases(backend, options.workdir, pg_url)
            suite = Suite(options, backend, dbs, ledgers)
            try:
                for size in options.sizes:
                    suite.size(size)
                suite.close()
                suite.growth_figures()
                suite.memory_figures()
                if not options.only or "recorders" in options.only:
                    recorders += suite.recorders()
            finally:
                dbs.drop_all()
            figures += suite.figures
            failed += suite.failed
    finally:
        shutil.rmtree(options.workdir, ignore_errors=True)
    print()
    print(text_table(figures, HEADERS))
    if recorders:
        print("\nRecorder choice (events/s, same Application and events):")
        print(text_table(recorders, RECORDER_HEADERS))
    print(f"\n{time.perf_counter() - started:.0f}s in all; commit {machine['commit']}")
    command = "python -m benchmarks " + " ".join(argv)
    results = {
        "machine": machine,
        "command": command,
        "ledgers": ledgers.meta,
        "figures": [f.to_json() for f in figures],
        "recorders": [r.to_json() for r in recorders],
        "failed": failed,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=1))
    if args.markdown:
        write_markdown(args.markdown, figures, recorders, machine, command.strip())
    for line in failed:
        print(f"FAILED: {line}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
