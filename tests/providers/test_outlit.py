"""Outlit automations against the sandbox: read across pages, each operation, warnings passed on."""

from __future__ import annotations

import pytest

from reconciler.errors import ProviderError
from reconciler.model import Action, ExecutionContext
from tests.providers.conftest import context, find, operation, resource

pytestmark = pytest.mark.anyio


def automation(metadata_name: str, **spec):
    return resource("Automation", metadata_name, provider="growth", type_name="outlit", **spec)


def expected(item) -> dict:
    return {k: sorted(v) if isinstance(v, list) else v for k, v in item.spec.items()}


async def test_read_follows_cursors_and_skips_archived(sandbox_server, outlit):
    sandbox_server.seed({"outlit": {"automations": [
        *({"key": f"flow-{i}", "name": f"Flow {i}", "signals": ["trial-expiring"],
           "destinations": ["slack-growth"], "enabled": i % 2 == 0,
           "triggerJson": {"on": "signal"}, "audienceFilterJson": {"plan": "pro"}}
          for i in range(7)),
        {"key": "retired", "archived": True}]}})
    outlit.client.page_size_cap = 3
    desired = [automation("flow-2", name="Flow 2", signals=["trial-expiring"],
                      destinations=["slack-growth"], trigger={"on": "signal"},
                      audience_filter={"plan": "pro"})]
    live = await outlit.read(desired, {})
    assert sorted(i.id.name for i in live) == [f"flow-{i}" for i in range(7)]
    flow = find(live, "Automation", "flow-2")
    assert flow.managed and flow.spec == expected(desired[0])
    assert not find(live, "Automation", "flow-3").managed
    assert outlit.request_counts() == {"GET /api/automations": 3}


async def test_create_update_toggle_and_archive_pass_every_warning_on(outlit):
    wanted = automation("welcome", signals=["signup-completed"],
                    destinations=["slack-growth", "email-digest"], trigger={"on": "signup"})
    assert outlit.describe(operation(Action.CREATE, wanted, None)) == (
        "POST automations (created disabled)", "POST enable",
        "read back; POST enable if enabled differs")
    result = await outlit.execute(operation(Action.CREATE, wanted, None), context())
    assert result.calls == ("POST /api/automations", "POST /api/automations/{id}/enable")
    assert result.warnings == ("destination email-digest is disabled; nothing will be "
                               "delivered to it",)
    ids = {wanted.id: result.remote_id}
    live = find(await outlit.read([wanted], ids), "Automation", "welcome")
    assert live.spec == expected(wanted)

    changed = automation("welcome", name="Welcome!", signals=["signup-completed", "churn-risk"],
                     destinations=["slack-growth"], trigger={"on": "signup"}, enabled=False)
    result = await outlit.execute(operation(Action.UPDATE, changed, live), context(ids))
    assert result.calls == ("PATCH /api/automations/{id}", "POST /api/automations/{id}/disable")
    assert result.warnings == ("signal churn-risk is archived and will not be used",)
    live = find(await outlit.read([changed], ids), "Automation", "welcome")
    assert live.spec == expected(changed)

    enabled = automation("welcome", name="Welcome!", signals=["signup-completed", "churn-risk"],
                     destinations=["slack-growth"], trigger={"on": "signup"})
    result = await outlit.execute(operation(Action.ENABLE, enabled, live), context(ids))
    assert result.calls == ("POST /api/automations/{id}/enable",)
    result = await outlit.execute(operation(Action.REMOVE, None, live), context(ids))
    assert result.calls == ("POST /api/automations/{id}/archive",)
    assert await outlit.read([], ids) == []


async def test_replace_archives_the_old_key_and_creates_the_new_one(outlit):
    old = automation("digest", signals=["trial-expiring"], destinations=["hubspot-sync"])
    result = await outlit.execute(operation(Action.CREATE, old, None), context())
    ids = {old.id: result.remote_id}
    live = find(await outlit.read([old], ids), "Automation", "digest")
    new = automation("digest", key="digest-v2", signals=["trial-expiring"],
                 destinations=["hubspot-sync"])
    result = await outlit.execute(operation(Action.REPLACE, new, live), context(ids))
    assert result.remote_id != live.remote_id
    ids[new.id] = result.remote_id
    after = await outlit.read([new], ids)
    assert [(i.id.name, i.spec["key"]) for i in after] == [("digest", "digest-v2")]


async def test_enable_without_an_active_signal_reports_the_platforms_own_words(outlit):
    lonely = automation("lonely", destinations=["slack-growth"])
    with pytest.raises(ProviderError) as caught:
        await outlit.execute(operation(Action.CREATE, lonely, None), context())
    error = caught.value
    assert (error.status, error.code) == (422, "MISSING_REQUIRED_RESOURCES")
    assert "needs at least one active signal" in error.platform_message
    assert error.correlation_id and error.correlation_id in str(error)


async def test_a_create_reports_its_object_before_the_enable_that_then_fails(outlit):
    wanted = automation("churn-alert", signals=["trial-expiring"], destinations=["email-digest"],
                        enabled=True)
    seen = []

    def created(remote_id, spec):
        seen.append((remote_id, spec["enabled"], dict(outlit.request_counts())))

    ctx = ExecutionContext({}, {}, created=created)
    with pytest.raises(ProviderError) as caught:
        await outlit.execute(operation(Action.CREATE, wanted, None), ctx)
    # told once the create answered, before the enable was sent; disabled as created
    [(remote_id, enabled, counts)] = seen
    assert not enabled and counts == {"POST /api/automations": 1}
    assert caught.value.status == 422 and caught.value.code == "MISSING_REQUIRED_RESOURCES"
    made = caught.value.created
    assert made is not None and made.remote_id == remote_id and not made.spec["enabled"]
    assert made.left == ("POST enable", "read back; POST enable if enabled differs")
    assert made.warnings == ("destination email-digest is disabled; nothing will be "
                             "delivered to it",)
