"""One loopback sandbox per test module (reset before each test) to keep the area fast."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from reconciler.sandbox.server import SandboxServer, loopback_client


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxServer]:
    with SandboxServer(Path(tmp_path_factory.mktemp("sandbox")) / "sandbox.db") as server:
        yield server


@pytest.fixture
def server(shared_server: SandboxServer) -> SandboxServer:
    shared_server.reset()
    return shared_server


def _client(server: SandboxServer, headers: dict[str, str]) -> Iterator[httpx.Client]:
    with loopback_client(base_url=server.url, headers=headers, timeout=10.0) as client:
        yield client


@pytest.fixture
def ws(server: SandboxServer) -> Iterator[httpx.Client]:
    """Client for the workspace API (Bearer PAT)."""
    yield from _client(server, {"Authorization": "Bearer sandbox"})


@pytest.fixture
def outlit(server: SandboxServer) -> Iterator[httpx.Client]:
    yield from _client(server, {"Authorization": "Bearer ok_sandbox"})


@pytest.fixture
def datallog(server: SandboxServer) -> Iterator[httpx.Client]:
    yield from _client(server, {"Authorization": "Token sandbox", "x-api-key": "sandbox"})


@pytest.fixture
def runs_api(server: SandboxServer) -> Iterator[httpx.Client]:
    yield from _client(server, {"X-API-Key": "sandbox"})
