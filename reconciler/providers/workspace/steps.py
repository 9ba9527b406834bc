"""The steps each workspace operation takes, as ``(label, action)`` pairs.

``plan_steps`` needs no I/O, so ``describe`` shows exactly the steps ``execute`` runs (both
through the shared runner, ``providers/runner.py``). Each action receives the ``Run`` of the
operation, which carries the client, the remote ids known so far and what the steps learn
(the remote id, warnings, which call set which field).

Every operation but a removal ends by reading back what the platform holds and comparing it
with the desired spec: where the contract does not say what a call does to a field (what
``activation_state`` a first publish leaves, whether a new schedule starts enabled), the step
makes the call that sets the field when it still differs, and a field that differs after that
is reported as not converging.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from reconciler.errors import ProviderError
from reconciler.model import Action, ExecutionContext, Operation, ResourceId
from reconciler.providers.http import ApiClient, create_once
from reconciler.providers.runner import OperationRun, Step, send_verb_once
from reconciler.providers.workspace import calls
from reconciler.providers.workspace.read import (
    code_connections,
    find_automation,
    get_schedule,
    latest_stage,
    split_trigger_remote_id,
    trigger_remote_id,
)


@dataclass
class Run(OperationRun):
    """One workspace operation being executed (``OperationRun`` plus what resolves names)."""

    context: ExecutionContext = field(kw_only=True)
    provider: str = field(kw_only=True)  # the provider instance, for identities it resolves

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
Steps = list[Step[Run]]


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


TookEffect = Callable[["Run"], Awaitable[bool]]


def _call(method: str, call: str, *, sets: Sequence[str] = (),
          took_effect: TookEffect | None = None, **kwargs: Any) -> Action_:
    """A step that sends one request to the current automation.

    A POST verb (``:publish``, ``:addConnections``, ...) passes ``took_effect``: when its answer
    is lost after it was sent (a reset, a 502/504), that reads back whether the platform acted,
    and the verb is sent again only if it did not.
    """

    async def step(run: Run) -> None:
        run.did(_shown_call(method, call, kwargs), sets)
        if took_effect is None:
            await run.client.call(method, calls.path(call), automation_id=run.remote_id,
                                  **kwargs)
            return

        async def send() -> None:
            await run.client.call(method, calls.path(call), automation_id=run.remote_id,
                                  idempotent=False, **kwargs)

        await send_verb_once(send, lambda: took_effect(run))

    return step


async def _published(run: Run) -> bool:
    return calls.is_published_version((await _get_automation(run)).get("version", ""))


async def _forked(run: Run) -> bool:
    return not await _published(run)


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


def _shown_call(method: str, call: str, kwargs: dict[str, Any]) -> str:
    """``PATCH W/automations/{automation_id}?update_mask=code`` (for messages)."""
    text = f"{method} {calls.path(call).replace(calls.W, 'W')}"
    params = kwargs.get("params") or {}
    if params:
        text += "?" + "&".join(f"{k}={v}" for k, v in params.items())
    return text


# --- automations -----------------------------------------------------------------------------

CONTENT_FIELDS = ("display_name", "description", "code", "english_code", "marked_outputs")


def _automation(op: Operation) -> Steps:
    if op.action is Action.REMOVE:
        return [("DELETE automation (soft delete)", _delete_automation)]
    spec = dict(op.resource.spec) if op.resource else {}
    published = spec.get("stage", "published") == "published"
    activation = calls.ACTIVATION[spec.get("activation", "active")]
    if op.action is Action.CREATE:
        steps: Steps = [("POST automations (create draft)", _create_automation)]
        if spec.get("connections"):
            steps.append(_add_connections(sorted(spec["connections"])))
        if published:
            steps.append(("publish", _call("POST", "publish", json={}, took_effect=_published,
                                           sets=("stage", "activation"))))
        return steps + [_read_back_step(published, activation)]
    live = dict(op.live.spec) if op.live else {}
    steps = [("use existing automation", _adopt_live)]
    if op.action in (Action.ENABLE, Action.DISABLE):
        return steps + [_activation_step(activation), _read_back_step(published, activation)]
    if op.action is Action.UPGRADE:
        behind = set(op.live.upgradable if op.live else ())
        wanted = sorted(behind & set(spec.get("connections", [])))
        edits: Steps = [(f"upgradeConnections {', '.join(wanted)}",
                         _call("POST", "upgrade_connections", json={"connection_ids": wanted},
                               took_effect=_upgraded(wanted), sets=("connections",)))]
        return (steps + _draft_then_publish(live, published, edits, force=True)
                + [_read_back_step(published, activation)])
    mask = [f for f in calls.EDITABLE_FIELDS if _differs(spec, live, f)]
    edits = []
    if mask:
        body = {f: calls.automation_body(spec)[f] for f in mask}
        edits.append((f"PATCH update_mask={','.join(mask)}",
                      _call("PATCH", "update_automation", params={"update_mask": ",".join(mask)},
                            json=body, sets=mask)))
    edits += _connection_edits(set(live.get("connections", [])), set(spec.get("connections", [])))
    steps += _draft_then_publish(live, published, edits,
                                 force=not published and live.get("stage") == "published")
    return steps + [_read_back_step(published, activation)]


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
                 _connection_call("switch_connections", {"switches": [switch]}, added,
                                  removed))]
    steps: Steps = []
    if removed:
        steps.append((f"removeConnections {', '.join(removed)}",
                      _call("POST", "remove_connections", json={"connection_ids": removed},
                            took_effect=_attached((), removed), sets=("connections",))))
    if added:
        steps.append(_add_connections(added))
    return steps


def _add_connections(added: list[str]) -> tuple[str, Action_]:
    body = {"connections": [{"connection_id": c} for c in added]}
    return (f"addConnections {', '.join(added)}",
            _connection_call("add_connections", body, added))


def _connection_call(call: str, body: dict[str, Any], added: list[str],
                     removed: Sequence[str] = ()) -> Action_:
    """A connection call; NOT_FOUND means a connection it names was never made in the platform."""
    inner = _call("POST", call, json=body, took_effect=_attached(added, removed),
                  sets=("connections",))

    async def step(run: Run) -> None:
        try:
            await inner(run)
        except ProviderError as exc:
            if exc.status != 404:
                raise
            raise _missing_connection(run, exc, added) from None

    return step


def _missing_connection(run: Run, exc: ProviderError, added: list[str]) -> ProviderError:
    named = [c for c in added if re.search(rf"(?<![\w-]){re.escape(c)}(?![\w-])",
                                           exc.platform_message or "")]
    missing = ", ".join(named or added)
    workspace = run.client.path_params.get("workspace_id", "")
    word = "connection" if len(named or added) == 1 else "one of the connections"
    return ProviderError(
        f"workspace: {run.op.id}: {word} {missing} does not exist in workspace {workspace}: "
        f"create it in the platform first (the platform said: {exc.platform_message})",
        platform="workspace", call=exc.call, status=exc.status, code=exc.code,
        platform_message=exc.platform_message, details=exc.details)


def _draft_then_publish(live: dict[str, Any], published: bool, edits: Steps,
                        force: bool = False) -> Steps:
    """Fork first when the latest version is published; publish at the end when wanted."""
    steps: Steps = []
    if (edits or force) and live.get("stage") == "published":
        steps.append(("forkPublished", _call("POST", "fork_published", json={},
                                             took_effect=_forked, sets=("stage",))))
    steps += edits
    if published and (edits or force or live.get("stage") != "published"):
        steps.append(("publish", _call("POST", "publish", json={}, took_effect=_published,
                                       sets=("stage",))))
    return steps


def _activation_step(state: str) -> tuple[str, Action_]:
    return (f"PATCH update_mask=activation_state ({state})", _set_activation(state))


def _set_activation(state: str) -> Action_:
    return _call("PATCH", "update_automation", params={"update_mask": "activation_state"},
                 json={"activation_state": state}, sets=("activation",))


def _read_back_step(published: bool, activation: str) -> tuple[str, Action_]:
    label = "read back"
    if published:
        label += f"; PATCH update_mask=activation_state ({activation}) if it differs"
    return (label, _read_back_automation)


async def _read_back_automation(run: Run) -> None:
    """Compare the automation as it now stands with the spec; set activation if it differs."""
    spec = run.spec
    got = await _get_automation(run)
    wanted_state = calls.ACTIVATION[spec.get("activation", "active")]
    published = calls.is_published_version(got.get("version", ""))
    if (spec.get("stage", "published") == "published" and published
            and got.get("activation_state") != wanted_state
            and not run.setters.get("activation", "").startswith("PATCH")):
        await _set_activation(wanted_state)(run)
        got = await _get_automation(run)
    live_connections: list[dict[str, Any]] = []
    before = run.op.live.spec.get("connections") if run.op.live else None
    if spec.get("connections") or before:
        live_connections = await code_connections(run.client, str(run.remote_id),
                                                  latest_stage(got))
        _check_connectors(run, live_connections)
    wanted = calls.expected_automation(spec)
    now = calls.project_automation(got, live_connections, spec)
    ignored = run.ignored()
    for name in (*CONTENT_FIELDS, "connections", "stage", "activation"):
        if name in ignored or wanted.get(name) == now.get(name):
            continue
        if name == "activation":
            raise run.not_converging("activation_state", got.get("activation_state"),
                                     wanted_state, "activation")
        if name == "stage":
            raise run.not_converging("version", got.get("version"),
                                     f"a {wanted[name]} version", "stage")
        raise run.not_converging(name, now.get(name), wanted.get(name))


async def _get_automation(run: Run) -> dict[str, Any]:
    body = await run.client.call("GET", calls.path("get_automation"),
                                 automation_id=run.remote_id)
    return body if isinstance(body, dict) else {}


def _check_connectors(run: Run, connections: list[dict[str, Any]]) -> None:
    """A claimed connection's connector must be what the automation's code connections show."""
    claimed = {str(r.spec.get("connection_id")): r for r in run.context.desired.values()
               if r.id.kind == "Connection"}
    for connection in connections:
        resource = claimed.get(str(connection.get("connection_id")))
        shown = connection.get("connector")
        if resource is not None and shown and shown != resource.spec.get("connector"):
            raise ProviderError(
                f"workspace: {run.op.id}: connection {connection.get('connection_id')} is a "
                f"{shown} connection, but {resource.id} ({resource.source.file}:"
                f"{resource.source.line}) claims a {resource.spec.get('connector')} one; the "
                "API cannot change a connection's connector: fix the manifest",
                platform="workspace")


async def _adopt_live(run: Run) -> None:
    run.remote_id = run.live_id


async def _create_automation(run: Run) -> None:
    body = calls.automation_body(run.spec)
    run.did("POST W/automations", CONTENT_FIELDS)

    async def send() -> dict[str, Any]:
        return await run.client.call("POST", calls.path("create_automation"), json=body,
                                     idempotent=False)

    created = await create_once(send, lambda: find_automation(run.client, body["display_name"]))
    # a new automation is a draft with no connections yet
    run.created(calls.automation_id_of(created["name"]),
                calls.project_automation(created, [], run.spec))


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

SCHEDULE_FIELDS = ("cron", "timezone", "inputs", "end", "enabled")


def _schedule(op: Operation) -> Steps:
    if op.action is Action.REMOVE:
        return [("DELETE schedule", _delete_schedule)]
    spec = dict(op.resource.spec) if op.resource else {}
    enabled = bool(spec.get("enabled", True))
    toggle_call = "enable_schedule" if enabled else "disable_schedule"
    toggle_label = ":enableAutomationSchedule" if enabled else ":disableAutomationSchedule"
    read_back = (f"read back; {toggle_label} if enabled differs", _read_back_schedule)
    if op.action is Action.CREATE:
        return [("POST schedule", _create_schedule), read_back]
    steps: Steps = [("use existing schedule", _adopt_live)]
    if op.action in (Action.ENABLE, Action.DISABLE):
        return steps + [(toggle_label, _schedule_toggle(toggle_call)), read_back]
    live = dict(op.live.spec) if op.live else {}
    if any(spec.get(f) != live.get(f) for f in ("cron", "timezone", "inputs", "end")):
        steps.append(("PATCH schedule (config)", _patch_schedule))
    if enabled != bool(live.get("enabled", True)):
        steps.append((toggle_label, _schedule_toggle(toggle_call)))
    return steps + [read_back]


def _schedule_toggle(call: str) -> Action_:
    async def step(run: Run) -> None:
        run.did(_shown_call("POST", call, {}), ("enabled",))
        # setting a state twice is harmless, so a lost answer may be retried
        await run.client.call("POST", calls.path(call), json={}, idempotent=True,
                              automation_id=run.remote_id)

    return step


async def _create_schedule(run: Run) -> None:
    run.remote_id = await run.automation_id(run.spec["automation"])
    config = calls.schedule_config(run.spec)
    # ``enabled`` is read-only: a create cannot set it, the enable/disable calls do
    run.did("POST W/automations/{automation_id}/schedule", ("cron", "timezone", "inputs", "end"))

    async def send() -> dict[str, Any]:
        return await run.client.call("POST", calls.path("schedule"), json={"config": config},
                                     idempotent=False, automation_id=run.remote_id)

    await create_once(send, lambda: get_schedule(run.client, str(run.remote_id)))
    run.created(str(run.remote_id))


async def _patch_schedule(run: Run) -> None:
    # the platform's reference shows no update_mask here: the body's config replaces the config
    run.did("PATCH W/automations/{automation_id}/schedule", ("cron", "timezone", "inputs", "end"))
    await run.client.call("PATCH", calls.path("schedule"),
                          json={"config": calls.schedule_config(run.spec)},
                          automation_id=run.remote_id)


async def _read_back_schedule(run: Run) -> None:
    """Compare the schedule with the spec; flip ``enabled`` through its call if it differs."""
    spec = run.spec
    name = str(spec["automation"])
    got = await get_schedule(run.client, str(run.remote_id)) or {}
    enabled = bool(spec.get("enabled", True))
    now = calls.project_schedule(got, name)
    if now["enabled"] != enabled and "enabled" not in run.setters:
        await _schedule_toggle("enable_schedule" if enabled else "disable_schedule")(run)
        got = await get_schedule(run.client, str(run.remote_id)) or {}
        now = calls.project_schedule(got, name)
    wanted = calls.project_schedule({"config": calls.schedule_config(spec), "enabled": enabled},
                                    name)
    run.converge(wanted, now, SCHEDULE_FIELDS)


async def _delete_schedule(run: Run) -> None:
    await run.client.call("DELETE", calls.path("schedule"), automation_id=run.live_id)


# --- triggers --------------------------------------------------------------------------------

TRIGGER_WIRE = {"phase": "phase_type", "type": "phase_sub_type", "active": "is_active"}


def _trigger(op: Operation) -> Steps:
    if op.action is Action.REMOVE:
        return [("DELETE trigger", _delete_trigger)]
    if op.action is Action.CREATE:
        return [("POST triggers", _create_trigger), ("read back", _read_back_trigger)]
    spec = dict(op.resource.spec) if op.resource else {}
    live = dict(op.live.spec) if op.live else {}
    mask = [TRIGGER_WIRE[f] for f in ("phase", "type", "active") if spec.get(f) != live.get(f)]
    if not mask:
        return []
    return [(f"PATCH trigger update_mask={','.join(mask)}", _patch_trigger(mask)),
            ("read back", _read_back_trigger)]


async def _list_triggers(run: Run, automation_id: str) -> list[dict[str, Any]]:
    return await run.client.list_by_token(calls.path("triggers"), items_key="triggers",
                                          page_size=calls.MAX_PAGE_SIZE,
                                          automation_id=automation_id)


async def _find_trigger(run: Run, automation_id: str, trigger_id: str) -> dict[str, Any] | None:
    """The trigger with this id, from the list (the API has no call that gets one trigger)."""
    return next((t for t in await _list_triggers(run, automation_id)
                 if t.get("trigger_id") == trigger_id), None)


async def _create_trigger(run: Run) -> None:
    automation_id = await run.automation_id(run.spec["automation"])
    body = calls.trigger_body(run.spec)
    run.remote_id = trigger_remote_id(automation_id, body["trigger_id"])
    run.did("POST W/automations/{automation_id}/triggers", ("phase", "type", "active"))

    async def send() -> dict[str, Any]:
        return await run.client.call("POST", calls.path("triggers"), json=body, idempotent=False,
                                     automation_id=automation_id)

    await create_once(send, lambda: _find_trigger(run, automation_id, body["trigger_id"]))
    run.created(str(run.remote_id))


def _patch_trigger(mask: list[str]) -> Action_:
    async def step(run: Run) -> None:
        run.remote_id = run.live_id
        automation_id, trigger_id = split_trigger_remote_id(run.live_id)
        body = calls.trigger_body(run.spec)
        run.did(f"PATCH W/automations/{{automation_id}}/triggers/{{trigger_id}}"
                f"?update_mask={','.join(mask)}",
                [k for k, v in TRIGGER_WIRE.items() if v in mask])
        await run.client.call("PATCH", calls.path("trigger"),
                              params={"update_mask": ",".join(mask)},
                              json={f: body[f] for f in mask}, automation_id=automation_id,
                              trigger_id=trigger_id)

    return step


async def _read_back_trigger(run: Run) -> None:
    automation_id, trigger_id = split_trigger_remote_id(str(run.remote_id))
    got = await _find_trigger(run, automation_id, trigger_id)
    if got is None:
        raise run.not_converging("trigger_id", None, trigger_id)
    name = str(run.spec["automation"])
    now = calls.project_trigger(got, name)
    wanted = calls.project_trigger(calls.trigger_body(run.spec), name)
    run.converge(wanted, now, ("phase", "type", "active"))


async def _delete_trigger(run: Run) -> None:
    automation_id, trigger_id = split_trigger_remote_id(run.live_id)
    await run.client.call("DELETE", calls.path("trigger"), automation_id=automation_id,
                          trigger_id=trigger_id)


# --- connections -----------------------------------------------------------------------------


def _connection(op: Operation) -> Steps:
    if op.action is Action.REMOVE:
        users = list((op.live.raw if op.live else {}).get("used_by") or [])
        seen = f"; seen in use by {', '.join(users)}" if users else ""
        return [(f"traceConnectionUsage (refused while a published automation uses it{seen})",
                 _check_usage),
                ("DELETE automations:deleteConnection", _delete_connection)]
    if op.action is Action.CREATE:  # a claim is adopted; should one be planned as a create
        return [("claim (no API call: connections are made in the platform)", _claim)]
    return []  # the API cannot change a connection; a claim with another connector is refused


async def _claim(run: Run) -> None:
    run.remote_id = str(run.spec["connection_id"])


async def _check_usage(run: Run) -> None:
    connection_id = run.live_id
    body = await run.client.call("POST", calls.path("trace_connection_usage"),
                                 json={"connection_id": connection_id}, idempotent=True)
    blocking = [a for a in body.get("automations") or []
                if isinstance(a, dict) and a.get("stage") == calls.STAGE_PUBLISHED]
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
        if exc.status == 404:  # made and deleted in the platform: nothing left to delete
            run.warnings.append(f"connection {connection_id} was already gone from the platform")
            return
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
    return ", ".join(sorted(str(a.get("display_name") or a.get("name")) for a in automations
                            if isinstance(a, dict)))
