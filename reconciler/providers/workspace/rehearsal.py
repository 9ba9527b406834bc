"""Copy a workspace, as ``read`` found it, into a world document of the embedded sandbox.

Everything comes from the objects the plan's read already holds, so copying makes no request.
The API lists no connections: the copy holds those an automation's code connections show, and
those a ``Connection`` document claims (taken as existing, as apply takes them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.model import LiveResource, Resource
from reconciler.providers.base import RehearsalCopy
from reconciler.providers.workspace import calls
from reconciler.providers.workspace.read import split_trigger_remote_id

UNKNOWN_CONNECTOR = "unknown"
NOT_REHEARSED = (
    "workspace connections: their credentials and OAuth state are not returned by the API; a "
    "connection claimed by a Connection document but used by no automation is taken as existing",
    "workspace automations: only the latest version is copied (a published version under a "
    "newer draft, revision history and default-inputs history are not)",
)


def copy_world(live: Sequence[LiveResource], desired: Sequence[Resource]) -> RehearsalCopy:
    """A sandbox world holding the live automations (with their ids), schedules, triggers and
    the connections they use."""
    by_kind: dict[str, list[LiveResource]] = {}
    for item in live:
        by_kind.setdefault(item.id.kind, []).append(item)
    schedules = {item.remote_id: item for item in by_kind.get("Schedule", [])}
    triggers: dict[str, list[Mapping[str, Any]]] = {}
    for item in by_kind.get("Trigger", []):
        automation_id, _ = split_trigger_remote_id(item.remote_id)
        triggers.setdefault(automation_id, []).append(item.raw)

    connections = _connections(by_kind, desired)
    automations = []
    for item in by_kind.get("Automation", []):
        spec = item.spec
        automation: dict[str, Any] = {
            "id": item.remote_id,
            **{field: spec.get(field) for field in calls.EDITABLE_FIELDS if field in spec},
            "stage": spec.get("stage", "draft"),
            "connections": [
                _pin(connection_id, connection_id in item.upgradable)
                for connection_id in spec.get("connections") or ()
            ],
        }
        if automation["stage"] == "published":
            automation["activation"] = spec.get("activation", "active")
        schedule = schedules.get(item.remote_id)
        if schedule is not None:
            automation["schedule"] = {
                **calls.schedule_config(schedule.spec),
                "enabled": bool(schedule.spec.get("enabled", True)),
            }
        automation["triggers"] = [
            {key: trigger[key] for key in ("trigger_id", "phase_type", "phase_sub_type",
                                          "is_active") if key in trigger}
            for trigger in triggers.get(item.remote_id, [])
        ]
        automations.append(automation)
    upgradable = {cid for item in by_kind.get("Automation", []) for cid in item.upgradable}
    world_connections = [
        {"connection_id": cid, "connector": connector,
         "latest_version": "2" if cid in upgradable else "1"}
        for cid, connector in sorted(connections.items())
    ]
    return RehearsalCopy(
        world={"workspace": {"connections": world_connections, "automations": automations}},
        not_rehearsed=NOT_REHEARSED,
    )


def _connections(
    by_kind: Mapping[str, Sequence[LiveResource]], desired: Sequence[Resource]
) -> dict[str, str]:
    """connection id -> connector, from what the platform showed and what documents claim."""
    found: dict[str, str] = {}
    for item in by_kind.get("Automation", []):
        for connection_id in item.spec.get("connections") or ():
            found.setdefault(connection_id, UNKNOWN_CONNECTOR)
    for item in by_kind.get("Connection", []):
        found[item.spec["connection_id"]] = str(item.spec.get("connector") or UNKNOWN_CONNECTOR)
    for resource in desired:
        if resource.id.kind == "Connection":
            found.setdefault(resource.spec["connection_id"],
                             str(resource.spec.get("connector") or UNKNOWN_CONNECTOR))
    return found


def _pin(connection_id: str, behind: bool) -> Any:
    """An automation's connection: at the latest version, or one behind when it is upgradable."""
    return {"connection_id": connection_id, "version": "1"} if behind else connection_id
