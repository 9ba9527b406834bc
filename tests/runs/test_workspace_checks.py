"""Workspace checks through apply and ``reconciler check``, and run health in ``status``."""

from __future__ import annotations

import json

import pytest

AUTOMATION = """\
apiVersion: reconciler/v1
kind: Automation
metadata: {name: digest, provider: studio}
spec:
  display_name: Digest smoke target
  code: "def run(inputs, tools):\\n    return {}\\n"
"""


def check_doc(name: str, **spec: object) -> str:
    fields = {"automation": "digest", **spec}
    return (
        "apiVersion: reconciler/v1\nkind: Check\n"
        f"metadata: {{name: {name}, provider: studio}}\nspec: {json.dumps(fields)}\n"
    )


@pytest.fixture
def applied(runs_project):
    """The automation applied (no run yet); a passing check ``smoke`` declared beside it."""
    runs_project.write_manifest("digest.yaml", AUTOMATION)
    result = runs_project.cli("apply", "--auto-approve")
    assert result.exit_code == 0, result.output
    runs_project.write_manifest("smoke.yaml", check_doc("smoke", timeout="10s"))
    return runs_project


def test_apply_runs_a_new_check_and_exits_1_when_it_fails(runs_project):
    runs_project.write_manifest("digest.yaml", AUTOMATION)
    runs_project.write_manifest("smoke.yaml", check_doc("smoke", timeout="10s"))
    passed = runs_project.cli("apply", "--auto-approve")
    assert passed.exit_code == 0, passed.output
    assert "check studio/Check/smoke passed" in passed.output

    runs_project.write_manifest("smoke.yaml", check_doc("smoke", inputs={"fail": True}))
    failed = runs_project.cli("apply", "--auto-approve")
    assert failed.exit_code == 1
    assert "the changes were applied but the check failed" in failed.output
    assert "Run tool" in failed.output  # the steps of the failed run


def test_on_demand_check_passes(applied):
    result = applied.cli("check", "smoke")
    assert result.exit_code == 0, result.output
    assert "check studio/Check/smoke passed" in result.stdout
    assert "FINISHED" in result.stdout


def test_failing_check_exits_1_and_shows_the_steps(applied):
    applied.write_manifest("broken.yaml", check_doc("broken", inputs={"fail": True}))
    result = applied.cli("check", "broken")
    assert result.exit_code == 1
    out = result.stdout
    assert "check studio/Check/broken FAILED" in out and "expected success" in out
    assert "TOOL" in out or "Run tool" in out
    assert "1 of 1 check(s) failed" in result.stderr


def test_expected_failure_passes(applied):
    applied.write_manifest(
        "refuses.yaml", check_doc("refuses", inputs={"fail": True}, expect="failure")
    )
    result = applied.cli("check", "refuses", "--format", "json")
    assert result.exit_code == 0, result.output
    (item,) = json.loads(result.stdout)
    assert item["passed"] and item["run"]["status"] == "FAILED"
    assert [s["status"] for s in item["run"]["steps"]][-2:] == ["FAILED", "NEW"]


def test_check_outliving_its_timeout_fails_cleanly(applied):
    applied.write_manifest("slow.yaml", check_doc("slow", timeout="300ms"))
    result = applied.cli("check", "slow")
    assert result.exit_code == 1
    assert "(timeout)" in result.stdout
    assert "left running" in result.stdout  # the workspace API cannot cancel runs
    assert "Traceback" not in result.output


def test_unknown_check_name_lists_the_known_ones(applied):
    result = applied.cli("check", "smok")
    assert result.exit_code == 1
    assert "no Check named 'smok'" in result.stderr and "studio/Check/smoke" in result.stderr


def test_progress_goes_to_stderr_as_plain_lines(applied):
    result = applied.cli("check", "smoke", "--format", "json")
    assert json.loads(result.stdout)[0]["passed"]
    assert "studio/Check/smoke: run" in result.stderr
    assert "\x1b[" not in result.stderr  # no terminal: no spinner, no colour


def test_status_shows_sync_state_beside_last_run(applied, sandbox_server):
    assert applied.cli("check", "smoke").exit_code == 0
    result = applied.cli("status", "--format", "json")
    assert result.exit_code == 0, result.output
    rows = {row["id"]: row for row in json.loads(result.stdout)}
    digest = rows["studio/Automation/digest"]
    assert digest["sync"] == "in sync"
    assert digest["health"] == "succeeded"  # the check's run, seen through automation-runs
    assert "studio/Check/smoke" not in rows

    applied.write_manifest("digest.yaml", AUTOMATION.replace("Digest smoke", "Digest moved"))
    text = applied.cli("status")
    assert text.exit_code == 0, text.output
    line = next(li for li in text.stdout.splitlines() if "studio/Automation/digest" in li)
    assert "pending change" in line and "succeeded" in line


def test_status_marks_out_of_band_edits_as_drifted(applied, sandbox_server):
    sandbox_server.edit("workspace.automation", "Digest smoke target", description="by hand")
    rows = {row["id"]: row for row in json.loads(applied.cli("status", "--format", "json").stdout)}
    assert rows["studio/Automation/digest"]["sync"] == "drifted"


@pytest.mark.anyio
async def test_drift_report_gets_failed_runs_of_managed_automations_since(applied, seed_runs):
    from datetime import timedelta

    from reconciler.config import load_project
    from reconciler.engine import Engine, state_backend
    from reconciler.model import ResourceId
    from reconciler.project_runs import project_failed_runs

    project = load_project(applied.root)
    state = state_backend(project).read()
    digest = ResourceId("studio", "Automation", "digest")
    remote = state.entries[digest].remote_id.rsplit("/", 1)[-1]
    seed_runs(
        {"automationId": remote, "status": "failed", "createdAt": "2020-01-01T00:00:00Z"},
        {"automationId": remote, "status": "failed", "error": "quota exceeded"},
        {"automationId": "someone-else", "status": "failed"},
    )
    async with Engine(project) as engine:
        recent = await project_failed_runs(project, state, engine.provider)
        all_time = await project_failed_runs(project, state, engine.provider, timedelta(days=3650))
    assert [(f.id, f.describe().endswith("quota exceeded")) for f in recent] == [(digest, True)]
    assert len(all_time) == 2


def test_runs_list_takes_the_name_of_a_managed_automation(applied):
    assert applied.cli("check", "smoke").exit_code == 0
    result = applied.cli("runs", "list", "--automation", "digest", "--format", "json")
    assert result.exit_code == 0, result.output
    items = json.loads(result.stdout)["items"]
    assert len(items) == 1  # the smoke run
    assert items[0]["triggerType"] == "manual" and items[0]["status"] == "succeeded"


def _seed_failures(project, seed_runs) -> str:
    from reconciler.config import load_project
    from reconciler.engine import state_backend
    from reconciler.model import ResourceId

    state = state_backend(load_project(project.root)).read()
    remote = state.entries[ResourceId("studio", "Automation", "digest")].remote_id
    automation_id = remote.rsplit("/", 1)[-1]
    seed_runs(
        {"automationId": automation_id, "status": "failed", "error": "quota exceeded"},
        {"automationId": automation_id, "status": "failed", "createdAt": "2020-01-01T00:00:00Z"},
    )
    return automation_id


def test_drift_command_lists_recent_failed_runs_without_calling_them_drift(
    applied, seed_runs
):
    _seed_failures(applied, seed_runs)
    (applied.root / "manifests" / "smoke.yaml").unlink()  # a check alone is not drift

    text = applied.cli("drift")
    assert text.exit_code == 0, text.output  # failed runs are health, not drift
    assert "1 failed run(s) of managed automations in the last 24h:" in text.stdout
    assert "studio/Automation/digest" in text.stdout and "quota exceeded" in text.stdout

    wide = applied.cli("drift", "--since", "36500d", "--format", "json")
    document = json.loads(wide.stdout)
    assert document["failed_runs_since"] == "36500d"
    assert [run["address"] for run in document["failed_runs"]] == ["studio/Automation/digest"] * 2

    markdown = applied.cli("drift", "--format", "markdown")
    assert "**1 failed run(s) of managed automations in the last 24h:**" in markdown.stdout
    github = applied.cli("drift", "--format", "github")
    assert "::warning title=reconciler failed run::studio/Automation/digest" in github.stdout


def test_drift_refuses_a_since_that_is_not_a_duration(applied):
    result = applied.cli("drift", "--since", "yesterday")
    assert result.exit_code == 1
    assert "expected a duration" in result.output


def test_runs_list_show_and_retry_name_the_managed_automation_beside_its_remote_id(
    applied, seed_runs
):
    automation_id = _seed_failures(applied, seed_runs)
    seed_runs({"automationId": "not-managed-here", "status": "succeeded"})

    listed = json.loads(applied.cli("runs", "list", "--format", "json").stdout)["items"]
    identities = {run["automationId"]: run["identity"] for run in listed}
    assert identities == {automation_id: "studio/Automation/digest", "not-managed-here": None}
    table = applied.cli("runs", "list")
    assert table.exit_code == 0, table.output
    row = next(line for line in table.stdout.splitlines() if automation_id in line)
    assert "studio/Automation/digest" in row

    run_id = next(run["id"] for run in listed if run["identity"])
    shown = applied.cli("runs", "show", run_id)
    assert shown.exit_code == 0, shown.output
    assert "managed as: studio/Automation/digest" in shown.stdout
    data = json.loads(applied.cli("runs", "show", run_id, "--format", "json").stdout)
    assert data["run"]["identity"] == "studio/Automation/digest"

    failed = next(run["id"] for run in listed if run["identity"] and run["status"] == "failed")
    retried = applied.cli("runs", "retry", failed)
    assert retried.exit_code == 0, retried.output
    assert "managed as studio/Automation/digest" in retried.stdout
