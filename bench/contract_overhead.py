"""What the strict sandbox costs per request: the same requests served with the contract checks
off, with requests checked (the default), and with answers checked too (the test suite).

    python bench/contract_overhead.py [--requests N]

Prints requests, wall time, milliseconds per request and CPU for each mode. The verdict cache
makes a repeated request nearly free; the figures use distinct requests (the worst case).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path

import httpx

W = "/api/v1/organizations/o/workspaces/w"


async def serve(app, count: int, mark: str) -> float:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox",
                                 headers={"Authorization": "Bearer bench"}) as client:
        name = f"bench-{time.time_ns()}"
        created = await client.post(f"{W}/automations", json={"display_name": name})
        ident = created.json()["name"].rsplit("/", 1)[-1]
        start = time.process_time()
        # distinct query strings, in each mode too (the checkers and their verdicts are shared
        # by the whole process): no verdict is reused
        for index in range(count):
            await client.get(f"{W}/automations/{ident}", params={"n": f"{mark}{index}"})
            await client.get(f"{W}/automations", params={"page_size": 10 + index % 500,
                                                         "filter": f"{mark}{index}"})
        return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=500)
    count = parser.parse_args().requests
    from reconciler.sandbox import strict
    from reconciler.sandbox.app import create_app

    for label, requests_on, responses_on in (("off", "0", False), ("requests", "1", False),
                                             ("requests+answers", "1", True)):
        os.environ[strict.CHECK_REQUESTS_VARIABLE] = requests_on
        with tempfile.TemporaryDirectory() as folder:
            app = create_app(Path(folder) / "bench.db", in_process=True,
                             check_responses=responses_on)
            asyncio.run(serve(app, 5, f"warm-{label}"))  # warm: builds the checkers once
            wall = time.perf_counter()
            cpu = asyncio.run(serve(app, count, label))
            wall = time.perf_counter() - wall
        sent = 2 * count
        print(f"{label:18} requests {sent:6d}  wall {wall:7.2f} s  "
              f"{1000 * wall / sent:6.2f} ms/request  cpu {cpu:6.2f} s")


if __name__ == "__main__":
    main()
