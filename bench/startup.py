"""Start-up time of whole `reconciler` processes: the median of several runs per command.

    python bench/startup.py              # --help, validate on the quickstart, plan --help
    python bench/startup.py --runs 21

Each run is a fresh interpreter, as a user or a CI step starts it, so imports count in full.
Aims: `reconciler --help` at most 120 ms, `validate` on the quickstart at most 250 ms.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUICKSTART = ROOT / "examples" / "quickstart"
COMMANDS = [
    ("--help", ["--help"], 0.120),
    ("validate (quickstart)", ["-C", str(QUICKSTART), "validate"], 0.250),
    ("plan --help", ["plan", "--help"], None),
    ("--version", ["--version"], None),
]


def command_line() -> list[str]:
    """The installed console script, else the module with this interpreter."""
    script = shutil.which("reconciler", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "reconciler"]


def timed(argv: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the child) of one process."""
    before = os.times()
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, env={**os.environ, "NO_COLOR": "1"})
    wall = time.perf_counter() - started
    after = os.times()
    if done.returncode != 0:
        shown = " ".join(argv)
        raise SystemExit(f"{shown} exited {done.returncode}: {done.stderr.decode()[-500:]}")
    return wall, (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=11, help="runs per command (default 11)")
    args = parser.parse_args()
    base = command_line()
    print(f"{'command':<24} {'median':>9} {'min':>9} {'max':>9} {'cpu':>9}  aim")
    for label, extra, aim in COMMANDS:
        timed(base + extra)  # warm the file cache (.pyc files, the disk)
        walls, cpus = zip(*(timed(base + extra) for _ in range(max(1, args.runs))), strict=True)
        median = statistics.median(walls)
        verdict = "" if aim is None else f"<= {aim * 1000:.0f} ms " + (
            "met" if median <= aim else "NOT met"
        )
        print(
            f"{label:<24} {median * 1000:7.0f} ms {min(walls) * 1000:6.0f} ms "
            f"{max(walls) * 1000:6.0f} ms {statistics.median(cpus) * 1000:6.0f} ms  {verdict}"
        )


if __name__ == "__main__":
    main()
