"""kill -9 at random points of an apply, then a re-run: nothing lost, nothing doubled.

Each trial starts ``apply`` in its own process against the loopback sandbox, kills it the
moment the sandbox has answered a randomly chosen number of changing requests (so the kill
lands between a call and its recording, mid-operation or between operations), re-runs apply,
and compares state with the platform entry by entry. The points are drawn from a fixed seed,
so a failing trial can be replayed.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.faults.conftest import apply_in_process, assert_state_matches_platform, small_project

pytestmark = pytest.mark.faults

TRIALS = 10
SEED = 11
READ_ONLY_POSTS = (":countConnectionUsage", ":traceConnectionUsage")


class AnsweredChanges:
    """Counts the changing requests the sandbox has answered (reads sent as POST excluded),
    reading only the part of its request log not seen yet."""

    def __init__(self, server) -> None:
        self.server = server
        self.seen = 0
        self.count = 0

    def __call__(self) -> int:
        new = self.server.requests(since=self.seen)
        self.seen += len(new)
        self.count += sum(1 for r in new
                          if r.method != "GET" and not r.path.endswith(READ_ONLY_POSTS))
        return self.count


def start_apply(project: Path) -> subprocess.Popen:
    command = [sys.executable, "-c", "from reconciler.cli import main; main()",
               "-C", str(project), "apply", "--auto-approve", "--parallelism", "2"]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env={**os.environ, "NO_COLOR": "1"})


def kill_after(process: subprocess.Popen, server, answered: int, timeout: float = 30) -> bool:
    """SIGKILL ``process`` once ``answered`` changing requests were answered; False when the
    apply ended first."""
    deadline = time.monotonic() + timeout
    changes = AnsweredChanges(server)
    while changes() < answered:
        if process.poll() is not None:
            return False
        assert time.monotonic() < deadline, "the apply made no progress"
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    return True


def test_apply_killed_at_random_points_then_rerun_leaves_state_equal_to_the_platform(
    tmp_path, sandbox_server
):
    # one full apply tells how many changing requests there are to kill between
    reference = small_project(tmp_path / "reference", sandbox_server.url)
    assert apply_in_process(reference).ok
    total = AnsweredChanges(sandbox_server)()
    assert total >= 10

    draw = random.Random(SEED)
    points = sorted(draw.sample(range(1, total), TRIALS))
    killed = 0
    for trial, point in enumerate(points):
        sandbox_server.reset()
        sandbox_server.set_faults(latency_ms=10)  # answers take a moment: kills land mid-call
        project = tmp_path / f"trial-{trial}"
        shutil.rmtree(project, ignore_errors=True)
        small_project(project, sandbox_server.url)
        process = start_apply(project)
        killed += kill_after(process, sandbox_server, point)
        sandbox_server.clear_faults()

        rerun = apply_in_process(project)
        assert rerun.ok, (trial, point, rerun.failed)
        assert_state_matches_platform(project)
        assert apply_in_process(project).done == [], (trial, point)  # nothing left to do
    assert killed >= TRIALS - 1  # (the last point may fall after the apply's last answer)
