"""A second, forked process for work that splits by aggregate (a rebuild, a catch-up far
behind, a big import): the pieces they share.

Both processes take the next aggregate (or group of them) from one shared counter
(`Claims`), so the process that also writes every row does fewer. The worker only reads,
through an engine of its own, and sends its results back over a pipe; whatever it did not
deliver, the main process does itself, so the outcome never depends on the worker.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import sys
import time
from collections.abc import Callable
from typing import Any

SPARE = 0.5
"""A worker starts only while, besides the core the asking process needs, at least this much
of another core sat idle over the last `SAMPLE` seconds."""

SAMPLE = 0.05
"""Seconds over which idle CPU is measured before a worker is started."""
# 0.05 s, not 0.2: as clear a reading (2026-12-07, 2 cores: idle 1.82-2.0 cores with the
# machine quiet, 0.89-1.0 beside one busy process, against the 1.5 asked), and 0.15 s less
# waiting each time. Verify of 100k events on SQLite is ~0.24 s of work in two processes:
# it waited 0.2 s of it (0.45 of reading and hashing the same rows, against 0.5 asked).


def a_core_to_spare() -> bool:
    """Whether a forked worker would have a core of its own: Linux, ≥ 2 cores, one idle."""
    # On a machine that others keep busy, the scheduler shares the CPU between sessions,
    # not processes: a worker would only add its overhead. Measured now rather than read
    # from the load average, which lags by a minute and counts waiting on the disk (an
    # import's or a benchmark's commits) as busy: at load 1.5-1.6 on an idle core, the
    # 100k benchmark's rebuild ran alone (0.18 of decoding the log).
    if sys.platform != "linux" or len(os.sched_getaffinity(0)) < 2:
        return False
    return idle_cores(SAMPLE) >= 1 + SPARE


def idle_cores(seconds: float) -> float:
    """How many of the machine's cores sat idle (or waiting on the disk) over `seconds`."""
    first = _cpu_times()
    time.sleep(seconds)
    second = _cpu_times()
    if first is None or second is None:
        return 0.0
    (idle_a, total_a, cores), (idle_b, total_b, _) = first, second
    if total_b <= total_a:
        return 0.0
    return cores * (idle_b - idle_a) / (total_b - total_a)


def _cpu_times() -> tuple[int, int, int] | None:
    """(idle and iowait ticks, all ticks, cores) from /proc/stat; None where it cannot be read."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            lines = stat.read().splitlines()
    except OSError:
        return None
    ticks = [int(t) for t in lines[0].split()[1:]]
    cores = sum(1 for line in lines if line.startswith("cpu") and line[3:4].isdigit())
    return ticks[3] + ticks[4], sum(ticks[:8]), cores


class Claims:
    """The next aggregate to fold, shared by the two processes: each takes it in turn."""

    def __init__(self, ids: list[Any], counter: Any = None) -> None:
        self.ids = ids
        self.counter = counter

    def next(self) -> Any | None:
        """The next aggregate nobody has taken (None: all are taken)."""
        if self.counter is None:  # alone
            index = getattr(self, "_alone", 0)
            self._alone = index + 1
        else:
            with self.counter.get_lock():
                index = self.counter.value
                self.counter.value = index + 1
        return self.ids[index] if index < len(self.ids) else None

    def close(self) -> None:
        """Let nobody take another one (those taken are still done)."""
        if self.counter is None:
            self._alone = len(self.ids)
        else:
            with self.counter.get_lock():
                self.counter.value = len(self.ids)


def fork(claims: Claims, work: Callable[..., None], *args: Any) -> tuple[Any, Any] | None:
    """Fork a worker that runs `work(pipe, claims, *args)`; its process and the pipe's
    receiving end, or None if no worker can be started (then `claims` stays one process's)."""
    try:
        context = multiprocessing.get_context("fork")
        claims.counter = context.Value("q", 0)
        receiver, sender = context.Pipe(duplex=False)
        process = context.Process(target=_run, args=(work, sender, claims, *args), daemon=True)
        process.start()  # refused, for one, inside a daemonic process
    except Exception:
        claims.counter = None
        return None
    sender.close()
    return process, receiver


def _run(work: Callable[..., None], pipe: Any, *args: Any) -> None:
    """The worker process: run `work`; on any failure say so; then leave at once."""
    # The parent's objects (its engine's connections among them) are never finalised here.
    gc.freeze()
    try:
        work(pipe, *args)
    except BaseException:  # the main process does what is left itself
        with contextlib.suppress(BaseException):  # it may be gone too
            pipe.send(("failed", None))
    finally:
        with contextlib.suppress(BaseException):
            pipe.close()
        # Leave at once: multiprocessing's exit path flushes stdout and stderr, whose locks
        # another thread of the parent (a progress bar's refresh) may have held at the fork.
        os._exit(0)


class Receiver:
    """A started worker, seen from the main process: its messages as they arrive, and its end.

    A subclass's handler takes each message and sets `finished` on the last one ("done" or
    "failed"); a worker that dies ends the receiving as well.
    """

    def __init__(self, process: Any, pipe: Any) -> None:
        self.process, self.pipe = process, pipe
        self.finished = False

    def receive(self, take: Callable[[tuple[str, Any]], None], *, wait: bool) -> None:
        """Hand `take` each message that has arrived; with `wait`, every one until the worker
        finishes, fails or dies."""
        try:
            while not self.finished and (wait or self.pipe.poll()):
                take(self.pipe.recv())
        except (EOFError, OSError):
            self.finished = True

    def stop(self) -> None:
        """Close the pipe and end the worker (killed if it has not finished)."""
        self.pipe.close()
        if self.process.is_alive() and not self.finished:
            self.process.kill()
        self.process.join()
