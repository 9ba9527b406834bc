"""Benchmark: recording operation successes and reading back a large state, local and postgres.

Records N successes one by one, as an apply does (each one durable before the next), then reads
the N-entry state back. PostgreSQL runs on loopback: a throwaway server started here with fsync
on (the operating system's server binaries), or the one at --url. Prints per backend: the
per-operation latency (median, p99), the read time, and the CPU seconds of this process.

    python bench/state_scale.py                  # N = 10,000, local and postgres
    python bench/state_scale.py --entries 2000 --url postgresql://user@127.0.0.1/db

Aim: a recorded success costs <= 2 ms median on loopback; a 10,000-entry read <= 0.5 s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reconciler.model import ResourceId  # noqa: E402
from reconciler.state.local import LocalStateBackend  # noqa: E402
from reconciler.state.model import State, StateBackend, StateEntry  # noqa: E402


def entry(i: int) -> StateEntry:
    spec = {"display_name": f"Automation {i}", "description": "x" * 80,
            "webhook": {"headers": "sha256:" + "0" * 64}, "enabled": True}
    return StateEntry(f"auto_{i:06d}", "workspace", spec, "2026-01-01T00:00:00Z", f"m.yaml:{i}")


def measure(name: str, backend: StateBackend, n: int) -> None:
    state = State()
    latencies = []
    cpu = time.process_time()
    with backend.lock(10, "bench"):
        for i in range(n):
            rid = ResourceId("studio", "Automation", f"a{i:06d}")
            state.entries[rid] = entry(i)
            started = time.perf_counter()
            backend.record(state.stamped(), {rid: state.entries[rid]})
            latencies.append(time.perf_counter() - started)
        backend.settle(state)
    started = time.perf_counter()
    read = backend.read()
    read_time = time.perf_counter() - started
    assert len(read.entries) == n and read.serial == n
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    print(f"{name:9} N={n:6}  record median {statistics.median(latencies) * 1000:6.2f} ms  "
          f"p99 {p99 * 1000:6.2f} ms  read {read_time:6.3f} s  "
          f"cpu {time.process_time() - cpu:6.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--url", help="an existing PostgreSQL database (default: start one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        measure("local", LocalStateBackend(Path(folder) / "state.json"), args.entries)
    from reconciler.state.postgres import PostgresStateBackend

    if args.url:
        measure("postgres", PostgresStateBackend(args.url, f"bench-{time.time_ns()}"),
                args.entries)
        return
    from tests.state.pg_server import PostgresServer

    server = PostgresServer.start(durable=True)
    try:
        measure("postgres", PostgresStateBackend(server.create_database("bench"), "bench"),
                args.entries)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
