"""A project on the loopback sandbox with a workspace and, unless asked not to, a runs API."""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result

from reconciler.cli import cli

W = "/api/v1/organizations/org_main/workspaces/ws_ops"
W_TEMPLATE = "/api/v1/organizations/{organization_id}/workspaces/{workspace_id}"  # request log
RUNS = """\
  runs:
    type: automation-runs
    base_url: {url}
    api_key: ${{env:RUNS_API_KEY}}
    timeout: 5
    max_retries: 1
"""
PROJECT = """\
version: 1
manifests: [manifests/]
providers:
  studio:
    type: workspace
    base_url: {url}
    organization_id: org_main
    workspace_id: ws_ops
    token: ${{env:STUDIO_TOKEN}}
    timeout: 5
    max_retries: 1
  growth:
    type: outlit
    base_url: {url}
    token: ${{env:OUTLIT_TOKEN}}
    timeout: 5
    max_retries: 1
"""


@dataclass
class Project:
    """A project folder on the sandbox, the CLI run in it, and the platform's API at hand."""

    root: Path
    server: Any

    def write(self, name: str, text: str) -> Path:
        path = self.root / "manifests" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
        return path

    def cli(self, *args: str) -> Result:
        return CliRunner().invoke(cli, ["-C", str(self.root), *args], catch_exceptions=False)

    def cli_input(self, *args: str, input: str) -> Result:
        return CliRunner().invoke(cli, ["-C", str(self.root), *args], input=input,
                                  catch_exceptions=False)

    def state(self) -> dict[str, Any]:
        from reconciler.state.local import LocalStateBackend

        state = LocalStateBackend(self.root / ".reconciler" / "state.json").read()
        return {str(rid): entry for rid, entry in state.entries.items()}

    def api(self, method: str, path: str, body: Any = None) -> httpx.Response:
        headers = {"Authorization": "Bearer token"}
        return httpx.request(method, self.server.url + path, json=body, headers=headers)

    def automation(self, display_name: str) -> dict[str, Any] | None:
        listed = self.api("GET", f"{W}/automations?page_size=1000").json()
        return next((a for a in listed.get("automations", [])
                     if a["display_name"] == display_name), None)

    def invoke(self, automation_id: str) -> str:
        answer = self.api("POST", f"{W}/automations/{automation_id}:invoke",
                          {"stage": "AUTOMATION_STAGE_PUBLISHED", "inputs": {}})
        assert answer.status_code == 200, answer.text
        return str(answer.json()["run_id"])

    def run_status(self, run_id: str) -> str:
        answer = self.api("GET", f"/api/v1/automation-runs/{run_id}")
        return str(answer.json()["status"])

    def mutating(self) -> list[str]:
        """Changing platform calls made so far as path templates (reads and admin calls left
        out)."""
        found = []
        for request in self.server.requests():
            if request.method == "GET" or request.path.startswith("/_sandbox"):
                continue
            if request.path.endswith((":countConnectionUsage", ":traceConnectionUsage")):
                continue
            found.append(f"{request.method} {request.path.replace(W_TEMPLATE, 'W')}")
        return found


def make_project(root: Path, server: Any, *, runs: bool = True) -> Project:
    (root / "manifests").mkdir(parents=True)
    text = PROJECT.format(url=server.url) + (RUNS.format(url=server.url) if runs else "")
    (root / "reconciler.yaml").write_text(text)
    return Project(root, server)


@pytest.fixture(autouse=True)
def credentials(monkeypatch):
    monkeypatch.setenv("STUDIO_TOKEN", "studio-token")
    monkeypatch.setenv("OUTLIT_TOKEN", "outlit-token")
    monkeypatch.setenv("RUNS_API_KEY", "runs-key")
    monkeypatch.setenv("NO_COLOR", "1")


@pytest.fixture
def project(tmp_path: Path, sandbox_server) -> Project:
    return make_project(tmp_path / "project", sandbox_server)


def dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True)
