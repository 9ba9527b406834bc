"""Every workspace operation against the sandbox: the calls made, in order, and what reads back."""

from __future__ import annotations

import anyio
import pytest

from reconciler.errors import ProviderError
from reconciler.model import Action, ExecutionContext, Resource
from tests.providers.conftest import context, find, operation, resource

pytestmark = pytest.mark.anyio

W = "/api/v1/organizations/{organization_id}/workspaces/{workspace_id}"
A = W + "/automations/{automation_id}"


UNORDERED = {"marked_outputs", "connections"}


def spec_of(item: Resource) -> dict:
    """The desired spec as the diff sees it: desired-only flags out, unordered lists sorted."""
    return {k: sorted(v) if k in UNORDERED else v for k, v in item.spec.items()
            if k != "upgrade_connections"}


async def apply(provider, action: Action, desired: Resource | None, ids: dict, everything=()):
    live = None
    if action is not Action.CREATE:
        rid = desired.id if desired else None
        current = await provider.read(list(everything), ids)
        live = next(i for i in current if i.id == rid or i.remote_id == ids.get(rid))
    result = await provider.execute(operation(action, desired, live), context(ids, everything))
    if desired is not None and result.remote_id:
        ids[desired.id] = result.remote_id
    return result


async def create_all(provider, desired: list[Resource]) -> dict:
    ids: dict = {}
    for item in desired:
        await apply(provider, Action.CREATE, item, ids, desired)
    return ids


CONNECTIONS = [resource("Connection", "slack-main", connector="slack"),
               resource("Connection", "pg-main", connector="postgres"),
               resource("Connection", "http-main", connector="http")]


async def test_create_makes_each_kind_in_order_and_reads_back_equal(workspace):
    automation = resource("Automation", "nightly", code="run()", marked_outputs=["b", "a"],
                          connections=["slack-main", "pg-main"], activation="deactivated")
    schedule = resource("Schedule", "nightly-schedule", automation="nightly", cron="0 3 * * *",
                        inputs={"depth": 2}, end={"on_date": "2030-01-01T00:00:00Z"},
                        enabled=False)
    trigger = resource("Trigger", "hook", automation="nightly", phase="post", type="api")
    desired = [*CONNECTIONS, automation, schedule, trigger]
    AUTOMATION_AT = len(CONNECTIONS)  # noqa: N806
    ids = {}
    results = []
    for item in desired:
        results.append(await apply(workspace, Action.CREATE, item, ids, desired))
    # claiming a connection makes no call
    assert [r.calls for r in results[:AUTOMATION_AT]] == [()] * AUTOMATION_AT
    # the world's first publish deactivates (the default setting): nothing more to set
    assert results[AUTOMATION_AT].calls == (f"POST {W}/automations", f"POST {A}:addConnections",
                                            f"POST {A}:publish", f"GET {A}",
                                            f"GET {A}:extractCodeConnections")
    assert results[AUTOMATION_AT + 1].calls == (f"POST {A}/schedule", f"GET {A}/schedule",
                                                f"POST {A}:disableAutomationSchedule",
                                                f"GET {A}/schedule")

    live = await workspace.read(desired, ids)
    for item in desired:
        got = find(live, item.id.kind, item.id.name)
        assert got.managed and got.remote_id == ids[item.id]
        assert got.spec == spec_of(item), item.id


async def test_update_of_a_published_automation_forks_patches_connections_and_publishes(
    sandbox_server, workspace
):
    before = resource("Automation", "nightly", code="v1", connections=["slack-main"])
    ids = await create_all(workspace, [*CONNECTIONS, before])
    after = resource("Automation", "nightly", code="v2", description="now with postgres",
                     connections=["pg-main", "http-main"])
    desired = [*CONNECTIONS, after]
    shown = workspace.describe(operation(Action.UPDATE, after,
                                         find(await workspace.read(desired, ids), "Automation",
                                              "nightly")))
    assert shown[1:] == ("forkPublished", "PATCH update_mask=description,code",
                         "removeConnections slack-main", "addConnections http-main, pg-main",
                         "publish", "read back; PATCH update_mask=activation_state "
                         "(AUTOMATION_ACTIVATION_STATE_ACTIVE) if it differs")
    result = await apply(workspace, Action.UPDATE, after, ids, desired)
    assert result.calls == (f"POST {A}:forkPublished", f"PATCH {A}", f"POST {A}:removeConnections",
                            f"POST {A}:addConnections", f"POST {A}:publish", f"GET {A}",
                            f"GET {A}:extractCodeConnections")
    live = find(await workspace.read(desired, ids), "Automation", "nightly")
    assert live.spec == spec_of(after)
    assert live.raw["version"] == "2.0"


async def test_swapping_one_connection_for_another_is_a_switch(workspace):
    before = resource("Automation", "nightly", connections=["slack-main"])
    ids = await create_all(workspace, [*CONNECTIONS, before])
    after = resource("Automation", "nightly", connections=["pg-main"])
    result = await apply(workspace, Action.UPDATE, after, ids, [*CONNECTIONS, after])
    assert result.calls == (f"POST {A}:forkPublished", f"POST {A}:switchConnections",
                            f"POST {A}:publish", f"GET {A}", f"GET {A}:extractCodeConnections")
    live = find(await workspace.read([after], ids), "Automation", "nightly")
    assert live.spec == spec_of(after)


async def test_a_draft_stays_a_draft_and_activation_changes_alone(workspace):
    draft = resource("Automation", "idea", code="x", stage="draft")
    ids = await create_all(workspace, [draft])
    live = find(await workspace.read([draft], ids), "Automation", "idea")
    assert live.spec == spec_of(draft)
    published = resource("Automation", "idea", code="x")
    result = await apply(workspace, Action.UPDATE, published, ids, [published])
    # the first publish left it deactivated (the world's default): read back, then activated
    assert result.calls == (f"POST {A}:publish", f"GET {A}", f"PATCH {A}", f"GET {A}")
    paused = resource("Automation", "idea", code="x", activation="deactivated")
    result = await apply(workspace, Action.DISABLE, paused, ids, [paused])
    assert result.calls == (f"PATCH {A}", f"GET {A}")
    assert find(await workspace.read([paused], ids), "Automation", "idea").spec == spec_of(paused)


async def test_schedule_update_toggles_and_delete(workspace):
    automation = resource("Automation", "nightly")
    schedule = resource("Schedule", "nightly-schedule", automation="nightly", cron="0 3 * * *")
    desired = [automation, schedule]
    ids = await create_all(workspace, desired)
    changed = resource("Schedule", "nightly-schedule", automation="nightly", cron="30 4 * * 1",
                       end={"after_occurrences": 3}, enabled=False)
    result = await apply(workspace, Action.UPDATE, changed, ids, [automation, changed])
    assert result.calls == (f"PATCH {A}/schedule", f"POST {A}:disableAutomationSchedule",
                            f"GET {A}/schedule")
    live = await workspace.read([automation, changed], ids)
    assert find(live, "Schedule", "nightly-schedule").spec == spec_of(changed)
    enabled = resource("Schedule", "nightly-schedule", automation="nightly", cron="30 4 * * 1",
                       end={"after_occurrences": 3})
    result = await apply(workspace, Action.ENABLE, enabled, ids, [automation, enabled])
    assert result.calls == (f"POST {A}:enableAutomationSchedule", f"GET {A}/schedule")
    live_schedule = find(await workspace.read([automation], ids), "Schedule", "nightly-schedule")
    await workspace.execute(operation(Action.REMOVE, None, live_schedule), context(ids))
    assert not [i for i in await workspace.read([automation], ids) if i.id.kind == "Schedule"]


async def test_trigger_update_and_replace_when_its_id_changes(workspace):
    automation = resource("Automation", "nightly")
    trigger = resource("Trigger", "hook", automation="nightly", phase="main", type="webhook")
    ids = await create_all(workspace, [automation, trigger])
    quiet = resource("Trigger", "hook", automation="nightly", phase="main", type="webhook",
                     active=False)
    result = await apply(workspace, Action.DISABLE, quiet, ids, [automation, quiet])
    assert result.calls == (f"PATCH {A}/triggers/{{trigger_id}}", f"GET {A}/triggers")
    renamed = resource("Trigger", "hook", automation="nightly", trigger_id="hook-v2",
                       phase="pre", type="api")
    result = await apply(workspace, Action.REPLACE, renamed, ids, [automation, renamed])
    assert result.calls == (f"DELETE {A}/triggers/{{trigger_id}}", f"POST {A}/triggers",
                            f"GET {A}/triggers")
    triggers = [i for i in await workspace.read([automation, renamed], ids)
                if i.id.kind == "Trigger"]
    assert [(t.id.name, t.spec) for t in triggers] == [("hook", spec_of(renamed))]


async def test_connection_delete_is_refused_naming_published_users(sandbox_server, workspace):
    automation = resource("Automation", "nightly", connections=["slack-main"])
    drafty = resource("Automation", "drafty", connections=["slack-main"], stage="draft")
    ids = await create_all(workspace, [CONNECTIONS[0], automation, drafty])
    live = find(await workspace.read([], ids), "Connection", "slack-main")
    with pytest.raises(ProviderError, match="used by published automation.*nightly"):
        await workspace.execute(operation(Action.REMOVE, None, live), context(ids))
    assert workspace.describe(operation(Action.REMOVE, None, live))[0].startswith(
        "traceConnectionUsage")
    stripped = resource("Automation", "nightly")
    await apply(workspace, Action.UPDATE, stripped, ids, [stripped])
    result = await workspace.execute(operation(Action.REMOVE, None, live), context(ids))
    assert result.calls == (f"POST {W}/automations:traceConnectionUsage",
                            f"DELETE {W}/automations:deleteConnection")
    assert result.warnings == ("connection slack-main deleted; draft automation(s) drafty now "
                               "have an unresolved reference to it",)
    again = await workspace.execute(operation(Action.REMOVE, None, live), context(ids))
    assert again.warnings == ("connection slack-main was already gone from the platform",)


async def test_remove_soft_deletes_and_upgrade_moves_connections_to_latest(
    sandbox_server, workspace
):
    automation = resource("Automation", "nightly", connections=["pg-main"],
                          upgrade_connections=True)
    ids = await create_all(workspace, [*CONNECTIONS, automation])
    sandbox_server.edit("workspace.connection", "pg-main", bump_version=True)
    live = find(await workspace.read([automation], ids), "Automation", "nightly")
    assert live.upgradable == ("pg-main",)
    result = await workspace.execute(operation(Action.UPGRADE, automation, live), context(ids))
    assert result.calls == (f"POST {A}:forkPublished", f"POST {A}:upgradeConnections",
                            f"POST {A}:publish", f"GET {A}", f"GET {A}:extractCodeConnections")
    live = find(await workspace.read([automation], ids), "Automation", "nightly")
    assert live.upgradable == () and live.spec["stage"] == "published"
    result = await workspace.execute(operation(Action.REMOVE, None, live), context(ids))
    assert result.calls == (f"DELETE {A}",)
    assert not [i for i in await workspace.read([], ids) if i.id.kind == "Automation"]


async def test_check_invokes_the_published_stage_and_polls_until_terminal(workspace):
    automation = resource("Automation", "nightly", code="run()")
    ids = await create_all(workspace, [automation])
    outcomes = {}
    for expect, inputs in (("ok", {"size": 1}), ("broken", {"fail": True})):
        check = resource("Check", f"smoke-{expect}", automation="nightly", inputs=inputs)
        status = await workspace.start_check(check, context(ids, [automation]))
        assert not status.terminal
        with anyio.fail_after(5):
            while not status.terminal:
                await anyio.sleep(0.1)
                status = await workspace.poll_check(check, status.run_id, context(ids))
        outcomes[expect] = (status.status, status.succeeded, len(status.steps))
        await workspace.cancel_check(check, status.run_id, context(ids))
    assert outcomes == {"ok": ("FINISHED", True, 3), "broken": ("FAILED", False, 3)}


async def test_replace_moves_a_schedule_and_claims_another_connection(workspace):
    first, second = resource("Automation", "first"), resource("Automation", "second")
    schedule = resource("Schedule", "job", automation="first", cron="0 1 * * *")
    connection = resource("Connection", "out", connection_id="http-main", connector="http")
    ids = await create_all(workspace, [first, second, schedule, connection])
    moved = resource("Schedule", "job", automation="second", cron="0 1 * * *")
    everything = [first, second, moved, connection]
    result = await apply(workspace, Action.REPLACE, moved, ids, everything)
    assert result.calls == (f"DELETE {A}/schedule", f"POST {A}/schedule", f"GET {A}/schedule")
    assert result.remote_id == ids[second.id]
    swapped = resource("Connection", "out", connection_id="pg-main", connector="postgres")
    result = await apply(workspace, Action.REPLACE, swapped, ids, [first, second, moved, swapped])
    # the old connection is deleted (nothing uses it); the new one is claimed with no call
    assert result.calls == (f"POST {W}/automations:traceConnectionUsage",
                            f"DELETE {W}/automations:deleteConnection")
    assert result.remote_id == "pg-main"
    live = await workspace.read([first, second, moved, swapped], ids)
    assert find(live, "Schedule", "job").spec == spec_of(moved)
    assert find(live, "Connection", "out").spec == spec_of(swapped)


async def test_an_automation_unknown_to_state_is_found_by_display_name_or_named_as_missing(
    workspace,
):
    automation = resource("Automation", "nightly", display_name="Nightly digest")
    await create_all(workspace, [automation])
    # no remote ids known (a lost state): the schedule's automation is found by its display name
    schedule = resource("Schedule", "job", automation="nightly", cron="0 1 * * *")
    result = await workspace.execute(operation(Action.CREATE, schedule, None),
                                     context({}, [automation, schedule]))
    assert result.calls == (f"GET {W}/automations", f"POST {A}/schedule", f"GET {A}/schedule")
    orphan = resource("Schedule", "lost", automation="gone", cron="0 1 * * *")
    with pytest.raises(ProviderError, match="studio/Schedule/lost: automation gone does not exist"):
        await workspace.execute(operation(Action.CREATE, orphan, None), context({}, [orphan]))
    check = resource("Check", "smoke", automation="gone")
    with pytest.raises(ProviderError, match=r"check .*smoke: automation gone does not exist "
                                            r"\(apply it first\)"):
        await workspace.start_check(check, context({}, [check]))


async def test_a_create_reports_its_draft_before_add_connections_then_fails(workspace):
    wanted = resource("Automation", "enricher", code="print(1)",
                      connections=["conn-that-does-not-exist"])
    seen = []

    def created(remote_id, spec):
        seen.append((remote_id, spec["stage"], spec["connections"],
                     dict(workspace.request_counts())))

    ctx = ExecutionContext({}, {wanted.id: wanted}, created=created)
    with pytest.raises(ProviderError) as caught:
        await workspace.execute(operation(Action.CREATE, wanted, None), ctx)
    [(remote_id, stage, connections, counts)] = seen
    assert (stage, connections) == ("draft", [])
    assert not any("addConnections" in call for call in counts)
    assert caught.value.status == 404 and "does not exist in workspace" in str(caught.value)
    made = caught.value.created
    assert made is not None and made.remote_id == remote_id
    assert made.left[0] == "addConnections conn-that-does-not-exist"
    assert made.left[1:] == ("publish", "read back; PATCH update_mask=activation_state "
                                        "(AUTOMATION_ACTIVATION_STATE_ACTIVE) if it differs")
