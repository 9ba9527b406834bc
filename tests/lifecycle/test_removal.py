"""Removal that drains, and lifecycle.on_remove, against the sandbox over loopback."""

from __future__ import annotations

import pytest

from tests.lifecycle.conftest import Project, W, make_project

# each test removes the project's only manifest: removing everything is the point here
ALL = "--allow-remove-all"

WORLD = {"workspace": {"automations": [{
    "display_name": "Lead Router", "code": "route()",
    "schedule": {"cron": "0 * * * *"},
    "triggers": [{"trigger_id": "inbound", "phase_type": "PHASE_TYPE_MAIN",
                  "phase_sub_type": "PHASE_SUB_TYPE_WEBHOOK"}],
}]}}


def manifest(lifecycle: str = "drain_timeout: 1s") -> str:
    return f"""\
        apiVersion: reconciler/v1
        kind: Automation
        metadata:
          name: lead-router
          provider: studio
          lifecycle: {{{lifecycle}}}
        spec:
          display_name: Lead Router
          description: routes inbound leads
          code: route()
        """


def managed(project: Project, lifecycle: str = "drain_timeout: 1s") -> str:
    """The hand-made automation, taken under management; its remote id."""
    project.server.seed(WORLD)
    path = project.write("lead-router.yaml", manifest(lifecycle))
    applied = project.cli("apply", "--auto-approve", ALL)
    assert applied.exit_code == 0, applied.output
    project.removed = path  # type: ignore[attr-defined]
    return str(project.state()["studio/Automation/lead-router"].remote_id)


def test_removal_waits_for_a_run_in_flight_then_deletes(project):
    run_id = project.invoke(managed(project))
    project.server.clear_requests()
    project.removed.unlink()

    applied = project.cli("apply", "--auto-approve", ALL)

    assert applied.exit_code == 0, applied.output
    assert "waiting for 1 run of lead-router, 0 s" in applied.stderr
    assert project.run_status(run_id) == "succeeded"  # it ended before the delete
    assert project.automation("Lead Router") is None
    assert project.mutating() == [
        "PATCH W/automations/{automation_id}",  # deactivate
        "POST W/automations/{automation_id}:disableAutomationSchedule",
        "DELETE W/automations/{automation_id}",
    ]
    assert project.state() == {}


def test_plan_shows_the_three_steps_of_a_drain(project):
    managed(project)
    project.removed.unlink()

    planned = project.cli("plan", ALL)

    assert planned.exit_code == 0, planned.output
    assert (
        "steps: PATCH update_mask=activation_state (AUTOMATION_ACTIVATION_STATE_DEACTIVATED) -> "
        ":disableAutomationSchedule (if it has a schedule) -> "
        "wait for in-flight runs to end (runs from runs, up to 1s) -> "
        "DELETE automation (soft delete)"
    ) in planned.stdout


def test_a_drain_that_times_out_leaves_it_deactivated_and_the_next_apply_finishes(project):
    automation_id = managed(project)
    project.server.seed({"runs": [{"automation": "Lead Router", "status": "running",
                                   "id": "6f1c1d2e-0000-4000-8000-000000000001"}]})
    project.removed.unlink()

    stopped = project.cli("apply", "--auto-approve", ALL)

    assert stopped.exit_code == 1
    assert ("drain timed out after 1s: 1 run of lead-router still going "
            "(6f1c1d2e-0000-4000-8000-000000000001)") in stopped.output
    live = project.automation("Lead Router")
    assert live is not None and live["activation_state"].endswith("DEACTIVATED")
    schedule = project.api("GET", f"{W}/automations/{automation_id}/schedule").json()
    assert schedule["enabled"] is False
    assert "studio/Automation/lead-router" in project.state()  # the drain is still owed

    cancelled = project.api("POST", "/api/v1/automation-runs/"
                            "6f1c1d2e-0000-4000-8000-000000000001/cancel")
    assert cancelled.status_code == 200
    resumed = project.cli("apply", "--auto-approve", ALL)

    assert resumed.exit_code == 0, resumed.output
    assert project.automation("Lead Router") is None
    assert project.state() == {}


def test_drain_timeout_is_kept_in_state_once_the_manifest_is_gone(project):
    managed(project, "drain_timeout: 90s")
    entry = project.state()["studio/Automation/lead-router"]
    assert entry.drain_timeout == 90.0
    project.removed.unlink()
    assert "up to 1m30s" in project.cli("plan", ALL).stdout


def test_without_a_runs_provider_the_plan_says_removal_cannot_wait(tmp_path, sandbox_server):
    project = make_project(tmp_path / "bare", sandbox_server, runs=False)
    managed(project)
    project.removed.unlink()

    planned = project.cli("plan", ALL)

    assert "cannot wait for in-flight runs: no provider in the project reports runs of " \
        "workspace (it is deleted right after)" in planned.stdout
    applied = project.cli("apply", "--auto-approve", ALL)
    assert applied.exit_code == 0, applied.output
    assert project.automation("Lead Router") is None


def test_on_remove_deactivate_never_deletes(project):
    automation_id = managed(project, "on_remove: deactivate")
    project.write("trigger.yaml", """\
        apiVersion: reconciler/v1
        kind: Trigger
        metadata: {name: inbound, provider: studio, lifecycle: {on_remove: deactivate}}
        spec: {automation: lead-router, phase: main, type: webhook, active: true}
        """)
    # the trigger matched live with no difference is recorded once something changes it
    project.server.edit("workspace.trigger", "Lead Router/inbound", is_active=False)
    assert project.cli("apply", "--auto-approve", ALL).exit_code == 0
    project.server.clear_requests()
    project.removed.unlink()
    (project.root / "manifests" / "trigger.yaml").unlink()

    applied = project.cli("apply", "--auto-approve", ALL)

    assert applied.exit_code == 0, applied.output
    calls = project.mutating()
    assert not [call for call in calls if call.startswith("DELETE")], calls
    assert "PATCH W/automations/{automation_id}/triggers/{trigger_id}" in calls
    live = project.automation("Lead Router")
    assert live is not None and live["activation_state"].endswith("DEACTIVATED")
    trigger = project.api("GET", f"{W}/automations/{automation_id}/triggers").json()
    assert [t["is_active"] for t in trigger["triggers"]] == [False]
    assert project.state() == {}
    after = project.cli("plan", "--detailed-exitcode", ALL)
    assert after.exit_code == 0, after.output  # unmanaged now: never touched again


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_on_remove_keep_only_stops_managing(project, fmt):
    managed(project, "on_remove: keep")
    project.removed.unlink()
    project.server.clear_requests()

    planned = project.cli("plan", "--format", fmt, ALL)
    applied = project.cli("apply", "--auto-approve", ALL)

    assert applied.exit_code == 0, applied.output
    if fmt == "text":
        assert "will be no longer managed" in planned.stdout
        assert "Plan: 0 to create, 0 to update, 0 to replace, 0 to remove, 1 to forget." \
            in planned.stdout
    else:
        assert '"forget": 1' in planned.stdout
    assert project.mutating() == []
    live = project.automation("Lead Router")
    assert live is not None and live["activation_state"].endswith("ACTIVE")
    assert project.state() == {}
