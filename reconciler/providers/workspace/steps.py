"""The steps each workspace operation takes, as ``(label, action)`` pairs.

``plan_steps`` needs no I/O, so ``describe`` shows exactly the steps ``execute`` runs. Each
action receives the ``Run`` of the operation, which carries the client, the remote ids known
so far and what the steps learn (the remote id, warnings).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from reconciler.errors import ProviderError
from reconciler.model import Action, ExecutionContext, Operation, ResourceId
from reconciler.providers.http import ApiClient, create_once, send_once
from reconciler.providers.workspace import calls
from reconciler.providers.workspace.read import (
    code_connections,
    find_automation,
    get_schedule,
    list_connections,
    split_trigger_remote_id,
    trigger_remote_id,
)


@dataclass
class Run:
    """One operation being executed."""

    client: ApiClient
    op: Operation
    context: ExecutionContext
    provider: str
    remote_id: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def spec(self) -> dict[str, Any]:
        assert self.op.resource is not None
        return dict(self.op.resource.spec)

    @property
    def live_id(self) -> str:
        assert self.op.live is not None
        return self.op.live.remote_id

    async def automation_id(self, name: str) -> str:
        """The remote id of the Automation document ``name`` (state, this apply, or by key)."""
        return await resolve_automation(self.client, self.provider, name, self.context,
                                        needed_by=str(self.op.id))


async def resolve_automation(client: ApiClient, provider: str, name: str,
                             context: ExecutionContext, *, needed_by: str, hint: str = "") -> str:
    """The remote id of the Automation document ``name``: from state or this apply if known,
    else found by its display name (the natural key); a ProviderError naming ``needed_by``."""
    rid = ResourceId(provider, "Automation", name)
    known = context.remote_ids.get(rid)
    if known:
        return known
    desired = context.desired.get(rid)
    display_name = desired.spec.get("display_name", name) if desired else name
    found = await find_automation(client, display_name)
    if found is None:
        raise ProviderError(f"workspace: {needed_by}: automation {name} does not exist{hint}",
                            platform="workspace")
    return calls.automation_id_of(found["name"])


Action_ = Callable[[Run], Awaitable[None]]
Steps = list[tuple[str, Action_]]


def plan_steps(op: Operation) -> Steps:
    """The steps of one operation, in the order the platform needs."""
    planner = {"Automation": _automation, "Schedule": _schedule, "Trigger": _trigger,
               "Connection": _connection}.get(op.id.kind)
    if planner is None:
        return []
    if op.action is Action.REPLACE:
        return planner(_with(op, Action.REMOVE)) + planner(_with(op, Action.CREATE))
    return planner(op)


def _with(op: Operation, action: Action) -> Operation:
    return Operation(action, op.id, op.resource, op.live, op.changes, op.depends_on)


def _call(method: str, call: str, **kwargs: Any) -> Callable[[Run], Awaitable[Any]]:
    """A step that sends one request to the current automation."""

    async def step(run: Run) -> Any:
        return await run.client.call(method, calls.path(call), automation_id=run.remote_id,
                                     **kwargs)

    return step


TookEffect = Callable[[Run], Awaitable[bool]]


def _verb(call: str, body: dict[str, Any], took_effect: TookEffect) -> Action_:
    """A step that sends one POST verb (``:publish``, ``:addConnections``, ...) to the current
    automation. Its answer may be lost after the platform acted (a reset, a 502/504): then
    ``took_effect`` reads back whether it did, and the verb is sent again only if not."""

    async def step(run: Run) -> None:
        async def send() -> bool:
            await run.client.call("POST", calls.path(call), json=body, idempotent=False,
                                  automation_id=run.remote_id)
            return True

        async def find() -> bool | None:
            return True if await took_effect(run) else None

        await send_once(send, find)

    return step


async def _latest_version(run: Run) -> str:
    automation = await run.client.call("GET", calls.path("get_automation"),
                                       automation_id=run.remote_id)
    return str(automation.get("version", ""))


async def _published(run: Run) -> bool:
    return calls.is_published_version(await _latest_version(run))


async def _forked(run: Run) -> bool:
    return not calls.is_published_version(await _latest_version(run))


async def _draft_connections(run: Run) -> list[dict[str, Any]]:
    # connection edits are made on the draft (a published automation is forked first)
    return await code_connections(run.client, str(run.remote_id), "DRAFT")


def _attached(present: Sequence[str], absent: Sequence[str] = ()) -> TookEffect:
    async def check(run: Run) -> bool:
        ids = {c.get("connection_id") for c in await _draft_connections(run)}
        return set(present) <= ids and not set(absent) & ids

    return check


def _upgraded(connection_ids: Sequence[str]) -> TookEffect:
    async def check(run: Run) -> bool:
        return not set(connection_ids) & set(calls.upgradable(await _draft_connections(run)))

    return check


# --- automations -----------------------------------------------------------------------------


def _automation(op: Operation) -> Steps:
    if op.action is Action.REMOVE:
        return [("DELETE automation (soft delete)", _delete_automation)]
    spec = dict(op.resource.spec) if op.resource else {}
    published = spec.get("stage", "published") == "published"
    activation = calls.ACTIVATION[spec.get("activation", "active")]
    if op.action is Action.CREATE:
        steps: Steps = [("POST automations (create draft)", _create_automation)]
        if spec.get("connections"):
            steps.append((f"addConnections {', '.join(sorted(spec['connections']))}",
                          _verb("add_connections", {"connections": [
                              {"connection_id": c} for c in sorted(spec["connections"])]},
                                _attached(spec["connections"]))))
        if published:
            steps.append(("publish", _verb("publish", {}, _published)))
            if spec.get("activation") == "deactivated":
                steps.append(_activation_step(activation))
        return steps
    live = dict(op.live.spec) if op.live else {}
    steps = [("use existing automation", _adopt_live)]
    if op.action in (Action.ENABLE, Action.DISABLE):
        return steps + [_activation_step(activation)]
    if op.action is Action.UPGRADE:
        behind = set(op.live.upgradable if op.live else ())
        wanted = sorted(behind & set(spec.get("connections", [])))
        edits: Steps = [(f"upgradeConnections {', '.join(wanted)}",
                         _verb("upgrade_connections", {"connection_ids": wanted},
                               _upgraded(wanted)))]
        return steps + _draft_then_publish(live, published, edits, force=True)
    mask = [f for f in calls.EDITABLE_FIELDS if _differs(spec, live, f)]
    edits = []
    if mask:
        body = {f: calls.automation_body(spec)[f] for f in mask}
        edits.append((f"PATCH update_mask={','.join(mask)}",
                      _call("PATCH", "update_automation", params={"update_mask": ",".join(mask)},
                            json=body)))
    edits += _connection_edits(set(live.get("connections", [])), set(spec.get("connections", [])))
    steps += _draft_then_publish(live, published, edits,
                                 force=not published and live.get("stage") == "published")
    if published and (live.get("activation") != spec.get("activation") or
                      live.get("stage") != "published"):
        steps.append(_activation_step(activation))
    return steps


def _differs(spec: dict[str, Any], live: dict[str, Any], name: str) -> bool:
    if name == "marked_outputs":
        return sorted(spec.get(name, [])) != sorted(live.get(name, []))
    return spec.get(name, "") != live.get(name, "")


def _connection_edits(before: set[str], after: set[str]) -> Steps:
    """One connection swapped for another is a switch (references move over); else remove/add."""
    removed, added = sorted(before - after), sorted(after - before)
    if len(removed) == len(added) == 1:
        switch = {"from_connection_id": removed[0], "to_connection_id": added[0]}
        return [(f"switchConnections {removed[0]} -> {added[0]}",
                 _verb("switch_connections", {"switches": [switch]},
                       _attached(added, removed)))]
    steps: Steps = []
    if removed:
        steps.append((f"removeConnections {', '.join(removed)}",
                      _verb("remove_connections", {"connection_ids": removed},
                            _attached((), removed))))
    if added:
        steps.append((f"addConnections {', '.join(added)}",
                      _verb("add_connections",
                            {"connections": [{"connection_id": c} for c in added]},
                            _attached(added))))
    return steps


def _draft_then_publish(live: dict[str, Any], published: bool, edits: Steps,
                        force: bool = False) -> Steps:
    """Fork first when the latest version is published; publish at the end when wanted."""
    steps: Steps = []
    if (edits or force) and live.get("stage") == "published":
        steps.append(("forkPublished", _verb("fork_published", {}, _forked)))
    steps += edits
    if published and (edits or force or live.get("stage") != "published"):
        steps.append(("publish", _verb("publish", {}, _published)))
    return steps


def _activation_step(state: str) -> tuple[str, Action_]:
    return (f"PATCH update_mask=activation_state ({state})",
            _call("PATCH", "update_automation", params={"update_mask": "activation_state"},
                  json={"activation_state": state}))


async def _adopt_live(run: Run) -> None:
    run.remote_id = run.live_id


async def _create_automation(run: Run) -> None:
    body = calls.automation_body(run.spec)

    async def send() -> dict[str, Any]:
        return await run.client.call("POST", calls.path("create_automation"), json=body,
                                     idempotent=False)

    created = await create_once(send, lambda: find_automation(run.client, body["display_name"]))
    run.remote_id = calls.automation_id_of(created["name"])


async def _delete_automation(run: Run) -> None:
    run.remote_id = run.live_id
    await run.client.call("DELETE", calls.path("delete_automation"), automation_id=run.live_id)


def quiesce_steps(op: Operation) -> Steps:
    """Stop new runs of an automation being removed: deactivate it (when it is active), then
    disable its schedule (a missing schedule is fine). Both are safe to repeat."""
    raw = op.live.raw if op.live is not None else {}
    steps: Steps = []
    if raw.get("activation_state") == calls.ACTIVATION["active"]:
        steps.append(_activation_step(calls.ACTIVATION["deactivated"]))
    steps.append((":disableAutomationSchedule (if it has a schedule)", _disable_any_schedule))
    return [("use existing automation", _adopt_live), *steps]


async def _disable_any_schedule(run: Run) -> None:
    try:
        await run.client.call("POST", calls.path("disable_schedule"), json={}, idempotent=True,
                              automation_id=run.remote_id)
    except ProviderError as exc:
        if exc.status != 404:  # NOT_FOUND: the automation has no schedule
            raise


# --- schedules -------------------------------------------------------------------------------


def _schedule(op: Operation) -> Steps:
    if op.action is Action.REMOVE:
        return [("DELETE schedule", _delete_schedule)]
    spec = dict(op.resource.spec) if op.resource else {}
    toggle = ("enable_schedule", ":enableAutomationSchedule") if spec.get("enabled", True) \
        else ("disable_schedule", ":disableAutomationSchedule")
    toggle_step = (toggle[1], _schedule_toggle(toggle[0]))
    if op.action is Action.CREATE:
        steps: Steps = [("POST schedule", _create_schedule)]
        return steps + ([] if spec.get("enabled", True) else [toggle_step])
    steps = [("use existing schedule", _adopt_live)]
    if op.action in (Action.ENABLE, Action.DISABLE):
        return steps + [toggle_step]
    live = dict(op.live.spec) if op.live else {}
    config_fields = ("cron", "timezone", "inputs", "end")
    if any(spec.get(f) != live.get(f) for f in config_fields):
        steps.append(("PATCH schedule update_mask=config", _patch_schedule))
    if bool(spec.get("enabled", True)) != bool(live.get("enabled", True)):
        steps.append(toggle_step)
    return steps


def _schedule_toggle(call: str) -> Action_:
    async def step(run: Run) -> None:
        # setting a state twice is harmless, so a lost answer may be retried
        await run.client.call("POST", calls.path(call), json={}, idempotent=True,
                              automation_id=run.remote_id)

    return step


async def _create_schedule(run: Run) -> None:
    run.remote_id = await run.automation_id(run.spec["automation"])
    config = calls.schedule_config(run.spec)

    async def send() -> dict[str, Any]:
        return await run.client.call("POST", calls.path("schedule"), json={"config": config},
                                     idempotent=False, automation_id=run.remote_id)

    await create_once(send, lambda: get_schedule(run.client, str(run.remote_id)))


async def _patch_schedule(run: Run) -> None:
    await run.client.call("PATCH", calls.path("schedule"), params={"update_mask": "config"},
                          json={"config": calls.schedule_config(run.spec)},
                          automation_id=run.remote_id)


async def _delete_schedule(run: Run) -> None:
    await run.client.call("DELETE", calls.path("schedule"), automation_id=run.live_id)


# --- triggers --------------------------------------------------------------------------------


def _trigger(op: Operation) -> Steps:
    if op.action is Action.REMOVE:
        return [("DELETE trigger", _delete_trigger)]
    if op.action is Action.CREATE:
        return [("POST triggers", _create_trigger)]
    spec = dict(op.resource.spec) if op.resource else {}
    live = dict(op.live.spec) if op.live else {}
    wire = {"phase": "phase_type", "type": "phase_sub_type", "active": "is_active"}
    mask = [wire[f] for f in ("phase", "type", "active") if spec.get(f) != live.get(f)]
    if not mask:
        return []
    return [(f"PATCH trigger update_mask={','.join(mask)}", _patch_trigger(mask))]


async def _create_trigger(run: Run) -> None:
    automation_id = await run.automation_id(run.spec["automation"])
    body = calls.trigger_body(run.spec)
    run.remote_id = trigger_remote_id(automation_id, body["trigger_id"])

    async def send() -> dict[str, Any]:
        return await run.client.call("POST", calls.path("triggers"), json=body, idempotent=False,
                                     automation_id=automation_id)

    async def find() -> dict[str, Any] | None:
        try:
            return await run.client.call("GET", calls.path("trigger"), automation_id=automation_id,
                                         trigger_id=body["trigger_id"])
        except ProviderError as exc:
            if exc.status == 404:
                return None
            raise

    await create_once(send, find)


def _patch_trigger(mask: list[str]) -> Action_:
    async def step(run: Run) -> None:
        run.remote_id = run.live_id
        automation_id, trigger_id = split_trigger_remote_id(run.live_id)
        body = calls.trigger_body(run.spec)
        await run.client.call("PATCH", calls.path("trigger"),
                              params={"update_mask": ",".join(mask)},
                              json={f: body[f] for f in mask}, automation_id=automation_id,
                              trigger_id=trigger_id)

    return step


async def _delete_trigger(run: Run) -> None:
    automation_id, trigger_id = split_trigger_remote_id(run.live_id)
    await run.client.call("DELETE", calls.path("trigger"), automation_id=automation_id,
                          trigger_id=trigger_id)


# --- connections -----------------------------------------------------------------------------


def _connection(op: Operation) -> Steps:
    if op.action is Action.REMOVE:
        return [("traceConnectionUsage (refuse if a published automation uses it)", _check_usage),
                ("DELETE automations:deleteConnection", _delete_connection)]
    if op.action is Action.CREATE:
        return [("POST connections", _create_connection)]
    return []  # connection_id and connector both replace; nothing else can change


async def _check_usage(run: Run) -> None:
    connection_id = run.live_id
    body = await run.client.call("POST", calls.path("trace_connection_usage"),
                                 json={"connection_id": connection_id}, idempotent=True)
    blocking = [a for a in body.get("automations") or []
                if a.get("stage") == calls.STAGE_PUBLISHED]
    if blocking:
        raise ProviderError(
            f"workspace: connection {connection_id} is used by published automation(s) "
            f"{_names(blocking)}; change them to stop using it before deleting it",
            platform="workspace", call=f"POST {calls.path('trace_connection_usage')}",
            details=blocking,
        )


async def _delete_connection(run: Run) -> None:
    connection_id = run.live_id
    try:
        body = await run.client.call("DELETE", calls.path("delete_connection"),
                                     params={"connection_id": connection_id})
    except ProviderError as exc:
        details = exc.details if isinstance(exc.details, list) else []
        blocking = [a for d in details if isinstance(d, dict)
                    for a in d.get("blocking_automations") or []]
        if blocking:
            raise ProviderError(
                f"workspace: connection {connection_id} is used by published automation(s) "
                f"{_names(blocking)}; it was not deleted", platform="workspace", call=exc.call,
                status=exc.status, platform_message=exc.platform_message, code=exc.code,
                details=exc.details) from exc
        raise
    affected = body.get("affected_automations") or []
    if affected:
        run.warnings.append(f"connection {connection_id} deleted; draft automation(s) "
                            f"{_names(affected)} now have an unresolved reference to it")


def _names(automations: list[dict[str, Any]]) -> str:
    return ", ".join(sorted(str(a.get("display_name") or a.get("name")) for a in automations))


async def _create_connection(run: Run) -> None:
    body = {"connection_id": run.spec["connection_id"], "connector": run.spec["connector"]}
    run.remote_id = body["connection_id"]

    async def send() -> dict[str, Any]:
        return await run.client.call("POST", calls.path("create_connection"), json=body,
                                     idempotent=False)

    async def find() -> dict[str, Any] | None:
        return next((c for c in await list_connections(run.client)
                     if c["connection_id"] == body["connection_id"]), None)

    await create_once(send, find)
