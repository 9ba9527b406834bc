"""Runs whose progress is computed from timestamps, so any process reading the db sees them move.

One stored run backs both views: the workspace run object and the automation-runs run, both as
documented. Timeline from creation: NEW until 0.2 s, RUNNING until 1 s, then FINISHED (or
FAILED when the inputs asked for it). Steps START, TOOL, END follow the same clock.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from reconciler.sandbox.store import Store, now, parse_timestamp, timestamp

RUN = "run"
STARTS_AFTER = 0.2
ENDS_AFTER = 1.0
# (key, name, workspace step_type, start offset, end offset) in seconds from creation
STEPS = (
    ("start", "Start", "START", 0.2, 0.4),
    ("tool", "Run tool", "TOOL", 0.4, 0.8),
    ("end", "End", "END", 0.8, 1.0),
)
TERMINAL = ("succeeded", "failed", "cancelled")
WORKSPACE_STATUS = {"pending": "NEW", "queued": "NEW", "running": "RUNNING",
                    "succeeded": "FINISHED", "failed": "FAILED", "cancelled": "FAILED"}


def new_run(
    automation_id: str,
    *,
    inputs: dict[str, Any] | None = None,
    fail: bool = False,
    trigger_type: str = "manual",
    trigger_source_type: str = "user",
    version: str = "",
    source: str = "workspace",
) -> dict[str, Any]:
    """A run starting now."""
    moment = timestamp()
    return {
        "id": str(uuid.uuid4()), "source": source, "automationId": automation_id,
        "version": version, "inputs": inputs or {}, "fail": fail, "createdAt": moment,
        "cancelledAt": None, "fixedStatus": None, "completedAt": None, "error": None,
        "triggerType": trigger_type, "triggerSourceType": trigger_source_type,
    }


def _offset(doc: dict[str, Any], at: datetime) -> float:
    return (at - parse_timestamp(doc["createdAt"])).total_seconds()


def _clock(doc: dict[str, Any]) -> float:
    """Seconds since creation, frozen at cancellation."""
    at = now()
    if doc["cancelledAt"]:
        at = min(at, parse_timestamp(doc["cancelledAt"]))
    return _offset(doc, at)


def status(doc: dict[str, Any]) -> str:
    """Current automation-runs status."""
    if doc["fixedStatus"]:
        return doc["fixedStatus"]
    if doc["cancelledAt"]:
        return "cancelled"
    elapsed = _clock(doc)
    if elapsed < STARTS_AFTER:
        return "pending"
    if elapsed < ENDS_AFTER:
        return "running"
    return "failed" if doc["fail"] else "succeeded"


def _at(doc: dict[str, Any], seconds: float) -> str:
    return timestamp(parse_timestamp(doc["createdAt"]) + timedelta(seconds=seconds))


def steps(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Each step's status and times."""
    current = status(doc)
    elapsed = ENDS_AFTER if doc["fixedStatus"] else _clock(doc)
    found = []
    failed_before = False
    for key, name, step_type, begin, end in STEPS:
        started = completed = None
        if failed_before:
            state = "pending"
        elif elapsed >= end:
            state = "failed" if (key == "tool" and current == "failed") else "succeeded"
            started, completed = _at(doc, begin), _at(doc, end)
            failed_before = state == "failed"
        elif elapsed >= begin:
            state = "cancelled" if current == "cancelled" else "running"
            started = _at(doc, begin)
        else:
            state = "cancelled" if current == "cancelled" else "pending"
        found.append({"key": key, "name": name, "step_type": step_type, "status": state,
                      "startedAt": started, "completedAt": completed})
    return found


def completed_at(doc: dict[str, Any]) -> str | None:
    current = status(doc)
    if current not in TERMINAL:
        return None
    if doc["fixedStatus"]:
        return doc["completedAt"] or _at(doc, ENDS_AFTER)
    return doc["cancelledAt"] or _at(doc, ENDS_AFTER)


def error_text(doc: dict[str, Any]) -> str | None:
    current = status(doc)
    if current == "failed":
        return doc["error"] or "the tool step failed (inputs asked the run to fail)"
    if current == "cancelled":
        return "cancelled"
    return None


def render_run(doc: dict[str, Any]) -> dict[str, Any]:
    """The automation-runs run object, as documented."""
    current = status(doc)
    started = None if current in ("pending", "queued") else _at(doc, STARTS_AFTER)
    done = completed_at(doc)
    duration = None
    if started and done:
        duration = (parse_timestamp(done) - parse_timestamp(started)).total_seconds()
    error = error_text(doc)
    return {
        "automationId": doc["automationId"],
        "automationVersionId": doc["version"] or None,
        "completedAt": done,
        "concurrencyKey": None,
        "createdAt": doc["createdAt"],
        "durationSeconds": duration,
        "error": {"message": error} if error else None,
        "externalJobId": None,
        "id": doc["id"],
        "orchestratorType": "local",
        "startedAt": started,
        "status": current,
        "tenantId": "sandbox",
        "triggerSourceId": None,
        "triggerSourceType": doc["triggerSourceType"],
        "triggerType": doc["triggerType"],
        "updatedAt": done or started or doc["createdAt"],
        "versionNumber": int(float(doc["version"])) if doc["version"] else 0,
    }


def render_steps(doc: dict[str, Any]) -> dict[str, Any]:
    """The automation-runs steps report, as documented."""
    found = steps(doc)
    items = []
    previous: list[str] = []
    for step in found:
        duration = None
        if step["startedAt"] and step["completedAt"]:
            duration = (parse_timestamp(step["completedAt"])
                        - parse_timestamp(step["startedAt"])).total_seconds()
        failed = step["status"] == "failed"
        items.append({
            "actionRunId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{doc['id']}/{step['key']}")),
            "completedAt": step["completedAt"], "decisionId": None, "dependsOn": previous,
            "durationSeconds": duration, "error": {"message": error_text(doc)} if failed else None,
            "key": step["key"], "name": step["name"],
            "result": {"ok": True} if step["status"] == "succeeded" else None,
            "resultTruncated": False, "startedAt": step["startedAt"], "status": step["status"],
        })
        previous = [step["key"]]

    def count(*states: str) -> int:
        return sum(1 for s in found if s["status"] in states)

    return {"automationRunId": doc["id"], "completedCount": count("succeeded"),
            "failedCount": count("failed"), "pendingCount": count("pending"),
            "runningCount": count("running"), "steps": items}


_STEP_STATUS = {"pending": "NEW", "running": "RUNNING", "succeeded": "FINISHED",
                "failed": "FAILED", "cancelled": "FAILED"}


def render_workspace_run(doc: dict[str, Any]) -> dict[str, Any]:
    """The workspace run object, as documented."""
    ws_steps = []
    current_step = None
    for step in steps(doc):
        step_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{doc['id']}/{step['key']}"))
        failed = step["status"] == "failed"
        item = {
            "id": step_id, "status": _STEP_STATUS[step["status"]], "prompt": {"type": "text"},
            "result": "ok" if step["status"] == "succeeded" else "",
            "error": (error_text(doc) or "") if failed else "",
            "step": {"id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"step/{step['key']}")),
                     "name": step["name"], "step_type": step["step_type"],
                     "prompt_template": {"type": "text"}, "created_at": doc["createdAt"],
                     "updated_at": doc["createdAt"]},
            "created_at": doc["createdAt"],
            "updated_at": step["completedAt"] or step["startedAt"] or doc["createdAt"],
        }
        ws_steps.append(item)
        if step["status"] != "pending" or current_step is None:
            current_step = item
    ar = render_run(doc)
    return {
        "id": doc["id"], "automation_id": doc["automationId"], "inputs": doc["inputs"],
        "error": error_text(doc) or "", "status": WORKSPACE_STATUS[ar["status"]],
        "created_at": doc["createdAt"], "updated_at": ar["updatedAt"], "steps": ws_steps,
        "steps_count": len(ws_steps), "current_step": current_step,
    }


def past_run(spec: dict[str, Any]) -> dict[str, Any]:
    """A finished run loaded from a seed file (status fixed, never advancing)."""
    doc = new_run(str(spec.get("automationId", "")),
                  trigger_type=str(spec.get("triggerType", "manual")),
                  trigger_source_type=str(spec.get("triggerSourceType", "user")),
                  version=str(spec.get("version", "")), source="seed")
    if "id" in spec:
        doc["id"] = str(uuid.UUID(str(spec["id"])))
    doc["fixedStatus"] = spec.get("status", "succeeded")
    if doc["fixedStatus"] not in ("pending", "queued", "running", *TERMINAL):
        raise ValueError(f"run status {doc['fixedStatus']!r} is not a run status")
    if "createdAt" in spec:
        doc["createdAt"] = timestamp(parse_timestamp(str(spec["createdAt"])))
    doc["completedAt"] = spec.get("completedAt")
    doc["error"] = spec.get("error")
    return doc


def save(store: Store, doc: dict[str, Any]) -> None:
    store.put(RUN, doc["id"], doc)
