"""Shared fixtures: the sandbox served on a free loopback port, and the anyio backend.

Every sandbox of the run checks its answers against the contract documents too, and the run
fails when any test made a call outside the contract, sent our own invalid request, or got an
answer the contract does not allow (see reconciler.sandbox.strict).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.sandbox import strict
from reconciler.sandbox.server import SandboxServer

# set before any app exists; processes the tests start inherit it
os.environ.setdefault(strict.CHECK_RESPONSES_VARIABLE, "1")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if any test recorded a contract violation."""
    found = [v for v in strict.RECORDED if strict.counted(v)]
    if not found:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    lines = [f"{len(found)} contract violation(s) recorded by the sandbox during the run:"]
    lines += [f"  {v['kind']}: {v['message']}" for v in found[:30]]
    if reporter is not None:
        reporter.write_line("\n".join(lines), red=True)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


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
