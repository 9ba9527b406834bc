"""The contract through the CLI: claimed connections, connections never made, fields that do not
converge. Against the sandbox over loopback, as a user would run it."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.sandbox.server import LoopbackServer
from tests.contract.rewriting import Rewriting
from tests.engine.test_end_to_end import make_project, mutating, run, state_of

pytestmark = pytest.mark.usefixtures("sandbox_env")


@pytest.fixture
def sandbox_env(monkeypatch):
    monkeypatch.setenv("SANDBOX_TOKEN", "sandbox")
    monkeypatch.setenv("NO_COLOR", "1")


def test_a_connection_is_claimed_with_no_call_and_recorded_in_state(tmp_path, sandbox_server):
    project = make_project(tmp_path, sandbox_server)
    plan = run(project, "plan")
    # a claim is adopted: recorded in state, no call (the API cannot create a connection)
    assert "studio/Connection/slack-alerts" in plan.stdout
    assert "adopted into state (no API call)" in plan.stdout
    assert run(project, "apply", "--auto-approve").exit_code == 0
    entry = state_of(project)["resources"]["studio/Connection/slack-alerts"]
    assert entry["remote_id"] == "slack-alerts"
    assert not [r for r in sandbox_server.requests() if "connection" in r.path.lower()
                and "Connections" not in r.path and "Connection" not in r.path]


def test_a_connection_never_made_in_the_platform_fails_apply_saying_so(tmp_path, sandbox_server):
    project = make_project(tmp_path, sandbox_server)
    connections = project / "manifests" / "connections.yaml"
    connections.write_text(connections.read_text().replace("name: slack-alerts",
                                                           "name: slack-ghost"))
    automations = project / "manifests" / "automations.yaml"
    automations.write_text(automations.read_text().replace("- slack-alerts", "- slack-ghost"))
    plan = run(project, "plan")
    # nothing on the platform shows it: the plan says it is taken as declared, not "matched"
    assert ("studio/Connection/slack-ghost will be adopted into state (no API call) (claimed: "
            "the platform cannot show it, taken as declared)") in " ".join(plan.stdout.split())
    result = run(project, "apply", "--auto-approve")
    assert result.exit_code == 1
    assert ("connection slack-ghost does not exist in workspace ws_ops: create it in the "
            "platform first") in result.output
    assert "Traceback" not in result.output


def test_removing_a_connection_document_deletes_it_once_no_published_automation_uses_it(
    tmp_path, sandbox_server
):
    project = make_project(tmp_path, sandbox_server)
    assert run(project, "apply", "--auto-approve").exit_code == 0
    (project / "manifests" / "connections.yaml").unlink()
    blocked = run(project, "apply", "--auto-approve")
    # nightly-digest (published) still uses it: the plan names it and the delete is refused
    assert blocked.exit_code == 1
    assert "seen in use by Nightly digest" in blocked.stdout
    assert "used by published automation(s) Nightly digest" in blocked.output
    automations = project / "manifests" / "automations.yaml"
    automations.write_text(automations.read_text().replace("  connections:\n    - slack-alerts\n",
                                                           ""))
    before = len(sandbox_server.requests())
    done = run(project, "apply", "--auto-approve")
    assert done.exit_code == 0, done.output
    calls = mutating(sandbox_server.requests()[before:])
    assert calls.index(next(c for c in calls if c.endswith(":removeConnections"))) < calls.index(
        next(c for c in calls if c.endswith(":deleteConnection")))
    assert "studio/Connection/slack-alerts" not in state_of(project)["resources"]
    assert run(project, "plan", "--detailed-exitcode").exit_code == 0


def test_a_field_that_does_not_converge_fails_apply_naming_field_call_and_answer(
    tmp_path, sandbox_server
):
    def stays_deactivated(method: str, path: str, query: str, body: Any) -> Any:
        if method == "GET" and isinstance(body, dict) and "activation_state" in body:
            body["activation_state"] = "AUTOMATION_ACTIVATION_STATE_DEACTIVATED"
        return body

    with LoopbackServer(Rewriting(sandbox_server.app, stays_deactivated)) as platform:
        project = make_project(tmp_path, platform)
        result = run(project, "apply", "--auto-approve")
    assert result.exit_code == 1
    assert ("studio/Automation/lead-enrichment: activation_state did not converge: after PATCH "
            "W/automations/{automation_id}?update_mask=activation_state the platform answered "
            "activation_state = 'AUTOMATION_ACTIVATION_STATE_DEACTIVATED' (wanted "
            "'AUTOMATION_ACTIVATION_STATE_ACTIVE')") in result.output
    assert "Traceback" not in result.output


def test_a_newer_platform_with_unknown_values_plans_without_crashing(tmp_path, sandbox_server):
    project = make_project(tmp_path, sandbox_server)
    assert run(project, "apply", "--auto-approve").exit_code == 0

    def newer(method: str, path: str, query: str, body: Any) -> Any:
        for item in body.get("automations", []) if isinstance(body, dict) else []:
            item["activation_state"] = "AUTOMATION_ACTIVATION_STATE_PAUSED"
            item["labels"] = {"new": "field"}
        for item in body.get("triggers", []) if isinstance(body, dict) else []:
            item["phase_sub_type"] = "PHASE_SUB_TYPE_SMS"
        return body

    with LoopbackServer(Rewriting(sandbox_server.app, newer)) as platform:
        project_config = project / "reconciler.yaml"
        project_config.write_text(project_config.read_text().replace(sandbox_server.url,
                                                                     platform.url))
        plan = run(project, "plan", "--detailed-exitcode")
        as_json = run(project, "plan", "--format", "json")
    assert plan.exit_code == 2, plan.output
    assert "AUTOMATION_ACTIVATION_STATE_PAUSED" in plan.stdout
    assert "PHASE_SUB_TYPE_SMS" in plan.stdout
    assert as_json.exit_code == 0 and "Traceback" not in plan.output + as_json.output


def test_plan_and_apply_send_only_calls_of_the_contract(tmp_path, sandbox_server):
    # seen: every plan of a project with a workspace provider stopped with
    # "GET …/workspaces/{workspace_id}/connections answered 404" (a call in no reference)
    project = make_project(tmp_path, sandbox_server)
    (project / "manifests" / "connections.yaml").unlink()
    automations = project / "manifests" / "automations.yaml"
    automations.write_text(automations.read_text().replace("  connections: [slack-alerts]\n",
                                                           ""))
    plan = run(project, "plan")
    assert plan.exit_code == 0, plan.output
    assert run(project, "apply", "--auto-approve").exit_code == 0
    assert sandbox_server.violations() == []
    assert not [r for r in sandbox_server.requests() if r.status == 404 and "connections" in r.path]
