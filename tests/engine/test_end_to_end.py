"""The CLI end to end against the real sandbox over loopback and the real adapters."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from reconciler.cli import cli
from reconciler.state.local import LocalStateBackend

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(p.parent.name for p in (ROOT / "examples").glob("*/reconciler.yaml"))
READ_ONLY_POSTS = (":countConnectionUsage", ":traceConnectionUsage")


def make_project(tmp_path: Path, server, example: str = "quickstart") -> Path:
    """A copy of an example whose providers talk to the loopback sandbox."""
    project = tmp_path / example
    shutil.copytree(
        ROOT / "examples" / example, project, ignore=shutil.ignore_patterns(".reconciler")
    )
    config = project / "reconciler.yaml"
    # a served sandbox accepts any credential; only the embedded one needs none
    local = rf"\1base_url: {server.url}\n\1token: ${{env:SANDBOX_TOKEN}}"
    text = config.read_text()
    # datallog sends an API key beside its token
    text = re.sub(r"(?m)^( +)(type: datallog\n)", r"\1\2\1api_key: ${env:SANDBOX_TOKEN}\n", text)
    config.write_text(re.sub(r"(?m)^( +)base_url: sandbox$", local, text))
    return project


@pytest.fixture(autouse=True)
def sandbox_token(monkeypatch):
    monkeypatch.setenv("SANDBOX_TOKEN", "sandbox")
    monkeypatch.setenv("NO_COLOR", "1")


def run(project: Path, *args: str):
    result = CliRunner().invoke(cli, ["-C", str(project), *args], catch_exceptions=False)
    return result


def mutating(requests) -> list[str]:
    """Requests that change something (reads sent as POST excluded)."""
    found = []
    for request in requests:
        method, path = request.method, request.path
        if method == "GET" or path.startswith("/_sandbox"):
            continue
        if method == "POST" and path.endswith(READ_ONLY_POSTS):
            continue
        found.append(f"{method} {path}")
    return found


def state_of(project: Path) -> dict:
    return json.loads((project / ".reconciler" / "state.json").read_text())


# what a first publish does to activation_state is not stated by the contract: every value
FIRST_PUBLISH = ("deactivated", "active", "unspecified")


@pytest.mark.parametrize("first_publish", FIRST_PUBLISH)
@pytest.mark.parametrize("example", EXAMPLES)
def test_apply_converges_and_second_apply_makes_no_mutating_calls(
    tmp_path, sandbox_server, example, first_publish
):
    sandbox_server.set_settings(first_publish_activation=first_publish)
    project = make_project(tmp_path, sandbox_server, example)
    first = run(project, "apply", "--auto-approve")
    assert first.exit_code == 0, first.output
    assert "Apply complete" in first.stdout

    plan = run(project, "plan", "--detailed-exitcode")
    assert plan.exit_code == 0, plan.output
    assert "No changes." in plan.stdout

    before = len(sandbox_server.requests())
    again = run(project, "apply", "--auto-approve")
    assert again.exit_code == 0, again.output
    assert mutating(sandbox_server.requests()[before:]) == []


def test_plan_exit_codes_before_and_after_apply(tmp_path, sandbox_server):
    project = make_project(tmp_path, sandbox_server)
    assert run(project, "plan", "--detailed-exitcode").exit_code == 2
    assert run(project, "plan").exit_code == 0
    assert run(project, "apply", "--auto-approve").exit_code == 0
    assert run(project, "plan", "--detailed-exitcode").exit_code == 0
    sandbox_server.clear_requests()
    bad = run(project, "plan", "--target", "studio/Automation/no-such")
    assert bad.exit_code == 1 and "no such resource" in bad.stderr
    assert sandbox_server.requests() == []  # a mistyped target costs no reads


def test_apply_refuses_to_ask_without_a_terminal(tmp_path, sandbox_server):
    project = make_project(tmp_path, sandbox_server)
    result = run(project, "apply")
    assert result.exit_code == 1
    assert "stdin is not a terminal" in result.stderr
    assert mutating(sandbox_server.requests()) == []


def edit_outlit_description(server, project: Path, text: str) -> None:
    """Change the trial-nudge automation the way a person in the web UI would."""
    remote_id = state_of(project)["resources"]["growth/Automation/trial-nudge"]["remote_id"]
    response = httpx.patch(
        f"{server.url}/api/automations/{remote_id}",
        json={"description": text},
        headers={"Authorization": "Bearer sandbox"},
    )
    response.raise_for_status()


def test_drift_after_out_of_band_edit_exits_2_naming_resource_and_field(tmp_path, sandbox_server):
    project = make_project(tmp_path, sandbox_server)
    assert run(project, "apply", "--auto-approve").exit_code == 0
    clean = run(project, "drift")
    assert clean.exit_code == 0, clean.output

    edit_outlit_description(sandbox_server, project, "edited in the UI")
    drift = run(project, "drift")
    assert drift.exit_code == 2
    assert "growth/Automation/trial-nudge" in drift.stdout
    assert "description" in drift.stdout and "(drift)" in drift.stdout
    as_json = json.loads(run(project, "drift", "--format", "json").stdout)
    [change] = as_json["resource_changes"]
    assert change["changes"][0]["path"] == ["description"]


def test_saved_plan_is_refused_when_live_changed(tmp_path, sandbox_server):
    project = make_project(tmp_path, sandbox_server)
    assert run(project, "apply", "--auto-approve").exit_code == 0
    (project / "manifests" / "growth.yaml").write_text(
        (project / "manifests" / "growth.yaml")
        .read_text()
        .replace("about to expire", "about to run out")
    )
    saved = tmp_path / "plan.json"
    assert run(project, "plan", "--out", str(saved)).exit_code == 0
    edit_outlit_description(sandbox_server, project, "moved meanwhile")
    stale = run(project, "apply", str(saved))
    assert stale.exit_code == 1
    assert "saved plan is stale" in stale.stderr and "live objects changed" in stale.stderr


def test_saved_plan_applies_when_nothing_moved(tmp_path, sandbox_server):
    project = make_project(tmp_path, sandbox_server)
    saved = tmp_path / "plan.json"
    assert run(project, "plan", "--out", str(saved)).exit_code == 0
    applied = run(project, "apply", str(saved))
    assert applied.exit_code == 0, applied.output
    assert run(project, "plan", "--detailed-exitcode").exit_code == 0


def apply_process(project: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from reconciler.cli import main; main()",
            "-C",
            str(project),
            "apply",
            "--auto-approve",
            "--parallelism",
            "1",
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )


def wait_for(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


def serial(project: Path) -> int:
    """The state's serial as reconciler reads it (the file with its journal folded in)."""
    return LocalStateBackend(project / ".reconciler" / "state.json").read().serial


def test_apply_killed_midway_then_rerun_converges_without_duplicates(tmp_path, sandbox_server):
    project = make_project(tmp_path, sandbox_server)
    sandbox_server.set_faults(latency_ms=60)
    first = apply_process(project)
    wait_for(lambda: serial(project) >= 2)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    sandbox_server.clear_faults()
    recorded = serial(project)

    assert (project / ".reconciler" / "state.json.journal").exists()  # killed mid-way
    again = run(project, "apply", "--auto-approve")
    assert again.exit_code == 0, again.output
    assert serial(project) > recorded
    assert not (project / ".reconciler" / "state.json.journal").exists()
    assert run(project, "plan", "--detailed-exitcode").exit_code == 0
    names = [a["display_name"] for a in list_workspace_automations(sandbox_server, project)]
    assert len(names) == len(set(names)) == 3


def list_workspace_automations(server, project: Path) -> list[dict]:
    base = (
        f"{server.url}/api/v1/organizations/org_demo/workspaces/ws_ops/automations?page_size=1000"
    )
    response = httpx.get(base, headers={"Authorization": "Bearer sandbox"})
    response.raise_for_status()
    return response.json()["automations"]


def test_second_concurrent_apply_fails_naming_the_lock_holder(tmp_path, sandbox_server):
    project = make_project(tmp_path, sandbox_server)
    sandbox_server.set_faults(latency_ms=50)
    first = apply_process(project)
    try:
        wait_for(lambda: (project / ".reconciler" / "state.json.lock.info").exists())
        second = run(project, "apply", "--auto-approve", "--lock-timeout", "0.2")
        assert second.exit_code == 1
        assert f"(pid {first.pid}, reconciler apply) since " in second.stderr
        assert "Waiting up to 0.2s for the state lock" in second.stderr
    finally:
        sandbox_server.clear_faults()
        out, err = first.communicate(timeout=60)
    assert first.returncode == 0, err
    waiting = run(project, "apply", "--auto-approve", "--lock-timeout", "5")
    assert waiting.exit_code == 0


def test_no_secret_reaches_state_or_saved_plan(tmp_path, sandbox_server, monkeypatch):
    project = make_project(tmp_path, sandbox_server)
    secret = "tok-" + "z" * 24
    monkeypatch.setenv("SANDBOX_TOKEN", secret)
    saved = tmp_path / "plan.json"
    assert run(project, "plan", "--out", str(saved)).exit_code == 0
    applied = run(project, "apply", str(saved))
    assert applied.exit_code == 0, applied.output
    assert secret not in applied.output
    for path in [saved, *(project / ".reconciler").rglob("*.json")]:
        assert secret not in path.read_text(errors="replace")


def test_failed_check_exits_1_saying_the_changes_were_applied(tmp_path, sandbox_server):
    project = make_project(tmp_path, sandbox_server)
    checks = project / "manifests" / "checks.yaml"
    checks.write_text(
        checks.read_text().replace('channel: "#ops-test"', "fail: true")
    )
    result = run(project, "apply", "--auto-approve")
    assert result.exit_code == 1
    assert "the changes were applied but the check failed" in result.stdout
    assert "studio/Check/nightly-digest-smoke" in result.stdout
    assert run(project, "plan", "--detailed-exitcode").exit_code == 0  # changes are in place


def test_connection_behind_its_latest_version_is_upgraded_when_asked(tmp_path, sandbox_server):
    project = make_project(tmp_path, sandbox_server)
    assert run(project, "apply", "--auto-approve").exit_code == 0
    sandbox_server.edit("workspace.connection", "slack-alerts", bump_version=True)
    assert run(project, "plan", "--detailed-exitcode").exit_code == 0  # not asked: left alone
    automations = project / "manifests" / "automations.yaml"
    automations.write_text(
        automations.read_text().replace(
            "  connections:\n    - slack-alerts\n",
            "  connections:\n    - slack-alerts\n  upgrade_connections: true\n",
        )
    )
    plan = run(project, "plan", "--detailed-exitcode")
    assert (
        plan.exit_code == 2
        and "upgraded" in plan.stdout
        and "studio/Automation/nightly-digest" in plan.stdout
    )
    assert run(project, "apply", "--auto-approve").exit_code == 0
    assert run(project, "plan", "--detailed-exitcode").exit_code == 0


def test_import_adopts_an_existing_object_by_remote_id(tmp_path, sandbox_server):
    project = make_project(tmp_path, sandbox_server)
    assert run(project, "apply", "--auto-approve").exit_code == 0
    identity = "growth/Automation/trial-nudge"
    remote_id = state_of(project)["resources"][identity]["remote_id"]
    assert run(project, "state", "rm", identity).exit_code == 0
    assert identity not in state_of(project)["resources"]

    wrong = run(project, "import", identity, "no-such-id")
    assert wrong.exit_code == 1 and "no-such-id" in wrong.stderr
    adopted = run(project, "import", identity, remote_id)
    assert adopted.exit_code == 0, adopted.output
    assert state_of(project)["resources"][identity]["remote_id"] == remote_id
    assert run(project, "plan", "--detailed-exitcode").exit_code == 0
    undeclared = run(project, "import", "growth/Automation/not-in-git", remote_id)
    assert undeclared.exit_code == 1 and "not declared in the manifests" in undeclared.stderr


def test_github_annotations_point_at_files_from_where_the_command_started(
    tmp_path, sandbox_server, monkeypatch
):
    project = make_project(tmp_path, sandbox_server)
    monkeypatch.chdir(tmp_path)  # the repository root; the project is a folder in it
    result = CliRunner().invoke(
        cli, ["-C", project.name, "plan", "--format", "github"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert f"::warning file={project.name}/manifests/automations.yaml,line=" in result.stdout
    # the claimed connection is adopted (no call): a notice, not a warning
    assert f"::notice file={project.name}/manifests/connections.yaml,line=" in result.stdout


def test_plan_out_is_written_relative_to_dash_c(tmp_path, sandbox_server, monkeypatch):
    project = make_project(tmp_path, sandbox_server)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        cli, ["-C", project.name, "plan", "--out", "saved.json"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert (project / "saved.json").is_file() and not (tmp_path / "saved.json").exists()
    applied = CliRunner().invoke(
        cli, ["-C", project.name, "apply", "saved.json"], catch_exceptions=False
    )
    assert applied.exit_code == 0, applied.output
