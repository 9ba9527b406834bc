"""Reading a seeded workspace: projection into spec shape, identity matching, fewest requests."""

from __future__ import annotations

import pytest

from reconciler.model import ResourceId
from tests.providers.conftest import find, resource

pytestmark = pytest.mark.anyio

W = "/api/v1/organizations/{organization_id}/workspaces/{workspace_id}"


def world(count: int) -> dict:
    automations = []
    for index in range(count):
        automations.append({
            "display_name": f"report-{index}", "code": f"print({index})",
            "marked_outputs": ["z", "a"], "connections": ["slack-main", "pg-main"],
            "schedule": {"cron": "0 3 * * *", "timezone": "Europe/Berlin",
                         "end": {"end_type": "SCHEDULE_END_TYPE_AFTER_OCCURRENCES",
                                 "occurrences": 4}},
            "triggers": [{"trigger_id": f"hook-{index}", "phase_type": "PHASE_TYPE_MAIN",
                          "phase_sub_type": "PHASE_SUB_TYPE_WEBHOOK"},
                         {"trigger_id": f"mail-{index}", "phase_type": "PHASE_TYPE_PRE",
                          "phase_sub_type": "PHASE_SUB_TYPE_EMAIL", "is_active": False}],
        })
    automations.append({"display_name": "Draft Idea", "stage": "draft", "description": "wip"})
    automations.append({"display_name": "paused", "activation": "deactivated"})
    return {"workspace": {
        "connections": [{"connection_id": "slack-main", "connector": "slack"},
                        {"connection_id": "pg-main", "connector": "postgres"},
                        {"connection_id": "spare", "connector": "http"}],
        "automations": automations,
    }}


async def test_read_projects_every_kind_into_spec_shape_across_several_pages(
    sandbox_server, workspace
):
    sandbox_server.seed(world(5))
    sandbox_server.clear_requests()
    workspace.client.page_size_cap = 2
    desired = [resource("Automation", "report-1", code="print(1)", marked_outputs=["a", "z"],
                        connections=["pg-main", "slack-main"]),
               resource("Schedule", "report-1-schedule", automation="report-1", cron="0 3 * * *")]
    live = await workspace.read(desired, {})

    automation = find(live, "Automation", "report-1")
    assert automation.managed
    expected = {k: v for k, v in desired[0].spec.items() if k != "upgrade_connections"}
    assert automation.spec == expected
    schedule = find(live, "Schedule", "report-1-schedule")
    assert schedule.managed and schedule.remote_id == automation.remote_id
    assert schedule.spec == {"automation": "report-1", "cron": "0 3 * * *",
                             "timezone": "Europe/Berlin", "inputs": {},
                             "end": {"after_occurrences": 4}, "enabled": True}
    trigger = find(live, "Trigger", "mail-1")
    assert not trigger.managed
    assert trigger.spec == {"automation": "report-1", "trigger_id": "mail-1", "phase": "pre",
                            "type": "email", "active": False}
    draft = find(live, "Automation", "draft-idea")
    assert (draft.managed, draft.spec["stage"], draft.spec["description"]) == (False, "draft",
                                                                                "wip")
    assert find(live, "Automation", "paused").spec["activation"] == "deactivated"
    # the API cannot list connections: an unclaimed one shows only where an automation uses it
    assert find(live, "Connection", "pg-main").spec == {"connection_id": "pg-main",
                                                       "connector": "postgres"}
    assert not find(live, "Connection", "pg-main").managed
    assert not [i for i in live if i.id.name == "spare"]
    assert len([i for i in live if i.id.kind == "Trigger"]) == 10

    counts = workspace.request_counts()
    assert counts[f"GET {W}/automations"] == 4  # 7 automations, 2 a page
    assert not [call for call in counts if call.endswith(f"{W}/connections")]
    per_automation = [f"GET {W}/automations/{{automation_id}}:extractCodeConnections",
                      f"GET {W}/automations/{{automation_id}}/schedule"]
    assert all(counts[call] == 7 for call in per_automation)
    # two triggers fill one page of two exactly: no second page is asked for
    assert counts[f"GET {W}/automations/{{automation_id}}/triggers"] == 7
    assert len(sandbox_server.requests()) == sum(counts.values())


async def test_read_matches_by_remote_id_from_state_before_display_name(sandbox_server, workspace):
    sandbox_server.seed(world(2))
    first = await workspace.read([], {})
    remote = find(first, "Automation", "report-0").remote_id
    renamed = resource("Automation", "renamed", display_name="new title")
    squatter = resource("Automation", "squatter", display_name="report-0")
    known = {renamed.id: remote}
    live = await workspace.read([renamed, squatter], known)
    matched = [i for i in live if i.remote_id == remote and i.id.kind == "Automation"]
    assert [i.id for i in matched] == [renamed.id]
    assert not any(i.id == squatter.id for i in live)


async def test_a_connection_behind_its_latest_version_is_upgradable(sandbox_server, workspace):
    sandbox_server.seed(world(1))
    sandbox_server.edit("workspace.connection", "pg-main", bump_version=True)
    live = await workspace.read([], {})
    assert find(live, "Automation", "report-0").upgradable == ("pg-main",)
    assert find(live, "Automation", "paused").upgradable == ()


async def test_unmanaged_objects_get_distinct_names_that_do_not_collide(sandbox_server, workspace):
    sandbox_server.seed({"workspace": {"automations": [{"display_name": "Nightly"},
                                                      {"display_name": "nightly"}]}})
    desired = [resource("Automation", "nightly", display_name="other")]
    live = await workspace.read(desired, {})
    names = sorted(i.id.name for i in live if i.id.kind == "Automation")
    assert names == ["nightly-2", "nightly-3"]
    assert ResourceId("studio", "Automation", "nightly") not in {i.id for i in live}
