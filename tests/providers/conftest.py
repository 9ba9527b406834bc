"""Provider instances wired to the loopback sandbox, and small builders for resources/operations."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import pytest

from reconciler.config import ProviderConfig
from reconciler.model import (
    Action,
    ExecutionContext,
    LiveResource,
    Operation,
    Resource,
    ResourceId,
    SourcePosition,
)
from reconciler.providers.http import RetryPolicy
from reconciler.providers.outlit import OutlitProvider
from reconciler.providers.workspace import WorkspaceProvider

FAST_RETRY = RetryPolicy(base=0.01, cap=2.0)
WORKSPACE_DEFAULTS: dict[str, dict[str, Any]] = {
    "Automation": {"description": "", "code": "", "english_code": "", "marked_outputs": [],
                   "connections": [], "upgrade_connections": False, "stage": "published",
                   "activation": "active"},
    "Schedule": {"timezone": "UTC", "inputs": {}, "end": {"never": True}, "enabled": True},
    "Trigger": {"active": True},
    "Connection": {},
    "Check": {"inputs": {}, "timeout": "5m", "expect": "success"},
}
NAME_DEFAULTS = {"Automation": "display_name", "Trigger": "trigger_id",
                 "Connection": "connection_id"}


def provider_config(url: str, type_name: str, **overrides: Any) -> ProviderConfig:
    settings: dict[str, Any] = {"token": "test-token"}
    if type_name == "workspace":
        settings.update(organization_id="org_main", workspace_id="ws_ops")
    values: dict[str, Any] = {"name": "studio" if type_name == "workspace" else "growth",
                              "type": type_name, "base_url": url, "settings": settings,
                              "position": SourcePosition("reconciler.yaml", 4, 3),
                              "timeout": 5.0, "max_retries": 3}
    values.update(overrides)
    return ProviderConfig(**values)


def resource(kind: str, name: str, /, provider: str = "studio", type_name: str = "workspace",
             **spec: Any) -> Resource:
    """A desired resource with the schema's defaults applied, as the loader would."""
    full: dict[str, Any] = {}
    if type_name == "workspace":
        full.update(WORKSPACE_DEFAULTS[kind])
        if kind in NAME_DEFAULTS:
            full[NAME_DEFAULTS[kind]] = name
    else:
        full.update(key=name, name=name, description="", trigger={}, audience_filter={},
                    signals=[], destinations=[], enabled=True)
    full.update(spec)
    return Resource(ResourceId(provider, kind, name), type_name, full,
                    SourcePosition("manifests/x.yaml", 1, 1))


def operation(action: Action, desired: Resource | None, live: LiveResource | None) -> Operation:
    rid = desired.id if desired else live.id  # type: ignore[union-attr]
    return Operation(action, rid, desired, live)


def context(remote_ids: Mapping[ResourceId, str] | None = None,
            desired: list[Resource] | None = None) -> ExecutionContext:
    return ExecutionContext(dict(remote_ids or {}), {r.id: r for r in desired or []})


@pytest.fixture
async def workspace(sandbox_server) -> AsyncIterator[WorkspaceProvider]:
    provider = WorkspaceProvider(provider_config(sandbox_server.url, "workspace"),
                                 retry=FAST_RETRY)
    yield provider
    await provider.aclose()


@pytest.fixture
async def outlit(sandbox_server) -> AsyncIterator[OutlitProvider]:
    provider = OutlitProvider(provider_config(sandbox_server.url, "outlit"), retry=FAST_RETRY)
    yield provider
    await provider.aclose()


def by_id(live: list[LiveResource]) -> dict[ResourceId, LiveResource]:
    return {item.id: item for item in live}


Finder = Callable[[list[LiveResource], str, str], LiveResource]


def find(live: list[LiveResource], kind: str, name: str) -> LiveResource:
    matches = [item for item in live if item.id.kind == kind and item.id.name == name]
    assert len(matches) == 1, (kind, name, [str(i.id) for i in live])
    return matches[0]
