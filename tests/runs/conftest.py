"""A project wired to the loopback sandbox: runs, Datallog and workspace provider instances.

Credentials come from the environment like in production (``${env:...}``); the sandbox accepts
any non-empty value with the right scheme.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from reconciler.cli import cli

WEBHOOK_SECRET = "hook-secret-7d1f"


@dataclass
class RunsProject:
    """A project folder plus a way to run the CLI in it."""

    root: Path
    url: str

    def write_manifest(self, name: str, text: str) -> None:
        (self.root / "manifests" / name).write_text(textwrap.dedent(text))

    def cli(self, *args: str) -> Result:
        return CliRunner().invoke(cli, ["-C", str(self.root), *args], catch_exceptions=False)


@pytest.fixture
def runs_project(tmp_path: Path, sandbox_server, monkeypatch) -> RunsProject:
    monkeypatch.setenv("RUNS_API_KEY", "runs-key")
    monkeypatch.setenv("DATALLOG_TOKEN", "dl-token")
    monkeypatch.setenv("DATALLOG_API_KEY", "dl-key")
    monkeypatch.setenv("STUDIO_TOKEN", "studio-token")
    monkeypatch.setenv("WEBHOOK_AUTH", WEBHOOK_SECRET)
    root = tmp_path / "project"
    (root / "manifests").mkdir(parents=True)
    (root / "reconciler.yaml").write_text(
        textwrap.dedent(
            f"""\
            version: 1
            manifests: [manifests/]
            providers:
              studio:
                type: workspace
                base_url: {sandbox_server.url}
                organization_id: org_main
                workspace_id: ws_ops
                token: ${{env:STUDIO_TOKEN}}
                timeout: 5
                max_retries: 1
              etl:
                type: datallog
                base_url: {sandbox_server.url}
                token: ${{env:DATALLOG_TOKEN}}
                api_key: ${{env:DATALLOG_API_KEY}}
                timeout: 5
                max_retries: 1
              runs:
                type: automation-runs
                base_url: {sandbox_server.url}
                api_key: ${{env:RUNS_API_KEY}}
                timeout: 5
                max_retries: 1
            """
        )
    )
    return RunsProject(root, sandbox_server.url)


@pytest.fixture
def seed_runs(sandbox_server) -> Callable[..., None]:
    """Add finished runs to the sandbox world."""

    def seed(*runs: dict) -> None:
        sandbox_server.seed({"runs": list(runs)})

    return seed
