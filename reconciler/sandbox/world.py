"""The sandbox's world: the default one a fresh db starts with, and seeding more from a file.

A world file (YAML or JSON) may hold::

    workspace:
      connections: [{connection_id, connector, latest_version}]
      automations: [{id, display_name, description, code, english_code, marked_outputs,
                     stage: published|draft, activation: active|deactivated,
                     connections: [connection_id | {connection_id, version}],
                     schedule: {cron, timezone, inputs, end, enabled},
                     triggers: [{trigger_id, phase_type, phase_sub_type, is_active}]}]
    outlit:
      signals: [{key, name, description, definition, archived}]
      destinations: [{key, name, description, enabled, config, archived}]
      automations: [{id, key, name, description, triggerJson, audienceFilterJson,
                     signals: [key], destinations: [key], enabled, archived}]
    datallog:
      projects: [{name, active, automations: [{name, enabled}]}]
    runs: [{automation (workspace display_name) | automationId, status, createdAt,
            completedAt, error, triggerType}]
    settings: {first_publish_activation: deactivated|active|unspecified}   (see settings.py)
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Collection
from typing import Any

from reconciler.sandbox import outlit, runs, settings, workspace_connections, workspace_model
from reconciler.sandbox.datallog import PROJECT
from reconciler.sandbox.http import Reply
from reconciler.sandbox.store import Store, timestamp
from reconciler.sandbox.workspace_schedules import SCHEDULE, TRIGGER, check_config, trigger_key

DEFAULT_WORLD: dict[str, Any] = {
    # connections are made in the platform's UI (the API cannot create one): the default
    # world holds a few, as a fresh workspace someone had set up would
    "workspace": {
        "connections": [
            {"connection_id": "slack-alerts", "connector": "slack"},
            {"connection_id": "slack-reports", "connector": "slack"},
            {"connection_id": "slack-main", "connector": "slack"},
            {"connection_id": "pg-main", "connector": "postgres"},
            {"connection_id": "http-main", "connector": "http"},
        ],
    },
    "outlit": {
        "signals": [
            {"key": "signup-completed", "name": "Signup completed"},
            {"key": "trial-expiring", "name": "Trial expiring"},
            {"key": "churn-risk", "name": "Churn risk", "archived": True},
        ],
        "destinations": [
            {"key": "slack-growth", "name": "Slack #growth", "enabled": True,
             "config": {"webhookUrl": "https://hooks.slack.example/growth"}},
            {"key": "hubspot-sync", "name": "HubSpot sync", "enabled": True,
             "config": {"portalId": "0000", "apiKey": "hidden"}},
            {"key": "email-digest", "name": "Email digest", "enabled": False,
             "config": {"to": "team@example.com"}},
        ],
    },
    "datallog": {
        "projects": [
            {"name": "analytics", "active": True, "automations": [
                {"name": "daily-load", "enabled": True},
                {"name": "legacy-export", "enabled": False},
            ]},
            {"name": "dormant", "active": False, "automations": []},
        ],
    },
}
INITIALISED = "initialised"
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


class WorldError(ValueError):
    """A world file names an unknown field or breaks a rule; the message names the path."""


def _fields(value: Any, path: str, allowed: set[str], required: Collection[str] = ()) -> dict:
    if not isinstance(value, dict):
        raise WorldError(f"{path}: expected a mapping")
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise WorldError(f"{path}: unknown field(s) {', '.join(unknown)} "
                         f"(allowed: {', '.join(sorted(allowed))})")
    missing = sorted(set(required) - set(value))
    if missing:
        raise WorldError(f"{path}: missing field(s) {', '.join(missing)}")
    return value


def _list(value: Any, path: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise WorldError(f"{path}: expected a list")
    return value


def ensure_world(store: Store) -> None:
    """Give a new db the default world (once)."""
    with store.transaction():
        if store.meta(INITIALISED) is None:
            seed_world(store, DEFAULT_WORLD)
            store.set_meta(INITIALISED, timestamp())


def reset_world(store: Store) -> None:
    """Forget everything and return to the default world."""
    with store.transaction():
        store.clear()
        seed_world(store, DEFAULT_WORLD)
        store.set_meta(INITIALISED, timestamp())


def replace_world(store: Store, world: Any) -> dict[str, int]:
    """Forget everything and hold exactly ``world`` (no default objects): a copy of another."""
    with store.transaction():
        store.clear()
        counts = seed_world(store, world)
        store.set_meta(INITIALISED, timestamp())
    return counts


def seed_world(store: Store, world: Any) -> dict[str, int]:
    """Add a world's objects (all or nothing); returns how many objects of each sort were added."""
    world = _fields(world or {}, "world", {"workspace", "outlit", "datallog", "runs", "settings"})
    counts: dict[str, int] = {}
    with store.transaction():
        if world.get("settings"):
            try:
                settings.change(store, world["settings"])
            except ValueError as exc:
                raise WorldError(f"settings: {exc}") from None
        _seed_outlit(store, _fields(world.get("outlit") or {}, "outlit",
                                    {"signals", "destinations", "automations"}), counts)
        _seed_datallog(store, _fields(world.get("datallog") or {}, "datallog", {"projects"}),
                       counts)
        _seed_workspace(store, _fields(world.get("workspace") or {}, "workspace",
                                       {"connections", "automations"}), counts)
        for index, spec in enumerate(_list(world.get("runs"), "runs")):
            path = f"runs[{index}]"
            spec = dict(_fields(spec, path, {"id", "automation", "automationId", "status",
                                             "createdAt", "completedAt", "error", "triggerType",
                                             "triggerSourceType", "version"}))
            if "automation" in spec:
                found = workspace_model.find_by_display_name(store, spec.pop("automation"))
                if found is None:
                    raise WorldError(f"{path}.automation: no workspace automation by that name")
                spec["automationId"] = found["id"]
            try:
                runs.save(store, runs.past_run(spec))
            except ValueError as exc:
                raise WorldError(f"{path}: {exc}") from None
            counts["runs"] = counts.get("runs", 0) + 1
    return counts


def _seeded_id(spec: dict, path: str, kind: str, store: Store, fresh: Any) -> str:
    """The object's id as the world file gives it (a copy keeps the original's), else a new one."""
    given = spec.get("id")
    if given is None:
        return str(fresh())
    if not isinstance(given, str) or not _ID.fullmatch(given):
        raise WorldError(f"{path}.id: expected 1-64 letters, digits, '-' or '_'")
    if store.get(kind, given) is not None:
        raise WorldError(f"{path}.id: {given!r} is taken")
    return given


def _bump(counts: dict[str, int], name: str) -> None:
    counts[name] = counts.get(name, 0) + 1


def _seed_outlit(store: Store, section: dict, counts: dict[str, int]) -> None:
    moment = timestamp()
    for index, spec in enumerate(_list(section.get("signals"), "outlit.signals")):
        _fields(spec, f"outlit.signals[{index}]",
                {"key", "name", "description", "definition", "archived"}, {"key"})
        store.put(outlit.SIGNAL, spec["key"], {
            "id": str(uuid.uuid4()), "key": spec["key"], "name": spec.get("name", spec["key"]),
            "description": spec.get("description", ""), "definition": spec.get("definition", {}),
            "archivedAt": moment if spec.get("archived") else None,
            "createdAt": moment, "updatedAt": moment})
        _bump(counts, "signals")
    for index, spec in enumerate(_list(section.get("destinations"), "outlit.destinations")):
        _fields(spec, f"outlit.destinations[{index}]",
                {"key", "name", "description", "enabled", "config", "archived"}, {"key"})
        store.put(outlit.DESTINATION, spec["key"], {
            "id": str(uuid.uuid4()), "key": spec["key"], "name": spec.get("name", spec["key"]),
            "description": spec.get("description", ""), "enabled": bool(spec.get("enabled", True)),
            "config": spec.get("config", {}),
            "archivedAt": moment if spec.get("archived") else None,
            "createdAt": moment, "updatedAt": moment})
        _bump(counts, "destinations")
    taken = {d["key"] for d in store.all(outlit.AUTOMATION)}
    for index, spec in enumerate(_list(section.get("automations"), "outlit.automations")):
        path = f"outlit.automations[{index}]"
        _fields(spec, path, {"id", "key", "name", "description", "triggerJson",
                             "audienceFilterJson", "signals", "destinations", "enabled",
                             "archived"}, {"key"})
        if spec["key"] in taken:
            raise WorldError(f"{path}.key: an outlit automation with key {spec['key']!r} exists")
        for field, kind in (("signals", outlit.SIGNAL), ("destinations", outlit.DESTINATION)):
            for key in _list(spec.get(field), f"{path}.{field}"):
                if store.get(kind, key) is None:
                    raise WorldError(f"{path}.{field}: unknown key {key!r}")
        taken.add(spec["key"])
        doc = {"id": _seeded_id(spec, path, outlit.AUTOMATION, store, lambda: str(uuid.uuid4())),
               "key": spec["key"], "name": spec.get("name", spec["key"]),
               "description": spec.get("description", ""), "enabled": bool(spec.get("enabled")),
               "triggerJson": spec.get("triggerJson", {}),
               "audienceFilterJson": spec.get("audienceFilterJson", {}),
               "signalKeys": list(spec.get("signals") or []),
               "destinationKeys": list(spec.get("destinations") or []),
               "archivedAt": moment if spec.get("archived") else None,
               "createdAt": moment, "updatedAt": moment}
        store.put(outlit.AUTOMATION, doc["id"], doc)
        _bump(counts, "outlit automations")


def _seed_datallog(store: Store, section: dict, counts: dict[str, int]) -> None:
    for index, spec in enumerate(_list(section.get("projects"), "datallog.projects")):
        path = f"datallog.projects[{index}]"
        _fields(spec, path, {"name", "active", "automations"}, {"name"})
        automations = {}
        for position, item in enumerate(_list(spec.get("automations"), f"{path}.automations")):
            _fields(item, f"{path}.automations[{position}]", {"name", "enabled"}, {"name"})
            automations[item["name"]] = {"enabled": bool(item.get("enabled", True))}
        store.put(PROJECT, spec["name"], {"name": spec["name"],
                                          "active": bool(spec.get("active", True)),
                                          "automations": automations})
        _bump(counts, "datallog projects")


def _seed_workspace(store: Store, section: dict, counts: dict[str, int]) -> None:
    for index, spec in enumerate(_list(section.get("connections"), "workspace.connections")):
        _fields(spec, f"workspace.connections[{index}]",
                {"connection_id", "connector", "latest_version"}, {"connection_id", "connector"})
        doc = workspace_connections.new_connection(
            spec["connection_id"], spec["connector"], str(spec.get("latest_version", "1")))
        store.put(workspace_model.CONNECTION, doc["connection_id"], doc)
        _bump(counts, "connections")
    for index, spec in enumerate(_list(section.get("automations"), "workspace.automations")):
        _seed_workspace_automation(store, spec, f"workspace.automations[{index}]")
        _bump(counts, "workspace automations")


def _seed_workspace_automation(store: Store, spec: Any, path: str) -> None:
    m = workspace_model
    _fields(spec, path, {*m.EDITABLE, "id", "stage", "activation", "connections", "schedule",
                         "triggers"}, {"display_name"})
    if m.find_by_display_name(store, spec["display_name"]) is not None:
        raise WorldError(f"{path}.display_name: {spec['display_name']!r} already exists")
    fields = {"display_name": spec["display_name"], "description": spec.get("description", ""),
              "code": spec.get("code", ""), "english_code": spec.get("english_code", ""),
              "marked_outputs": list(spec.get("marked_outputs") or [])}
    doc = m.new_automation(fields)
    doc["id"] = _seeded_id(spec, path, m.AUTOMATION, store, lambda: doc["id"])
    pins = []
    for item in _list(spec.get("connections"), f"{path}.connections"):
        # an id pins the connection's latest version; {connection_id, version} an older one
        pinned = _fields(item, f"{path}.connections", {"connection_id", "version"},
                         {"connection_id"}) if isinstance(item, dict) else {"connection_id": item}
        connection_id = pinned["connection_id"]
        live = store.get(m.CONNECTION, connection_id)
        if live is None:
            raise WorldError(f"{path}.connections: unknown connection {connection_id!r}")
        pin = workspace_connections.pin(live)
        if "version" in pinned:
            pin["version"] = str(pinned["version"])
        pins.append(pin)
    doc["revisions"][0]["connections"] = pins
    stage = spec.get("stage", "published")
    if stage not in ("published", "draft"):
        raise WorldError(f"{path}.stage: expected published or draft")
    try:
        if stage == "published":
            m.publish(store, doc)
            activation = spec.get("activation", "active")
            if activation not in ("active", "deactivated"):
                raise WorldError(f"{path}.activation: expected active or deactivated")
            doc["activation_state"] = m.ACTIVE if activation == "active" else m.DEACTIVATED
        schedule = spec.get("schedule")
        if schedule is not None:
            _fields(schedule, f"{path}.schedule",
                    {"cron", "timezone", "inputs", "end", "enabled"}, {"cron"})
            config = check_config({k: v for k, v in schedule.items() if k != "enabled"})
            store.put(SCHEDULE, doc["id"], {"automation_id": doc["id"], "config": config,
                                            "enabled": bool(schedule.get("enabled", True))})
    except Reply as exc:
        raise WorldError(f"{path}: {exc.text}") from None
    for position, trigger in enumerate(_list(spec.get("triggers"), f"{path}.triggers")):
        _fields(trigger, f"{path}.triggers[{position}]",
                {"trigger_id", "phase_type", "phase_sub_type", "is_active"},
                {"trigger_id", "phase_type"})
        store.put(TRIGGER, trigger_key(doc["id"], trigger["trigger_id"]), {
            "automation_id": doc["id"], "trigger_id": trigger["trigger_id"],
            "phase_type": trigger["phase_type"],
            "phase_sub_type": trigger.get("phase_sub_type", "PHASE_SUB_TYPE_UNSPECIFIED"),
            "is_active": bool(trigger.get("is_active", True))})
    store.put(m.AUTOMATION, doc["id"], doc)
