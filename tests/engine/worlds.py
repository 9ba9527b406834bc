"""Hand-built desired resources, rules and a small in-memory Provider for unit tests.

The fake implements the Provider *protocol* only, so diff, plan, apply and state logic can be
pinned down without a platform; end-to-end tests use the real sandbox and adapters.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.diff import FieldRules
from reconciler.errors import ProviderError
from reconciler.model import (
    Action,
    ExecutionContext,
    Lifecycle,
    LiveResource,
    Operation,
    OperationResult,
    Resource,
    ResourceId,
    SourcePosition,
)
from reconciler.providers.base import RunStatus

AUTOMATION = FieldRules(
    unordered=frozenset({("marked_outputs",), ("connections",)}),
    toggles={"activation": {"active": "enable", "deactivated": "disable"}},
    desired_only=frozenset({"upgrade_connections"}),
    depends_on={"connections": ("Connection", "connection_id")},
    upgrades={"upgrade_connections": "connections"},
    order=1,
)
SCHEDULE = FieldRules(
    toggles={"enabled": {"true": "enable", "false": "disable"}},
    references={"automation": "Automation"},
    order=2,
)
TRIGGER = FieldRules(
    references={"automation": "Automation"},
    replace_on_change=frozenset({"trigger_id"}),
    toggles={"active": {"true": "enable", "false": "disable"}},
    order=2,
)
CHECK = FieldRules(
    references={"automation": "Automation"},
    sensitive=frozenset({("webhook", "headers")}),
    order=3,
    check=True,
)
CONNECTION = FieldRules(replace_on_change=frozenset({"connector"}), order=0)
RULES = {
    "Automation": AUTOMATION,
    "Schedule": SCHEDULE,
    "Trigger": TRIGGER,
    "Check": CHECK,
    "Connection": CONNECTION,
}


def rules_for(provider_type: str, kind: str) -> FieldRules:
    return RULES.get(kind, FieldRules())


def automation(name: str, line: int = 1, **spec: Any) -> Resource:
    base = {
        "display_name": name,
        "description": "",
        "code": "print(1)",
        "english_code": "",
        "marked_outputs": [],
        "connections": [],
        "upgrade_connections": False,
        "stage": "published",
        "activation": "active",
    }
    base.update(spec)
    return resource("Automation", name, base, line)


def schedule(name: str, automation_name: str, line: int = 1, **spec: Any) -> Resource:
    base = {
        "automation": automation_name,
        "cron": "0 6 * * *",
        "timezone": "UTC",
        "inputs": {},
        "end": {"never": True},
        "enabled": True,
    }
    base.update(spec)
    return resource("Schedule", name, base, line)


def check(name: str, automation_name: str, line: int = 1, **spec: Any) -> Resource:
    base = {"automation": automation_name, "inputs": {}, "timeout": "5m", "expect": "success"}
    base.update(spec)
    return resource("Check", name, base, line)


def resource(
    kind: str, name: str, spec: Mapping[str, Any], line: int = 1, lifecycle: Lifecycle | None = None
) -> Resource:
    return Resource(
        id=ResourceId("studio", kind, name),
        provider_type="workspace",
        spec=dict(spec),
        source=SourcePosition(f"manifests/{kind.lower()}s.yaml", line, 1),
        lifecycle=lifecycle or Lifecycle(),
    )


def live_of(res: Resource, remote_id: str = "", **changes: Any) -> LiveResource:
    spec = {k: v for k, v in res.spec.items() if k != "upgrade_connections"}
    spec.update(changes)
    return LiveResource(res.id, remote_id or f"id-{res.id.name}", spec)


class MemoryProvider:
    """Objects in a dict; every call counted; failures injectable by identity."""

    type_name = "workspace"
    kinds = frozenset({"Automation", "Schedule", "Trigger", "Connection", "Check"})

    def __init__(self, config: Any = None, *, transport: Any = None) -> None:
        self.objects: dict[str, dict[str, Any]] = {}  # remote id -> {"id": ResourceId, "spec"}
        self.calls: list[str] = []
        self.fail_on: set[ResourceId] = set()
        self._ids = itertools.count(1)

    async def read(
        self, desired: Sequence[Resource], known: Mapping[ResourceId, str]
    ) -> list[LiveResource]:
        by_remote = {remote_id: rid for rid, remote_id in known.items()}
        wanted = {(r.id.kind, r.id.name): r.id for r in desired}
        found = []
        for remote_id, obj in self.objects.items():
            rid = by_remote.get(remote_id) or wanted.get((obj["id"].kind, obj["id"].name))
            managed = rid is not None
            found.append(
                LiveResource(rid or obj["id"], remote_id, dict(obj["spec"]), managed=managed)
            )
        return found

    def describe(self, operation: Operation) -> tuple[str, ...]:
        return (f"{operation.action.value.upper()} {operation.id.kind.lower()}",)

    async def execute(self, operation: Operation, context: ExecutionContext) -> OperationResult:
        self.calls.append(f"{operation.action} {operation.id}")
        if operation.id in self.fail_on:
            raise ProviderError(f"{operation.id}: platform said no", platform="workspace")
        if operation.action is Action.REMOVE:
            assert operation.live is not None
            self.objects.pop(operation.live.remote_id, None)
            return OperationResult(remote_id=None)
        assert operation.resource is not None
        spec = {k: v for k, v in operation.resource.spec.items() if k != "upgrade_connections"}
        if operation.live is not None and operation.action is not Action.REPLACE:
            remote_id = operation.live.remote_id
        else:
            if operation.live is not None:
                self.objects.pop(operation.live.remote_id, None)
            remote_id = f"r{next(self._ids)}"
        self.objects[remote_id] = {"id": operation.id, "spec": spec}
        return OperationResult(remote_id=remote_id)

    def request_counts(self) -> Mapping[str, int]:
        return {}

    async def aclose(self) -> None:
        return None


class MemoryCheckProvider(MemoryProvider):
    """Also runs checks: every run succeeds at once unless its inputs say ``fail``."""

    async def start_check(self, check: Resource, context: ExecutionContext) -> RunStatus:
        self.calls.append(f"check {check.id}")
        failed = bool(check.spec.get("inputs", {}).get("fail"))
        return RunStatus("run-1", "FAILED" if failed else "FINISHED", True, not failed)

    async def poll_check(self, check: Resource, run_id: str, context: ExecutionContext):
        raise AssertionError("terminal runs are not polled")

    async def cancel_check(self, check: Resource, run_id: str, context: ExecutionContext) -> None:
        return None
