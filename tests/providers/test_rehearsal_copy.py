"""The workspace's rehearsal copy holds only what the sandbox can seed, and says what it changed."""

from __future__ import annotations

from reconciler.model import LiveResource, ResourceId
from reconciler.providers.workspace.rehearsal import copy_world


def automation(activation: str) -> LiveResource:
    spec = {"display_name": "Digest", "code": "x", "stage": "published",
            "activation": activation, "connections": []}
    return LiveResource(ResourceId("studio", "Automation", "digest"), "abc123", spec)


def test_an_activation_the_sandbox_cannot_hold_is_copied_as_deactivated_and_said() -> None:
    copy = copy_world([automation("AUTOMATION_ACTIVATION_STATE_PAUSED")], [])
    [copied] = copy.world["workspace"]["automations"]
    assert copied["activation"] == "deactivated" and copied["id"] == "abc123"
    assert any("AUTOMATION_ACTIVATION_STATE_PAUSED" in line for line in copy.not_rehearsed)


def test_a_known_activation_is_copied_as_it_is() -> None:
    copy = copy_world([automation("active")], [])
    assert copy.world["workspace"]["automations"][0]["activation"] == "active"
    assert not any("copied as" in line for line in copy.not_rehearsed)
