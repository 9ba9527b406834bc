"""No secret reaches the forge: not a platform token, not a sensitive manifest field, and the
forge's own token only in its Authorization header. Real plan against the served sandbox."""

from __future__ import annotations

from pathlib import Path

from .conftest import GITHUB_TOKEN, GITLAB_TOKEN, run

PLATFORM_TOKEN = "studio-token-canary-7f3a9"
HEADER_SECRET = "webhook-secret-canary-91c2e"

PROJECT = """version: 1
manifests: [manifests/]
providers:
  studio:
    type: workspace
    base_url: {url}
    token: ${{env:STUDIO_TOKEN}}
    organization_id: org_demo
    workspace_id: ws_ops
  growth:
    type: outlit
    base_url: {url}
    token: ${{env:STUDIO_TOKEN}}
  lab:
    type: datallog
    base_url: {url}
    token: ${{env:STUDIO_TOKEN}}
    api_key: ${{env:STUDIO_TOKEN}}
state:
  backend: local
  path: .reconciler/state.json
"""

SMOKE = f"""apiVersion: reconciler/v1
kind: Check
metadata: {{name: lab-smoke, provider: lab}}
spec:
  project: reports
  automation: daily-export
  webhook:
    url: https://hooks.example.com/reconciler
    headers: {{Authorization: "Bearer {HEADER_SECRET}", X-Other: "{HEADER_SECRET}-2"}}
"""


def secret_project(workspace: Path, sandbox_url: str) -> None:
    infra = workspace / "infra"
    (infra / "reconciler.yaml").write_text(PROJECT.format(url=sandbox_url))
    (infra / "manifests" / "lab.yaml").write_text(SMOKE)


def edit_a_description(workspace: Path) -> None:
    growth = workspace / "infra" / "manifests" / "growth.yaml"
    growth.write_text(growth.read_text().replace("description: ", "description: Edited. ", 1))


def assert_no_secret_sent(received, forge_token: str, auth_header: str) -> None:
    assert received, "the stand-in received nothing"
    for request in received:
        everything = request.text()
        assert PLATFORM_TOKEN not in everything
        assert HEADER_SECRET not in everything
        outside_auth = request.text().replace(f"{auth_header}: {request.headers[auth_header]}", "")
        assert forge_token not in outside_auth


def test_no_secret_reaches_the_pull_request_comment(github, workspace, sandbox_server, monkeypatch):
    monkeypatch.setenv("STUDIO_TOKEN", PLATFORM_TOKEN)
    secret_project(workspace, sandbox_server.url)
    first = run(workspace, "plan", "--comment", "github")
    assert first.exit_code == 0, first.output
    assert "lab/Check/lab-smoke" in github.comments[0]["body"]  # the check is in the comment
    edit_a_description(workspace)
    assert run(workspace, "plan", "--comment", "github").exit_code == 0  # the edit too
    assert {r.method for r in github.received} == {"GET", "POST", "PATCH"}
    assert_no_secret_sent(github.received, GITHUB_TOKEN, "authorization")
    assert PLATFORM_TOKEN not in first.output and HEADER_SECRET not in first.output


def test_no_secret_reaches_the_merge_request_note(gitlab, workspace, sandbox_server, monkeypatch):
    monkeypatch.setenv("STUDIO_TOKEN", PLATFORM_TOKEN)
    secret_project(workspace, sandbox_server.url)
    assert run(workspace, "plan", "--comment", "gitlab").exit_code == 0
    edit_a_description(workspace)
    assert run(workspace, "plan", "--comment", "gitlab").exit_code == 0
    assert {r.method for r in gitlab.received} == {"GET", "POST", "PUT"}
    assert_no_secret_sent(gitlab.received, GITLAB_TOKEN, "private-token")
