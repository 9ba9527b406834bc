"""Every path of the workspace automations API, and the two-way mapping between spec and body.

Paths are templates relative to the base URL; ``W`` is the workspace base and is filled from
the provider settings ``organization_id`` and ``workspace_id``. Documented endpoints come from
the platform's published reference; ``ASSUMED`` names the ones we had to assume (see
docs/providers/workspace.md).

The ``*_body`` functions build what ``execute`` sends and the ``project_*`` functions are their
exact inverse, so a freshly applied object reads back equal to its spec.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.providers.answers import Shape

W = "/api/v1/organizations/{organization_id}/workspaces/{workspace_id}"
A = W + "/automations/{automation_id}"

PATHS = {
    "list_automations": W + "/automations",
    "create_automation": W + "/automations",  # assumed
    "get_automation": A,
    "query_automation": A + ":query",
    "update_automation": A,  # assumed PATCH ?update_mask=
    "delete_automation": A,  # assumed soft delete
    "publish": A + ":publish",  # assumed
    "fork_published": A + ":forkPublished",  # assumed
    "invoke": A + ":invoke",
    "run": A + "/runs/{run_id}",  # assumed
    "extract_connections": A + ":extractCodeConnections",
    "add_connections": A + ":addConnections",
    "remove_connections": A + ":removeConnections",
    "upgrade_connections": A + ":upgradeConnections",
    "switch_connections": A + ":switchConnections",
    "schedule": A + "/schedule",
    "enable_schedule": A + ":enableAutomationSchedule",
    "disable_schedule": A + ":disableAutomationSchedule",
    "triggers": A + "/triggers",
    "trigger": A + "/triggers/{trigger_id}",  # assumed PATCH / DELETE (there is no GET)
    "delete_connection": W + "/automations:deleteConnection",
    "count_connection_usage": W + "/automations:countConnectionUsage",
    "trace_connection_usage": W + "/automations:traceConnectionUsage",
}
ASSUMED = frozenset({
    "create_automation", "update_automation", "delete_automation", "publish", "fork_published",
    "run", "trigger",
})
MAX_PAGE_SIZE = 1000

STAGE_DRAFT = "AUTOMATION_STAGE_DRAFT"
STAGE_PUBLISHED = "AUTOMATION_STAGE_PUBLISHED"
ACTIVATION = {
    "active": "AUTOMATION_ACTIVATION_STATE_ACTIVE",
    "deactivated": "AUTOMATION_ACTIVATION_STATE_DEACTIVATED",
}
ACTIVATION_UNSPECIFIED = "AUTOMATION_ACTIVATION_STATE_UNSPECIFIED"
EDITABLE_FIELDS = ("display_name", "description", "code", "english_code", "marked_outputs")
END_NEVER = "SCHEDULE_END_TYPE_NEVER"
END_AFTER = "SCHEDULE_END_TYPE_AFTER_OCCURRENCES"
END_ON_DATE = "SCHEDULE_END_TYPE_ON_DATE"
PHASE_PREFIX = "PHASE_TYPE_"
SUB_TYPE_PREFIX = "PHASE_SUB_TYPE_"
PHASES = frozenset({"unspecified", "pre", "main", "post"})
SUB_TYPES = frozenset({"unspecified", "email", "schedule", "webhook", "api"})

# What the adapter relies on in each answer (every item, for a list), checked as it comes in
ANSWERS: dict[str, Shape] = {
    "GET " + PATHS["list_automations"]: {"name": "string", "display_name": "string?",
                                        "marked_outputs[]": "string?"},
    "POST " + PATHS["create_automation"]: {"name": "string"},
    "GET " + PATHS["extract_connections"]: {"connections[].connection_id": "string?",
                                           "connections[].connector": "string?"},
    "GET " + PATHS["schedule"]: {"config": "object?", "config.end": "object?",
                                 "config.inputs": "object?"},
    "GET " + PATHS["triggers"]: {"trigger_id": "string"},
}


def path(call: str) -> str:
    """The path template of a named call."""
    return PATHS[call]


# --- automations -----------------------------------------------------------------------------


def automation_id_of(name: str) -> str:
    """The id at the end of ``organizations/o/workspaces/w/automations/{id}``."""
    return name.rsplit("/", 1)[-1]


def is_published_version(version: str) -> bool:
    """Published versions are majors ("1.0", "2.0"); drafts are "0.1", "1.1", …."""
    major, _, minor = str(version).partition(".")
    return minor == "0" and major not in ("", "0")


def automation_body(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The editable fields the spec sets (create body, PATCH body)."""
    return {
        "display_name": spec["display_name"],
        "description": spec.get("description", ""),
        "code": spec.get("code", ""),
        "english_code": spec.get("english_code", ""),
        "marked_outputs": list(spec.get("marked_outputs", [])),
    }


def project_automation(
    automation: Mapping[str, Any],
    connections: Sequence[Mapping[str, Any]],
    desired: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """Spec shape of an automation's latest version and the connections attached to it.

    Activation is meaningless before the first publish: it then reads as what the desired spec
    asks, so a draft-only automation shows no noise it could not act on. A published automation
    left UNSPECIFIED reads as ``unspecified``, and a state this version does not know is shown as
    it came, so either shows as a difference that activation then sets.
    """
    state = str(automation.get("activation_state") or ACTIVATION_UNSPECIFIED)
    words = {v: k for k, v in ACTIVATION.items()}
    published = is_published_version(automation.get("version", ""))
    if state in words:
        activation = words[state]
    elif not published:
        activation = (desired or {}).get("activation", "active")
    elif state == ACTIVATION_UNSPECIFIED:
        activation = "unspecified"
    else:
        activation = state
    return {
        "display_name": automation.get("display_name", ""),
        "description": automation.get("description") or "",
        "code": automation.get("code") or "",
        "english_code": automation.get("english_code") or "",
        "marked_outputs": sorted(automation.get("marked_outputs") or []),
        "connections": sorted({str(c.get("connection_id")) for c in connections
                               if c.get("connection_id")}),
        "stage": "published" if published else "draft",
        "activation": activation,
    }


def expected_automation(spec: Mapping[str, Any]) -> dict[str, Any]:
    """What ``project_automation`` reads once the platform holds ``spec`` exactly."""
    return {
        **automation_body(spec),
        "marked_outputs": sorted(spec.get("marked_outputs", [])),
        "connections": sorted(spec.get("connections", [])),
        "stage": spec.get("stage", "published"),
        "activation": spec.get("activation", "active"),
    }


def upgradable(connections: Sequence[Mapping[str, Any]]) -> tuple[str, ...]:
    """Connection ids pinned below their latest version."""
    behind = []
    for connection in connections:
        latest, pinned = connection.get("latest_version"), connection.get("version")
        if latest and pinned and _version_key(pinned) < _version_key(latest):
            behind.append(connection["connection_id"])
    return tuple(sorted(behind))


def _version_key(version: str) -> tuple[int, ...]:
    """"2" -> (2,), "1.10" -> (1, 10); text that is not a number sorts first."""
    try:
        return tuple(int(part) for part in str(version).split("."))
    except ValueError:
        return (-1,)


# --- schedules -------------------------------------------------------------------------------


def schedule_config(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The ``config`` a Schedule spec sends."""
    end = spec.get("end") or {"never": True}
    if "after_occurrences" in end:
        wire_end: dict[str, Any] = {"end_type": END_AFTER, "occurrences": end["after_occurrences"]}
    elif "on_date" in end:
        wire_end = {"end_type": END_ON_DATE, "end_time": end["on_date"]}
    else:
        wire_end = {"end_type": END_NEVER}
    return {
        "cron": spec["cron"],
        "timezone": spec.get("timezone", "UTC"),
        "inputs": dict(spec.get("inputs", {})),
        "end": wire_end,
    }


def project_schedule(schedule: Mapping[str, Any], automation_name: str) -> dict[str, Any]:
    """Spec shape of a schedule (read-only summary, next_run_times and name dropped)."""
    config = schedule.get("config") or {}
    end = config.get("end") or {}
    if end.get("end_type") == END_AFTER:
        spec_end: dict[str, Any] = {"after_occurrences": end.get("occurrences")}
    elif end.get("end_type") == END_ON_DATE:
        spec_end = {"on_date": end.get("end_time")}
    else:
        spec_end = {"never": True}
    return {
        "automation": automation_name,
        "cron": config.get("cron", ""),
        "timezone": config.get("timezone") or "UTC",
        "inputs": dict(config.get("inputs") or {}),
        "end": spec_end,
        # proto3 JSON leaves a false boolean out: a missing ``enabled`` is false
        "enabled": bool(schedule.get("enabled", False)),
    }


# --- triggers --------------------------------------------------------------------------------


def trigger_body(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The trigger a Trigger spec sends (``trigger_id`` included)."""
    return {
        "trigger_id": spec["trigger_id"],
        "phase_type": PHASE_PREFIX + str(spec["phase"]).upper(),
        "phase_sub_type": SUB_TYPE_PREFIX + str(spec["type"]).upper(),
        "is_active": bool(spec.get("active", True)),
    }


def project_trigger(trigger: Mapping[str, Any], automation_name: str) -> dict[str, Any]:
    """Spec shape of a trigger; the platform's enums become the manifest's short words."""
    return {
        "automation": automation_name,
        "trigger_id": trigger["trigger_id"],
        "phase": _short(str(trigger.get("phase_type") or PHASE_PREFIX + "UNSPECIFIED"),
                        PHASE_PREFIX, PHASES),
        "type": _short(str(trigger.get("phase_sub_type") or SUB_TYPE_PREFIX + "UNSPECIFIED"),
                       SUB_TYPE_PREFIX, SUB_TYPES),
        "active": bool(trigger.get("is_active", False)),  # omitted when false, as above
    }


def _short(value: str, prefix: str, known: frozenset[str]) -> str:
    """``PHASE_TYPE_MAIN`` -> ``main``; a value this version does not know is shown as it came."""
    word = value[len(prefix):].lower() if value.startswith(prefix) else ""
    return word if word in known else value


# --- connections -----------------------------------------------------------------------------


def project_connection(connection_id: str, connector: str) -> dict[str, Any]:
    """Spec shape of a workspace connection (the API shows only id and connector of one)."""
    return {"connection_id": connection_id, "connector": connector}
