"""Out-of-band edits, made the way a user of each platform's UI would make them.

One edit names a target (``workspace.automation``, ``outlit.destination``, …), the object's key
(the natural key a user sees: display_name, connection_id, outlit key, project name) and either
``set`` (fields to change), ``delete`` or, for a workspace connection, ``bump_version``.
"""

from __future__ import annotations

from typing import Any

from reconciler.sandbox import outlit, workspace_model
from reconciler.sandbox.datallog import PROJECT
from reconciler.sandbox.http import Reply
from reconciler.sandbox.store import Store, timestamp
from reconciler.sandbox.workspace_schedules import SCHEDULE, TRIGGER, check_config, trigger_key

TARGETS = ("workspace.automation", "workspace.schedule", "workspace.trigger",
           "workspace.connection", "outlit.automation", "outlit.signal", "outlit.destination",
           "datallog.project", "datallog.automation")


class EditError(ValueError):
    """The edit names an unknown target, object or field."""


class NoSuchObjectError(EditError):
    """No object of the target has the key the edit names."""


def _only(values: dict[str, Any], allowed: set[str], target: str) -> None:
    unknown = sorted(set(values) - allowed)
    if unknown:
        raise EditError(f"{target} has no editable field(s) {', '.join(unknown)} "
                        f"(editable: {', '.join(sorted(allowed))})")


def _automation(store: Store, key: str) -> dict[str, Any]:
    doc = workspace_model.find_by_display_name(store, key)
    if doc is None:
        doc = store.get(workspace_model.AUTOMATION, key)
    if doc is None or doc["delete_time"]:
        raise NoSuchObjectError(f"no workspace automation with display_name or id {key!r}")
    return doc


def _need(doc: dict[str, Any] | None, what: str) -> dict[str, Any]:
    if doc is None:
        raise NoSuchObjectError(f"no {what}")
    return doc


def existing(store: Store, target: str) -> list[str]:
    """The keys an edit of ``target`` accepts, as the platform's UI shows them (sorted)."""
    m = workspace_model
    names = {d["id"]: m.latest(d)["fields"]["display_name"] for d in m.live_automations(store)}
    found: list[str]
    if target == "workspace.automation":
        found = list(names.values())
    elif target == "workspace.schedule":
        found = [names[d["automation_id"]] for d in store.all(SCHEDULE)
                 if d["automation_id"] in names]
    elif target == "workspace.trigger":
        found = [f"{names[d['automation_id']]}/{d['trigger_id']}"
                 for d in store.all(TRIGGER) if d["automation_id"] in names]
    elif target == "workspace.connection":
        found = [d["connection_id"] for d in store.all(m.CONNECTION)]
    elif target in ("outlit.automation", "outlit.signal", "outlit.destination"):
        kind = {"outlit.automation": outlit.AUTOMATION, "outlit.signal": outlit.SIGNAL,
                "outlit.destination": outlit.DESTINATION}[target]
        found = [d["key"] for d in store.all(kind)]
    elif target == "datallog.project":
        found = [d["name"] for d in store.all(PROJECT)]
    else:
        found = [f"{d['name']}/{name}" for d in store.all(PROJECT) for name in d["automations"]]
    return sorted(found)


def apply_edit(store: Store, edit: dict[str, Any]) -> dict[str, Any]:
    """Perform one edit atomically; returns a short description of what changed."""
    _only(edit, {"target", "key", "set", "delete", "bump_version"}, "an edit")
    target, key = edit.get("target"), edit.get("key")
    if target not in TARGETS:
        raise EditError(f"unknown edit target {target!r} (known: {', '.join(TARGETS)})")
    if not isinstance(key, str) or not key:
        raise EditError("an edit needs a key (the object's name as the platform UI shows it)")
    values = edit.get("set") or {}
    if not isinstance(values, dict):
        raise EditError("set must be a mapping of field to new value")
    handler = _HANDLERS[target]
    try:
        with store.transaction():
            handler(store, key, values, bool(edit.get("delete")), bool(edit.get("bump_version")))
    except Reply as exc:
        raise EditError(exc.text) from None
    except NoSuchObjectError as exc:  # say what there is
        there = existing(store, target)
        listed = ", ".join(there[:20]) or "nothing"
        if len(there) > 20:
            listed += f" and {len(there) - 20} more"
        raise NoSuchObjectError(f"{exc}; {target} has: {listed}") from None
    return {"target": target, "key": key, "set": values, "delete": bool(edit.get("delete")),
            "bump_version": bool(edit.get("bump_version"))}


def _workspace_automation(store: Store, key: str, values: dict, delete: bool, bump: bool) -> None:
    m = workspace_model
    doc = _automation(store, key)
    if delete:
        m.soft_delete(doc)
        store.put(m.AUTOMATION, doc["id"], doc)
        return
    _only(values, {*m.EDITABLE, "activation"}, "workspace.automation")
    fields = {k: v for k, v in values.items() if k in m.EDITABLE}
    if fields:
        if "display_name" in fields:
            m.check_display_name_free(store, fields["display_name"], doc["id"])
        if m.latest_draft(doc) is not None:
            m.edit_draft(doc, fields)
        else:  # a published automation is edited in the UI by fork, change, publish
            m.fork(doc)
            m.edit_draft(doc, fields)
            m.publish(store, doc)
    if "activation" in values:
        states = {"active": m.ACTIVE, "deactivated": m.DEACTIVATED}
        state = states.get(values["activation"], values["activation"])
        if state not in (m.ACTIVE, m.DEACTIVATED):
            raise EditError("activation must be active or deactivated")
        doc["activation_state"] = state
        doc["update_time"] = timestamp()
    store.put(m.AUTOMATION, doc["id"], doc)


def _workspace_schedule(store: Store, key: str, values: dict, delete: bool, bump: bool) -> None:
    automation_id = _automation(store, key)["id"]
    doc = _need(store.get(SCHEDULE, automation_id), f"schedule on automation {key!r}")
    if delete:
        store.delete(SCHEDULE, automation_id)
        return
    _only(values, {"enabled", "cron", "timezone", "inputs", "end"}, "workspace.schedule")
    if "enabled" in values:
        doc["enabled"] = bool(values["enabled"])
    config = {**doc["config"], **{k: v for k, v in values.items() if k != "enabled"}}
    doc["config"] = check_config(config)
    store.put(SCHEDULE, automation_id, doc)


def _workspace_trigger(store: Store, key: str, values: dict, delete: bool, bump: bool) -> None:
    automation, _, trigger_id = key.rpartition("/")
    if not automation:
        raise EditError("a trigger's key is AUTOMATION/TRIGGER_ID")
    storage_key = trigger_key(_automation(store, automation)["id"], trigger_id)
    doc = _need(store.get(TRIGGER, storage_key), f"trigger {key!r}")
    if delete:
        store.delete(TRIGGER, storage_key)
        return
    _only(values, {"phase_type", "phase_sub_type", "is_active"}, "workspace.trigger")
    doc.update(values)
    store.put(TRIGGER, storage_key, doc)


def _workspace_connection(store: Store, key: str, values: dict, delete: bool, bump: bool) -> None:
    doc = _need(store.get(workspace_model.CONNECTION, key), f"workspace connection {key!r}")
    if delete:
        store.delete(workspace_model.CONNECTION, key)
        return
    _only(values, {"connector", "latest_version"}, "workspace.connection")
    doc.update({k: str(v) for k, v in values.items()})
    if bump:
        doc["latest_version"] = str(int(doc["latest_version"]) + 1)
    store.put(workspace_model.CONNECTION, key, doc)


def _outlit_automation(store: Store, key: str, values: dict, delete: bool, bump: bool) -> None:
    found = [d["id"] for d in store.all(outlit.AUTOMATION) if key in (d["key"], d["id"])]
    doc = _need(store.get(outlit.AUTOMATION, found[0]) if found else None,
                f"outlit automation with key {key!r}")
    if delete:
        store.delete(outlit.AUTOMATION, doc["id"])
        return
    renames = {"signals": "signalKeys", "destinations": "destinationKeys"}
    _only(values, {"name", "description", "enabled", "triggerJson", "audienceFilterJson",
                   "signals", "destinations", "archived"}, "outlit.automation")
    for name, value in values.items():
        if name == "archived":
            doc["archivedAt"] = timestamp() if value else None
        else:
            doc[renames.get(name, name)] = value
    doc["updatedAt"] = timestamp()
    store.put(outlit.AUTOMATION, doc["id"], doc)


def _outlit_part(kind: str, label: str, editable: set[str]):
    def edit(store: Store, key: str, values: dict, delete: bool, bump: bool) -> None:
        doc = _need(store.get(kind, key), f"outlit {label} {key!r}")
        if delete:
            store.delete(kind, key)
            return
        _only(values, editable | {"archived"}, f"outlit.{label}")
        for name, value in values.items():
            if name == "archived":
                doc["archivedAt"] = timestamp() if value else None
            else:
                doc[name] = value
        doc["updatedAt"] = timestamp()
        store.put(kind, key, doc)

    return edit


def _datallog_project(store: Store, key: str, values: dict, delete: bool, bump: bool) -> None:
    doc = _need(store.get(PROJECT, key), f"datallog project {key!r}")
    if delete:
        store.delete(PROJECT, key)
        return
    _only(values, {"active"}, "datallog.project")
    doc["active"] = bool(values.get("active", doc["active"]))
    store.put(PROJECT, key, doc)


def _datallog_automation(store: Store, key: str, values: dict, delete: bool, bump: bool) -> None:
    project, _, name = key.partition("/")
    doc = _need(store.get(PROJECT, project), f"datallog project {project!r}")
    if name not in doc["automations"]:
        raise NoSuchObjectError(f"no automation {name!r} in datallog project {project!r}")
    if delete:
        del doc["automations"][name]
    else:
        _only(values, {"enabled"}, "datallog.automation")
        if "enabled" in values:
            doc["automations"][name]["enabled"] = bool(values["enabled"])
    store.put(PROJECT, project, doc)


_HANDLERS = {
    "workspace.automation": _workspace_automation,
    "workspace.schedule": _workspace_schedule,
    "workspace.trigger": _workspace_trigger,
    "workspace.connection": _workspace_connection,
    "outlit.automation": _outlit_automation,
    "outlit.signal": _outlit_part(outlit.SIGNAL, "signal", {"name", "description", "definition"}),
    "outlit.destination": _outlit_part(outlit.DESTINATION, "destination",
                                       {"name", "description", "enabled"}),
    "datallog.project": _datallog_project,
    "datallog.automation": _datallog_automation,
}
