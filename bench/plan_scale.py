"""Benchmark: a full no-change plan of N workspace automations over loopback at latency L.

The sandbox runs in a separate process (``reconciler sandbox serve``) so this process's CPU time
is the reconciler's own. Prints per N: requests made, wall time of the read, diff and plan, the
API-bound limit (ceil(requests / parallelism) x latency: every request taking exactly L with the
provider's parallelism always busy), the ratio of wall time to it, this process's CPU during
that time (HTTP client, projection, diff and plan; about 1 ms per request is the HTTP client's),
the CPU of loading the manifests and of diff and planning, the engine's CPU (their sum: the
local work outside network requests that the aim bounds), and peak memory (max RSS).
The sandbox answers every request L after it arrived, its own work inside L; it serves from one
SQLite connection on one event loop, so at small L its service time, not L, bounds the wall time.

    python bench/plan_scale.py                      # N = 1,000 and 10,000 at 20 ms, parallelism 8
    python bench/plan_scale.py --sizes 1000 --latency-ms 5 --parallelism 16 --repeat 3

Aims: ratio <= 1.2; engine CPU for 10,000 unchanged <= 2 s; peak memory <= 300 MB.
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import anyio
import httpx
from sandbox_process import free_port, wait_until_up

CODE = "def run(inputs, tools):\n    return {'ok': True}\n"


def main() -> None:
    os.environ.setdefault("BENCH_TOKEN", "bench")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--parallelism", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=1,
                        help="measure each size this many times, one row each (shared machines "
                             "are noisy: compare the best or the median, not one run)")
    args = parser.parse_args()
    print(
        f"{'N':>7} {'requests':>9} {'wall s':>8} {'limit s':>8} {'ratio':>6} "
        f"{'process cpu s':>13} {'load cpu s':>10} {'diff+plan cpu s':>15} "
        f"{'engine cpu s':>12} {'peak MB':>8}"
    )
    for size in [size for size in args.sizes for _ in range(max(1, args.repeat))]:
        row = measure(size, args.latency_ms, args.parallelism)
        print(
            f"{size:>7} {row['requests']:>9} {row['wall']:>8.2f} {row['limit']:>8.2f} "
            f"{row['ratio']:>6.2f} {row['cpu']:>13.2f} {row['load']:>10.2f} "
            f"{row['plan_cpu']:>15.2f} {row['load'] + row['plan_cpu']:>12.2f} "
            f"{row['peak_mb']:>8.0f}",
            flush=True,
        )


def measure(size: int, latency_ms: float, parallelism: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        port = free_port()
        server = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from reconciler.cli import main; main()",
                "sandbox",
                "serve",
                "--port",
                str(port),
                "--db",
                str(root / "sandbox.db"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            admin = httpx.Client(base_url=url, timeout=600)
            wait_until_up(admin)
            admin.post("/_sandbox/seed", json=world(size)).raise_for_status()
            project = write_project(root, url, size, parallelism)
            admin.put("/_sandbox/faults", json={"latency_ms": latency_ms}).raise_for_status()
            admin.delete("/_sandbox/requests").raise_for_status()
            result = plan_once(project)
            requests = len(admin.get("/_sandbox/requests").json()["requests"])
        finally:
            server.terminate()
            server.wait(timeout=10)
    limit = math.ceil(requests / parallelism) * latency_ms / 1000
    result.update(
        requests=requests, limit=limit, ratio=result["wall"] / limit if limit else float("nan")
    )
    return result


def plan_once(project: Path) -> dict[str, float]:
    from reconciler.config import load_project
    from reconciler.engine import Assessment, Engine, load_desired, rules_for, state_backend
    from reconciler.plan import make_plan

    started_cpu = time.process_time()
    loaded = load_project(project)
    desired = load_desired(loaded)
    load = time.process_time() - started_cpu
    started = time.perf_counter()
    started_cpu = time.process_time()

    async def plan() -> Assessment:
        async with Engine(loaded) as engine:
            return await engine.assess(state_backend(loaded).read(), desired=desired)

    assessment = anyio.run(plan)
    wall = time.perf_counter() - started  # read + diff + plan
    cpu = time.process_time() - started_cpu
    from reconciler.model import Action

    # the seeded world is not in state: each automation is adopted (recorded, no API call),
    # which is no change on the platform
    operations = sum(op.action != Action.ADOPT for op in assessment.plan.operations)
    # the engine's own share: diff and planning over what was read (no I/O)
    started_plan = time.process_time()
    make_plan(assessment.desired, assessment.live, assessment.state, rules_for)
    plan_cpu = time.process_time() - started_plan
    if operations:
        raise SystemExit(f"expected a plan that changes nothing live, got {operations} operations")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"wall": wall, "cpu": cpu, "plan_cpu": plan_cpu, "load": load, "peak_mb": peak_mb}


def world(size: int) -> dict:
    return {
        "workspace": {
            "automations": [
                {
                    "display_name": name(i),
                    "description": f"benchmark automation {i}",
                    "code": CODE,
                    "marked_outputs": ["ok"],
                }
                for i in range(size)
            ]
        }
    }


def write_project(root: Path, url: str, size: int, parallelism: int) -> Path:
    project = root / "project"
    (project / "manifests").mkdir(parents=True)
    (project / "reconciler.yaml").write_text(
        "version: 1\nmanifests: [manifests/]\nproviders:\n  studio:\n    type: workspace\n"
        f"    base_url: {url}\n    organization_id: org_bench\n    workspace_id: ws_bench\n"
        f"    token: ${{env:BENCH_TOKEN}}\n    parallelism: {parallelism}\n"
    )
    documents = []
    for i in range(size):
        documents.append(
            "apiVersion: reconciler/v1\nkind: Automation\n"
            f"metadata: {{name: {name(i)}, provider: studio}}\n"
            f"spec:\n  description: benchmark automation {i}\n  marked_outputs: [ok]\n"
            "  code: |\n" + "".join(f"    {line}\n" for line in CODE.splitlines())
        )
    (project / "manifests" / "automations.yaml").write_text("---\n".join(documents))
    return project


def name(i: int) -> str:
    return f"bench-{i:05d}"


if __name__ == "__main__":
    main()
