"""How fast ``reconciler validate`` reads and checks a large project.

Generates a project of N documents (automations, each with a schedule and a trigger, plus a few
connections and checks) in a temporary folder, 100 documents per file, then times
``validate_project`` and measures its peak Python memory (tracemalloc, in a separate run so the
tracing does not slow the timed one).

    python bench/validate_scale.py            # N = 1,000 and 10,000
    python bench/validate_scale.py 50000      # any N
"""

from __future__ import annotations

import argparse
import tempfile
import time
import tracemalloc
from pathlib import Path

from reconciler.config import load_project
from reconciler.manifest import validate_project

PER_FILE = 100
PROJECT = """\
version: 1
manifests: [manifests/]
providers:
  studio: {type: workspace, base_url: sandbox, organization_id: org_bench, workspace_id: ws_bench}
  growth: {type: outlit, base_url: sandbox}
"""
AUTOMATION = """\
apiVersion: reconciler/v1
kind: Automation
metadata:
  name: auto-{i}
  provider: studio
  labels: {{team: team-{team}}}
spec:
  display_name: Automation {i}
  description: Generated automation number {i}.
  code: |
    def run(inputs, tools):
        return {{"n": {i}}}
  marked_outputs: [n]
  connections: [conn-{team}]
"""
SCHEDULE = """\
apiVersion: reconciler/v1
kind: Schedule
metadata: {{name: auto-{i}, provider: studio}}
spec:
  automation: auto-{i}
  cron: "{minute} {hour} * * 1-5"
  timezone: Europe/Berlin
  inputs: {{batch: {i}}}
"""
TRIGGER = """\
apiVersion: reconciler/v1
kind: Trigger
metadata: {{name: trigger-{i}, provider: studio}}
spec:
  automation: auto-{i}
  phase: main
  type: webhook
"""
OUTLIT = """\
apiVersion: reconciler/v1
kind: Automation
metadata: {{name: nudge-{i}, provider: growth}}
spec:
  name: Nudge {i}
  trigger: {{type: signal, signal: trial-expiring}}
  signals: [trial-expiring]
  destinations: [slack-growth]
"""


def documents(n: int) -> list[str]:
    """N documents: groups of automation, schedule, trigger, and an outlit automation."""
    docs: list[str] = []
    i = 0
    while len(docs) < n:
        values = {"i": i, "team": i % 10, "minute": i % 60, "hour": i % 24}
        for template in (AUTOMATION, SCHEDULE, TRIGGER, OUTLIT):
            if len(docs) < n:
                docs.append(template.format(**values))
        i += 1
    return docs


def write_project(folder: Path, n: int) -> None:
    (folder / "reconciler.yaml").write_text(PROJECT)
    manifests = folder / "manifests"
    manifests.mkdir()
    docs = documents(n)
    for start in range(0, n, PER_FILE):
        chunk = docs[start : start + PER_FILE]
        (manifests / f"part-{start // PER_FILE:05d}.yaml").write_text("---\n".join(chunk))


def measure(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_project(folder, n)
        validate_project(load_project(folder))  # warm-up: compile validators, fill caches
        started, cpu_started = time.perf_counter(), time.process_time()
        report = validate_project(load_project(folder))
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        if report.problems or report.documents != n:
            raise SystemExit(f"generated project is not clean: {report.problems[:3]}")
        tracemalloc.start()
        validate_project(load_project(folder))
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    # CPU time is printed too: on a shared machine the wall-clock rate varies with the load.
    print(
        f"N={n:>7,}  {elapsed:6.2f} s  {n / elapsed:>9,.0f} documents/s  "
        f"(CPU {cpu:5.2f} s, {n / cpu:>7,.0f} documents per CPU-second)  "
        f"peak memory {peak / 1024 / 1024:6.1f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="Validate N generated documents; print the rate.")
    parser.add_argument("sizes", nargs="*", type=int, default=[1_000, 10_000],
                        help="document counts to measure (default: 1000 10000)")
    parser.add_argument("--sizes", dest="sizes_option", nargs="+", type=int,
                        help="the same as the positional sizes, as in the other benchmarks")
    parser.add_argument("--repeat", type=int, default=1,
                        help="measure each size this many times (noisy machines)")
    args = parser.parse_args()
    sizes = args.sizes_option or args.sizes
    for n in [n for n in sizes for _ in range(max(1, args.repeat))]:
        measure(n)


if __name__ == "__main__":
    main()
