"""What the benchmarks share: a free loopback port and waiting for a served sandbox to answer."""

from __future__ import annotations

import socket
import time

import httpx


def free_port() -> int:
    """A port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(client: httpx.Client) -> None:
    """Wait (20 s at most) until the sandbox behind ``client`` answers its health route."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if client.get("/_sandbox/health").status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.05)
    raise SystemExit("the sandbox did not start")
