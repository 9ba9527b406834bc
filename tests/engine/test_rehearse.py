"""Rehearsal: the plan applied to a private sandbox copy, against a sandbox acting as production.

Production is the loopback sandbox; every test asserts it received no mutating request.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.engine.test_end_to_end import EXAMPLES, make_project, mutating, run

PROJECT = """\
version: 1
manifests: [manifests/]
providers:
  studio:
    type: workspace
    base_url: {url}
    organization_id: org_demo
    workspace_id: ws_ops
    token: ${{env:SANDBOX_TOKEN}}
  growth:
    type: outlit
    base_url: {url}
    token: ${{env:SANDBOX_TOKEN}}
"""

DIGEST = """\
apiVersion: reconciler/v1
kind: Automation
metadata: {{name: digest, provider: studio}}
spec:
  description: Sends the digest.
  code: print("digest")
  connections: [{connection}]
---
apiVersion: reconciler/v1
kind: Schedule
metadata: {{name: digest, provider: studio}}
spec: {{automation: digest, cron: "0 6 * * *"}}
---
apiVersion: reconciler/v1
kind: Trigger
metadata: {{name: digest-api, provider: studio}}
spec: {{automation: digest, phase: main, type: api}}
---
apiVersion: reconciler/v1
kind: Check
metadata: {{name: digest-smoke, provider: studio}}
spec: {{automation: digest, timeout: 30s}}
"""

NUDGE = """\
apiVersion: reconciler/v1
kind: Automation
metadata: {{name: nudge, provider: growth}}
spec:
  name: Nudge
  signals: [trial-expiring]
  destinations: [{destination}]
"""

PRODUCTION = {
    "workspace": {
        "connections": [{"connection_id": "slack-main", "connector": "slack"}],
        "automations": [
            {"display_name": "Legacy report", "code": "report()", "stage": "published",
             "connections": ["slack-main"]},
        ],
    },
}


def project_at(tmp_path: Path, server, connection: str = "slack-main",
               destination: str = "slack-growth") -> Path:
    project = tmp_path / "project"
    (project / "manifests").mkdir(parents=True)
    (project / "reconciler.yaml").write_text(PROJECT.format(url=server.url))
    (project / "manifests" / "digest.yaml").write_text(DIGEST.format(connection=connection))
    (project / "manifests" / "nudge.yaml").write_text(NUDGE.format(destination=destination))
    return project


@pytest.fixture(autouse=True)
def sandbox_token(monkeypatch):
    monkeypatch.setenv("SANDBOX_TOKEN", "sandbox")
    monkeypatch.setenv("NO_COLOR", "1")


@pytest.fixture
def production(sandbox_server):
    sandbox_server.seed(PRODUCTION)
    sandbox_server.clear_requests()
    return sandbox_server


def verdicts(result) -> dict[str, dict]:
    document = json.loads(result.stdout)
    return {op["address"]: op for op in document["rehearsal"]["operations"]}


def test_a_clean_plan_rehearses_clean_converges_and_changes_nothing(tmp_path, production):
    project = project_at(tmp_path, production)
    result = run(project, "plan", "--rehearse", "--detailed-exitcode")
    assert result.exit_code == 2, result.output
    assert "Converged: a plan against the rehearsed world shows no changes." in result.stdout
    assert "Rehearsal passed: 5 would succeed, 0 would fail, 0 blocked" in result.stdout
    assert "does not run automation code" in result.stdout  # said once, for the check
    assert mutating(production.requests()) == []
    # nothing of the rehearsal is left in production, and state was not written
    assert not (project / ".reconciler" / "state.json").exists()
    assert run(project, "plan", "--rehearse").exit_code == 0


def test_json_and_markdown_carry_the_verdict(tmp_path, production):
    project = project_at(tmp_path, production)
    as_json = run(project, "rehearse", "--format", "json")
    assert as_json.exit_code == 0, as_json.output
    document = json.loads(as_json.stdout)
    assert document["rehearsal"]["ok"] is True and document["rehearsal"]["converged"] is True
    assert document["resource_changes"]  # the plan itself is still there
    assert {op["verdict"] for op in document["rehearsal"]["operations"]} == {"succeeds"}
    markdown = run(project, "rehearse", "--format", "markdown")
    assert "#### Rehearsal ✅" in markdown.stdout
    assert mutating(production.requests()) == []


def test_an_unknown_connection_fails_at_its_operation_and_blocks_its_dependents(
    tmp_path, production
):
    project = project_at(tmp_path, production, connection="ghost-connection")
    result = run(project, "plan", "--rehearse", "--format", "json")
    assert result.exit_code == 1
    found = verdicts(result)
    failing = found["studio/Automation/digest"]
    assert failing["verdict"] == "fails" and "ghost-connection" in failing["detail"]
    for blocked in ("studio/Schedule/digest", "studio/Trigger/digest-api",
                    "studio/Check/digest-smoke"):
        assert found[blocked]["verdict"] == "blocked"
        assert found[blocked]["blocked_by"] == "studio/Automation/digest"
    assert found["growth/Automation/nudge"]["verdict"] == "succeeds"  # independent work goes on
    assert json.loads(result.stdout)["rehearsal"]["converged"] is None
    assert "the rehearsal failed" in result.stderr
    assert mutating(production.requests()) == []


def test_an_outlit_enable_with_no_enabled_destination_fails_with_the_platform_message(
    tmp_path, production
):
    project = project_at(tmp_path, production, destination="email-digest")  # disabled
    result = run(project, "rehearse", "--format", "json")
    assert result.exit_code == 1
    nudge = verdicts(result)["growth/Automation/nudge"]
    assert nudge["verdict"] == "fails"
    assert "MISSING_REQUIRED_RESOURCES" in nudge["detail"]
    assert mutating(production.requests()) == []


def test_removing_a_connection_a_published_automation_uses_fails_naming_it(
    tmp_path, production
):
    # the project claims slack-main; "Legacy report", published and not in the plan, uses it
    project = project_at(tmp_path, production, connection="slack-main")
    (project / "manifests" / "slack.yaml").write_text(
        "apiVersion: reconciler/v1\nkind: Connection\n"
        "metadata: {name: slack-main, provider: studio}\n"
        "spec: {connection_id: slack-main, connector: slack}\n"
    )
    (project / "manifests" / "digest.yaml").write_text(DIGEST.format(connection="slack-main"))
    assert run(project, "apply", "--auto-approve").exit_code == 0
    (project / "manifests" / "slack.yaml").unlink()
    (project / "manifests" / "digest.yaml").write_text(
        DIGEST.replace("  connections: [{connection}]\n", "").format()
    )
    before = len(production.requests())
    result = run(project, "rehearse", "--format", "json")
    assert result.exit_code == 1, result.output
    removal = verdicts(result)["studio/Connection/slack-main"]
    assert removal["verdict"] == "fails"
    assert "Legacy report" in removal["detail"]
    assert mutating(production.requests()[before:]) == []


def test_a_saved_plan_is_rehearsed_and_refused_when_stale(tmp_path, production):
    project = project_at(tmp_path, production)
    saved = tmp_path / "plan.json"
    assert run(project, "plan", "--out", str(saved)).exit_code == 0
    assert run(project, "rehearse", str(saved)).exit_code == 0
    (project / "manifests" / "nudge.yaml").write_text(
        NUDGE.format(destination="slack-growth").replace("Nudge", "Nudge 2")
    )
    stale = run(project, "rehearse", str(saved))
    assert stale.exit_code == 1 and "stale" in stale.stderr
    assert mutating(production.requests()) == []


def test_the_rehearsal_world_holds_no_credential(tmp_path, production, monkeypatch):
    from reconciler import config, rehearse

    monkeypatch.setenv("SANDBOX_TOKEN", "tok-CANARY-9f3e")
    project = config.load_project(project_at(tmp_path, production))
    sandboxed = rehearse._sandbox_config(project.providers["studio"], tmp_path / "w.db")
    assert "token" not in sandboxed.settings and sandboxed.is_sandbox
    assert sandboxed.settings["organization_id"] == "org_demo"


def test_a_draining_removal_is_rehearsed_without_stopping_anything_in_production(
    tmp_path, production
):
    project = project_at(tmp_path, production)
    config = project / "reconciler.yaml"
    config.write_text(config.read_text() + (
        f"  history:\n    type: automation-runs\n    base_url: {production.url}\n"
        "    token: ${env:SANDBOX_TOKEN}\n"
    ))
    assert run(project, "apply", "--auto-approve").exit_code == 0
    (project / "manifests" / "digest.yaml").unlink()
    before = len(production.requests())
    result = run(project, "rehearse", "--format", "json")
    assert result.exit_code == 0, result.output
    rehearsal = json.loads(result.stdout)["rehearsal"]
    removal = next(op for op in rehearsal["operations"]
                   if op["address"] == "studio/Automation/digest")
    assert removal["action"] == "remove" and removal["verdict"] == "succeeds"
    assert rehearsal["converged"] is True
    assert any("in-flight runs are not copied" in line for line in rehearsal["not_rehearsed"])
    assert mutating(production.requests()[before:]) == []


@pytest.mark.parametrize("example", EXAMPLES)
def test_every_example_rehearses_clean_and_converges(tmp_path, sandbox_server, example):
    project = make_project(tmp_path, sandbox_server, example)
    result = run(project, "plan", "--rehearse", "--format", "json")
    assert result.exit_code == 0, result.output
    rehearsal = json.loads(result.stdout)["rehearsal"]
    assert rehearsal["ok"] is True and rehearsal["converged"] is True
    assert {op["verdict"] for op in rehearsal["operations"]} <= {"succeeds", "not_rehearsed"}
    assert mutating(sandbox_server.requests()) == []


def test_github_format_annotates_the_failing_operation_and_fills_the_step_summary(
    tmp_path, production, monkeypatch
):
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    project = project_at(tmp_path, production, connection="ghost-connection")
    result = run(project, "plan", "--rehearse", "--format", "github")
    assert result.exit_code == 1
    assert "::error file=manifests/digest.yaml,line=1,title=reconciler rehearsal::" in (
        result.stdout)
    written = summary.read_text()
    assert "#### Rehearsal ❌" in written and "ghost-connection" in written
    assert mutating(production.requests()) == []
