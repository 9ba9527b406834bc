"""Benchmark: recording operation successes and reading back a large state, local and postgres.

Records N successes one by one, as an apply does (each one durable before the next), then reads
the N-entry state back. PostgreSQL runs on loopback: a throwaway server started here with fsync
on and synchronous_commit on (the operating system's server binaries), or the one at --url.
Prints per backend and run: the per-operation latency (median, p99), the round trips to the
server per recorded success (postgres: times this process waited on the server; local: fsyncs),
the read time and its round trips, the wall time of the run, the CPU seconds of this process and
its peak memory (max RSS so far).

    python bench/state_scale.py                  # N = 10,000, local and postgres
    python bench/state_scale.py --repeat 3       # shared machines are noisy: compare medians
    python bench/state_scale.py --entries 2000 --url postgresql://user@127.0.0.1/db

Aim: a recorded success costs <= 2 ms median on loopback; a 10,000-entry read <= 0.5 s.
"""

from __future__ import annotations

import argparse
import os
import resource
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


class RoundTrips:
    """Counts this process's waits on the database server and its fsyncs (the local backend's
    unit of durable work) by wrapping psycopg's wait and os.fsync; the bench's own code only."""

    count = 0

    @classmethod
    def install(cls) -> None:
        real_fsync = os.fsync

        def fsync(fd: int) -> None:
            cls.count += 1
            real_fsync(fd)

        os.fsync = fsync  # type: ignore[assignment]
        try:
            import psycopg
        except ImportError:
            return
        real_wait = psycopg.Connection.wait

        def wait(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            cls.count += 1
            return real_wait(self, *args, **kwargs)

        psycopg.Connection.wait = wait  # type: ignore[method-assign]


def entry(i: int) -> StateEntry:
    spec = {"display_name": f"Automation {i}", "description": "x" * 80,
            "webhook": {"headers": "sha256:" + "0" * 64}, "enabled": True}
    return StateEntry(f"auto_{i:06d}", "workspace", spec, "2026-01-01T00:00:00Z", f"m.yaml:{i}")


def measure(name: str, backend: StateBackend, n: int) -> None:
    state = State()
    latencies = []
    wall = time.perf_counter()
    cpu = time.process_time()
    with backend.lock(10, "bench"):
        trips = RoundTrips.count
        for i in range(n):
            rid = ResourceId("studio", "Automation", f"a{i:06d}")
            state.entries[rid] = entry(i)
            started = time.perf_counter()
            backend.record(state.stamped(), {rid: state.entries[rid]})
            latencies.append(time.perf_counter() - started)
        record_trips = (RoundTrips.count - trips) / n
        backend.settle(state)
    trips = RoundTrips.count
    started = time.perf_counter()
    read = backend.read()
    read_time = time.perf_counter() - started
    read_trips = RoundTrips.count - trips
    assert len(read.entries) == n and read.serial == n
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{name:9} {n:>6} {statistics.median(latencies) * 1000:>10.2f} {p99 * 1000:>7.2f} "
          f"{record_trips:>12.1f} {read_time:>7.3f} {read_trips:>10} "
          f"{time.perf_counter() - wall:>7.1f} {time.process_time() - cpu:>6.2f} "
          f"{peak_mb:>8.0f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=1, help="runs per backend, one row each")
    parser.add_argument("--url", help="an existing PostgreSQL database (default: start one)")
    args = parser.parse_args()
    RoundTrips.install()
    print(f"{'backend':9} {'N':>6} {'median ms':>10} {'p99 ms':>7} {'trips/record':>12} "
          f"{'read s':>7} {'read trips':>10} {'wall s':>7} {'cpu s':>6} {'peak MB':>8}")
    for _ in range(max(1, args.repeat)):
        with tempfile.TemporaryDirectory() as folder:
            measure("local", LocalStateBackend(Path(folder) / "state.json"), args.entries)
    from reconciler.state.postgres import PostgresStateBackend

    if args.url:
        for _ in range(max(1, args.repeat)):
            measure("postgres", PostgresStateBackend(args.url, f"bench-{time.time_ns()}"),
                    args.entries)
        return
    from tests.state.pg_server import PostgresServer

    server = PostgresServer.start(durable=True)
    try:
        for _ in range(max(1, args.repeat)):
            measure("postgres", PostgresStateBackend(server.create_database("bench"), "bench"),
                    args.entries)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
