"""The gate before a second process: a core must be idle now, whatever the load average says."""

from __future__ import annotations

import multiprocessing
import os
import sys
import time

import pytest

from ledger import forked


def _spin(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc/stat")
def test_no_worker_while_every_core_is_busy() -> None:
    cores = len(os.sched_getaffinity(0))
    context = multiprocessing.get_context("fork")
    spinners = [context.Process(target=_spin, args=(3.0,)) for _ in range(cores)]
    for spinner in spinners:
        spinner.start()
    try:
        time.sleep(0.3)  # every spinner on its core
        idle = forked.idle_cores(0.5)
        assert idle < 1 + forked.SPARE
        assert not forked.a_core_to_spare()
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.join()


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc/stat")
def test_idle_cores_is_a_share_of_the_machine() -> None:
    idle = forked.idle_cores(0.2)
    assert 0.0 <= idle <= os.cpu_count()  # type: ignore[operator]
