"""Shared fixtures: the sandbox served on a free loopback port, and the anyio backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.sandbox.server import SandboxServer


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def sandbox_server(tmp_path: Path) -> Iterator[SandboxServer]:
    """A fresh sandbox (default world) on 127.0.0.1:<free port>, db in the test's tmp dir.

    ``.url``, ``.db_path``, ``.requests()`` -> [LoggedRequest(method, path, status)],
    ``.clear_requests()``, ``.edit(target, key, delete=, bump_version=, **fields)``,
    ``.set_faults(**settings)``, ``.clear_faults()``, ``.seed(world)``, ``.reset()``,
    ``.admin(method, path, json)``.
    """
    with SandboxServer(tmp_path / "sandbox.db") as server:
        yield server
