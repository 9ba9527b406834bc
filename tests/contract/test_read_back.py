"""Read-back after every operation: what the contract leaves unsaid is read back and set, and a
field that still differs after its call is named as not converging."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from reconciler.errors import NotConvergingError, ProviderError
from reconciler.model import Action
from reconciler.providers.workspace import WorkspaceProvider
from reconciler.sandbox import settings
from reconciler.sandbox.workspace_schedules import SCHEDULE
from tests.contract.rewriting import rewriting_transport
from tests.providers.conftest import FAST_RETRY, context, operation, provider_config, resource

pytestmark = pytest.mark.anyio

W = "/api/v1/organizations/{organization_id}/workspaces/{workspace_id}"
A = W + "/automations/{automation_id}"
DEACTIVATED = "AUTOMATION_ACTIVATION_STATE_DEACTIVATED"


def unchanged(method: str, path: str, query: str, body: Any) -> Any:
    return body


@pytest.fixture
def platform(tmp_path) -> Callable[..., Any]:
    """``platform(rewrite, first_publish=..., world=...)``: a workspace provider on a sandbox
    whose answers ``rewrite`` changes; providers opened with the same ``world`` share it."""
    apps: dict[str, Any] = {}

    def open_one(rewrite=unchanged, first_publish: str = "deactivated",
                 world: str = "world") -> WorkspaceProvider:
        transport, app = rewriting_transport(tmp_path / f"{world}.db", rewrite)
        apps[world] = app
        store = app.state.store
        with store.transaction():
            settings.change(store, {"first_publish_activation": first_publish})
        return WorkspaceProvider(provider_config("http://sandbox", "workspace"),
                                 transport=transport, retry=FAST_RETRY)

    open_one.apps = apps  # type: ignore[attr-defined]
    return open_one


async def create(provider: WorkspaceProvider, *desired):
    ids: dict = {}
    results = []
    for item in desired:
        result = await provider.execute(operation(Action.CREATE, item, None),
                                        context(ids, list(desired)))
        ids[item.id] = result.remote_id
        results.append(result)
    return ids, results


@pytest.mark.parametrize("first_publish", settings.FIRST_PUBLISH_ACTIVATION)
async def test_an_active_automation_is_active_whatever_the_first_publish_leaves(
    platform, first_publish
):
    # seen: apply "succeeded" but lead-router ended up deactivated (publish was assumed to
    # activate, which no seed states)
    provider = platform(first_publish=first_publish)
    router = resource("Automation", "lead-router", code="route()")
    ids, [result] = await create(provider, router)
    patched = f"PATCH {A}" in result.calls
    assert patched == (first_publish != "active")
    [live] = [i for i in await provider.read([router], ids) if i.id == router.id]
    assert live.spec["activation"] == "active" and live.raw["activation_state"].endswith("ACTIVE")
    await provider.aclose()


async def test_activation_that_does_not_converge_names_the_field_the_call_and_the_answer(
    platform,
):
    def stays_deactivated(method: str, path: str, query: str, body: Any) -> Any:
        if method == "GET" and isinstance(body, dict) and "activation_state" in body:
            body["activation_state"] = DEACTIVATED
        return body

    provider = platform(stays_deactivated, first_publish="active")
    router = resource("Automation", "lead-router")
    with pytest.raises(NotConvergingError) as caught:
        await create(provider, router)
    message = str(caught.value)
    assert "studio/Automation/lead-router: activation_state did not converge" in message
    assert "after PATCH W/automations/{automation_id}?update_mask=activation_state" in message
    assert f"answered activation_state = '{DEACTIVATED}'" in message
    assert "(wanted 'AUTOMATION_ACTIVATION_STATE_ACTIVE')" in message
    await provider.aclose()


async def test_a_new_schedule_that_does_not_start_enabled_is_enabled(platform):
    def born_disabled(method: str, path: str, query: str, body: Any) -> Any:
        # a platform whose new schedules start disabled (the contract says they start enabled)
        if method == "POST" and path.endswith("/schedule"):
            store = platform.apps["world"].state.store
            automation_id = path.split("/")[-2]
            with store.transaction():
                doc = store.get(SCHEDULE, automation_id)
                doc["enabled"] = False
                store.put(SCHEDULE, automation_id, doc)
            body["enabled"] = False
        return body

    provider = platform(born_disabled)
    automation = resource("Automation", "nightly")
    schedule = resource("Schedule", "nightly", automation="nightly", cron="0 3 * * *")
    ids, _ = await create(provider, automation)
    result = await provider.execute(operation(Action.CREATE, schedule, None),
                                    context(ids, [automation, schedule]))
    assert result.calls == (f"POST {A}/schedule", f"GET {A}/schedule",
                            f"POST {A}:enableAutomationSchedule", f"GET {A}/schedule")
    [live] = [i for i in await provider.read([automation, schedule], ids) if i.id == schedule.id]
    assert live.spec["enabled"] is True
    await provider.aclose()


async def test_a_connection_never_made_in_the_platform_is_named(platform):
    provider = platform()
    automation = resource("Automation", "nightly", connections=["slack-main", "ghost"])
    with pytest.raises(ProviderError) as caught:
        await create(provider, resource("Connection", "ghost", connector="http"), automation)
    assert str(caught.value).startswith(
        "workspace: studio/Automation/nightly: connection ghost does not exist in workspace "
        "ws_ops: create it in the platform first")
    await provider.aclose()


async def test_a_claim_with_another_connector_than_the_automations_show_is_refused(platform):
    provider = platform()
    automation = resource("Automation", "nightly", connections=["pg-main"])
    ids, _ = await create(provider, resource("Connection", "pg-main", connector="postgres"),
                          automation)
    wrong = resource("Connection", "pg-main", connector="mysql")
    with pytest.raises(ProviderError, match=r"manifests/x.yaml:1: studio/Connection/pg-main: "
                       r"connection pg-main is a postgres connection \(as automation nightly "
                       r"shows\), not mysql"):
        await provider.read([automation, wrong], ids)
    await provider.aclose()


async def test_unknown_fields_unknown_enums_and_missing_optional_fields_do_not_crash_a_read(
    platform,
):
    def newer_platform(method: str, path: str, query: str, body: Any) -> Any:
        text = json.dumps(body)
        text = text.replace('"AUTOMATION_ACTIVATION_STATE_ACTIVE"',
                            '"AUTOMATION_ACTIVATION_STATE_PAUSED"')
        text = text.replace('"PHASE_SUB_TYPE_WEBHOOK"', '"PHASE_SUB_TYPE_SMS"')
        body = json.loads(text)
        for item in body.get("automations", []) if isinstance(body, dict) else []:
            item.pop("description", None)
            item.pop("marked_outputs", None)
            item["labels"] = {"added": "later"}
        if isinstance(body, dict) and "config" in body:
            body.pop("enabled", None)  # proto3 JSON omits a false boolean
            body["config"].pop("timezone", None)
            body["pause_reason"] = "a field this version does not know"
        return body

    plain = platform(first_publish="active")
    automation = resource("Automation", "nightly")
    schedule = resource("Schedule", "nightly", automation="nightly", cron="0 3 * * *")
    trigger = resource("Trigger", "hook", automation="nightly", phase="main", type="webhook")
    desired = [automation, schedule, trigger]
    await create(plain, *desired)
    await plain.aclose()
    provider = platform(newer_platform)  # the same world, read through a newer platform
    live = {i.id: i for i in await provider.read(desired, {})}
    assert live[automation.id].spec["activation"] == "AUTOMATION_ACTIVATION_STATE_PAUSED"
    assert live[automation.id].spec["description"] == ""
    assert live[automation.id].raw["labels"] == {"added": "later"}
    assert live[trigger.id].spec["type"] == "PHASE_SUB_TYPE_SMS"
    assert live[schedule.id].spec["enabled"] is False
    assert live[schedule.id].spec["timezone"] == "UTC"
    assert live[schedule.id].raw["pause_reason"]
    await provider.aclose()


async def test_an_outlit_automation_whose_enable_does_not_take_is_named(tmp_path):
    from reconciler.providers.outlit import OutlitProvider

    def never_enabled(method: str, path: str, query: str, body: Any) -> Any:
        automation = (((body or {}).get("result") or {}).get("data") or {}).get("automation")
        if automation:
            automation["enabled"] = False
        return body

    transport, _ = rewriting_transport(tmp_path / "outlit.db", never_enabled)
    provider = OutlitProvider(provider_config("http://sandbox", "outlit"), transport=transport,
                              retry=FAST_RETRY)
    nudge = resource("Automation", "nudge", provider="growth", type_name="outlit",
                     signals=["trial-expiring"], destinations=["slack-growth"])
    with pytest.raises(NotConvergingError, match=r"outlit: growth/Automation/nudge: enabled did "
                       r"not converge: after POST /api/automations/\{id\}/enable the platform "
                       r"answered enabled = False \(wanted True\)"):
        await provider.execute(operation(Action.CREATE, nudge, None), context())
    await provider.aclose()
