"""The figures' worker processes end with the process they draw for, even when it is killed.

A pool's workers wait on a queue whose writing end they hold themselves, so a caller killed
with its pool open (a server stopped while it draws ahead) used to leave its workers, and
the server they fork from, running for good. Each worker now checks that its caller lives.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from model.figures import CALLER_CHECK_SECONDS, _gone

ROOT = Path(__file__).resolve().parents[2]
WAIT = 60.0  # seconds, generous for a loaded machine: a worker notices within about one check

CALLER = """
import os, sys, time
from concurrent.futures import ProcessPoolExecutor
from model import figures

with ProcessPoolExecutor(
    max_workers=2,
    mp_context=figures._pool_context(),
    initializer=figures._start_job,
    initargs=(None, None, ("png",), None, 0, os.getpid()),
) as pool:
    list(pool.map(time.sleep, [0.5, 0.5]))  # both workers started
    print(" ".join(map(str, pool._processes)), flush=True)
    time.sleep(600)  # killed here, its pool open
"""


def test_workers_end_when_the_process_they_draw_for_is_killed():
    caller = subprocess.Popen(
        [sys.executable, "-c", CALLER], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        workers = [int(p) for p in caller.stdout.readline().split()]
        assert len(workers) == 2 and not any(_gone(p) for p in workers)
        time.sleep(3 * CALLER_CHECK_SECONDS)
        assert not any(_gone(p) for p in workers)  # they stay while their caller lives
    finally:
        caller.send_signal(signal.SIGKILL)
        caller.wait()
        caller.stdout.close()
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline and not all(_gone(p) for p in workers):
        time.sleep(0.2)
    left = [p for p in workers if not _gone(p)]
    for p in left:  # leave no process behind, whatever the outcome
        os.kill(p, signal.SIGKILL)
    assert not left, f"workers {left} outlived their caller by {WAIT:.0f} s"


def test_a_zombie_counts_as_gone_and_a_live_process_does_not():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline and not _gone(child.pid):  # ended, not yet reaped
        time.sleep(0.05)
    assert _gone(child.pid)
    child.wait()
    assert _gone(child.pid)  # reaped
    assert not _gone(os.getpid())
