"""What the command tests share: an example copied to a temporary folder, the CLI run
in-process, and the admin routes of that project's embedded sandbox."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import anyio
import httpx
from click.testing import CliRunner, Result

from reconciler.cli import cli
from reconciler.config import DEFAULT_SANDBOX_DB
from reconciler.sandbox import in_process_transport

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def copy_example(tmp_path: Path, name: str = "quickstart") -> Path:
    """A fresh copy of ``examples/<name>`` (no state, no sandbox world)."""
    target = tmp_path / name
    shutil.copytree(EXAMPLES / name, target, ignore=shutil.ignore_patterns(".reconciler"))
    return target


def run(project: Path, *args: str) -> Result:
    """The CLI in-process with ``-C project``; stdout and stderr kept apart."""
    return CliRunner().invoke(cli, ["-C", str(project), *args], catch_exceptions=False)


def sandbox_admin(project: Path, method: str, route: str, json: Any = None) -> Any:
    """Call an admin route of the project's embedded sandbox (the one `base_url: sandbox` uses
    in this process, so its request log holds what the CLI sent)."""

    async def call() -> Any:
        transport = in_process_transport(project / DEFAULT_SANDBOX_DB)
        async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
            response = await client.request(method, f"/_sandbox/{route}", json=json)
            response.raise_for_status()
            return response.json() if response.content else None

    return anyio.run(call)


def requests_logged(project: Path, since: int = 0) -> list[dict[str, Any]]:
    """Platform requests the project's sandbox served, from entry ``since`` on."""
    return sandbox_admin(project, "GET", f"requests?since={since}")["requests"]
