"""Benchmark: the workspace provider's read of N automations, each with a schedule, two triggers
and two connections, against the sandbox on loopback with latency L.

The sandbox runs in its own process (``reconciler sandbox serve``) and answers every request L
after it arrived (its own work inside L, as a real API's is); its world is seeded through the
admin route, not through the adapter, so only the read is measured. Prints per N: requests made,
wall time, the API-bound limit ceil(requests / parallelism) x L (every request taking exactly L
with all ``parallelism`` slots always busy), their ratio, peak memory (max RSS of this process),
and the CPU seconds the read cost this process and the sandbox process: when either, per
request, approaches L / parallelism, that process and not the API is the limit.

    python bench/read_scale.py                           # N = 100 and 1,000 at 20 ms
    python bench/read_scale.py --sizes 1000 --latency-ms 20 --parallelism 16 --repeat 3

Aim: ratio <= 1.2.
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

from reconciler.config import ProviderConfig
from reconciler.model import SourcePosition
from reconciler.providers.workspace import WorkspaceProvider

CODE = "def run(inputs, tools):\n    return {'ok': True}\n"
KINDS = ("Automation", "Schedule", "Trigger", "Connection")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--parallelism", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=1,
                        help="measure each size this many times, one row each (shared machines "
                             "are noisy: compare the best or the median, not one run)")
    args = parser.parse_args()
    print(f"{'N':>6} {'requests':>9} {'wall s':>8} {'limit s':>8} {'ratio':>6} {'objects':>8} "
          f"{'peak MB':>8} {'cpu s':>6} {'server cpu s':>12}")
    for size in [size for size in args.sizes for _ in range(max(1, args.repeat))]:
        row = measure(size, args.latency_ms, args.parallelism)
        print(f"{size:>6} {row['requests']:>9} {row['wall']:>8.2f} {row['limit']:>8.2f} "
              f"{row['ratio']:>6.2f} {row['objects']:>8} {row['peak_mb']:>8.0f} "
              f"{row['cpu']:>6.2f} {row['server_cpu']:>12.2f}", flush=True)


def measure(size: int, latency_ms: float, parallelism: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-c", "from reconciler.cli import main; main()", "sandbox", "serve",
             "--port", str(port), "--db", str(Path(folder) / "sandbox.db")],
            stdout=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            admin = httpx.Client(base_url=url, timeout=600)
            wait_until_up(admin)
            admin.post("/_sandbox/seed", json=world(size)).raise_for_status()
            admin.put("/_sandbox/faults", json={"latency_ms": latency_ms}).raise_for_status()
            admin.delete("/_sandbox/requests").raise_for_status()
            server_cpu = process_cpu(server.pid)
            cpu = time.process_time()
            wall, live, counted = anyio.run(read_once, url, parallelism)
            cpu = time.process_time() - cpu
            server_cpu = process_cpu(server.pid) - server_cpu
            served = len(admin.get("/_sandbox/requests").json()["requests"])
        finally:
            server.terminate()
            server.wait(timeout=10)
    if served != counted:
        raise SystemExit(f"the provider counted {counted} requests but the sandbox served {served}")
    expected = size * 6  # automation, schedule, 2 triggers, 2 connections
    if len(live) != expected:
        raise SystemExit(f"expected {expected} live objects, read {len(live)}")
    limit = math.ceil(served / parallelism) * latency_ms / 1000
    return {"requests": served, "wall": wall, "limit": limit, "ratio": wall / limit,
            "objects": len(live), "cpu": cpu, "server_cpu": server_cpu,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


async def read_once(url: str, parallelism: int) -> tuple[float, list, int]:
    config = ProviderConfig(
        name="studio", type="workspace", base_url=url,
        settings={"organization_id": "org_bench", "workspace_id": "ws_bench", "token": "bench"},
        position=SourcePosition("bench", 1, 1), parallelism=parallelism,
    )
    provider = WorkspaceProvider(config)
    try:
        started = time.perf_counter()
        live = await provider.read([], {})
        wall = time.perf_counter() - started
        return wall, live, sum(provider.request_counts().values())
    finally:
        await provider.aclose()


def world(size: int) -> dict:
    connections = [{"connection_id": f"conn-{i:05d}", "connector": "http"}
                   for i in range(2 * size)]
    automations = [{
        "display_name": f"bench-{i:05d}", "description": f"benchmark automation {i}",
        "code": CODE, "marked_outputs": ["ok"],
        "connections": [f"conn-{2 * i:05d}", f"conn-{2 * i + 1:05d}"],
        "schedule": {"cron": "0 3 * * *", "timezone": "UTC"},
        "triggers": [{"trigger_id": f"hook-{i:05d}", "phase_type": "PHASE_TYPE_MAIN",
                      "phase_sub_type": "PHASE_SUB_TYPE_WEBHOOK"},
                     {"trigger_id": f"mail-{i:05d}", "phase_type": "PHASE_TYPE_PRE",
                      "phase_sub_type": "PHASE_SUB_TYPE_EMAIL"}],
    } for i in range(size)]
    return {"workspace": {"connections": connections, "automations": automations}}


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of another process (Linux /proc; NaN elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


if __name__ == "__main__":
    main()
