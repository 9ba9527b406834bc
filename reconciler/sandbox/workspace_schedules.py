"""Workspace schedules (one per automation, ``enabled`` read-only) and triggers."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterError, croniter
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from reconciler.manifest.formats import cron_fires
from reconciler.sandbox.http import check_fields, json_body, page_body, workspace_error
from reconciler.sandbox.store import Store, now, parse_timestamp, timestamp
from reconciler.sandbox.workspace_api import context, invalid, load, page_params

SCHEDULE = "ws_schedule"
TRIGGER = "ws_trigger"
END_TYPES = ("SCHEDULE_END_TYPE_NEVER", "SCHEDULE_END_TYPE_AFTER_OCCURRENCES",
             "SCHEDULE_END_TYPE_ON_DATE")
PHASE_TYPES = ("PHASE_TYPE_PRE", "PHASE_TYPE_MAIN", "PHASE_TYPE_POST")
PHASE_SUB_TYPES = ("PHASE_SUB_TYPE_UNSPECIFIED", "PHASE_SUB_TYPE_EMAIL", "PHASE_SUB_TYPE_SCHEDULE",
                   "PHASE_SUB_TYPE_WEBHOOK", "PHASE_SUB_TYPE_API")
SCHEDULE_FIELDS = {"name", "config", "enabled", "summary", "next_run_times",
                   "remaining_occurrences"}
TRIGGER_FIELDS = {"trigger_id", "automation", "phase_type", "phase_sub_type", "is_active"}


def check_config(config: Any) -> dict[str, Any]:
    """A schedule config with defaults filled, or INVALID_ARGUMENT naming the field."""
    if not isinstance(config, dict):
        raise invalid("config must be an object")
    check_fields(config, {"cron", "timezone", "inputs", "end"}, {"cron"}, invalid)
    cron = config["cron"]
    if not isinstance(cron, str) or not croniter.is_valid(cron):
        raise invalid(f"config.cron is not a valid cron expression: {cron!r}")
    if not cron_fires(cron):
        raise invalid(f"config.cron never fires: no date matches {cron!r}")
    zone = config.get("timezone", "UTC")
    try:
        ZoneInfo(str(zone))
    except (ZoneInfoNotFoundError, ValueError):
        raise invalid(f"config.timezone is not a known time zone: {zone!r}") from None
    inputs = config.get("inputs", {})
    if not isinstance(inputs, dict):
        raise invalid("config.inputs must be an object")
    end = config.get("end") or {"end_type": "SCHEDULE_END_TYPE_NEVER"}
    if not isinstance(end, dict):
        raise invalid("config.end must be an object")
    check_fields(end, {"end_type", "occurrences", "end_time"}, {"end_type"}, invalid)
    if end["end_type"] not in END_TYPES:
        raise invalid(f"config.end.end_type must be one of {', '.join(END_TYPES)}")
    if end["end_type"] == END_TYPES[1] and (
        not isinstance(end.get("occurrences"), int) or end["occurrences"] < 1
    ):
        raise invalid("config.end.occurrences must be a positive integer for AFTER_OCCURRENCES")
    if end["end_type"] == END_TYPES[2]:
        try:
            parse_timestamp(str(end.get("end_time", "")))
        except ValueError:
            raise invalid("config.end.end_time must be an RFC 3339 timestamp for ON_DATE") from None
    return {"cron": cron, "timezone": zone, "inputs": inputs, "end": end}


def next_run_times(config: dict[str, Any], count: int = 5) -> list[str]:
    """The next ``count`` fire times of the cron in its time zone, stopping at the end condition."""
    end = config["end"]
    limit = count
    if end["end_type"] == END_TYPES[1]:
        limit = min(count, int(end["occurrences"]))
    stop = end["end_time"] if end["end_type"] == END_TYPES[2] else None
    # fire times fall on whole seconds, so "after now" and "after now's second" agree
    second = now().replace(microsecond=0)
    return list(_fire_times(config["cron"], config["timezone"], second, limit, stop))


@functools.lru_cache(maxsize=4096)
def _fire_times(cron: str, zone: str, start: datetime, limit: int,
                stop_text: str | None) -> tuple[str, ...]:
    stop = parse_timestamp(stop_text) if stop_text is not None else None
    times: list[str] = []
    iterator = croniter(cron, start.astimezone(ZoneInfo(zone)))
    while len(times) < limit:
        try:
            moment = iterator.get_next(datetime)
        except CroniterError:
            break  # no further date matches: a stored schedule must stay readable
        if stop is not None and moment > stop:
            break
        times.append(timestamp(moment))
    return tuple(times)


def render_schedule(doc: dict[str, Any], base: str) -> dict[str, Any]:
    config = doc["config"]
    end = config["end"]
    occurrences = end.get("occurrences") if end["end_type"] == END_TYPES[1] else 0
    return {
        "name": f"{base}/automations/{doc['automation_id']}/schedule",
        "config": config,
        "enabled": doc["enabled"],
        "summary": f"cron {config['cron']} ({config['timezone']})",
        "next_run_times": next_run_times(config) if doc["enabled"] else [],
        "remaining_occurrences": occurrences or 0,
    }


def load_schedule(store: Store, automation_id: str) -> dict[str, Any]:
    load(store, automation_id)
    doc = store.get(SCHEDULE, automation_id)
    if doc is None:
        raise workspace_error("NOT_FOUND", f"automation {automation_id} has no schedule")
    return doc


def schedule_body(body: dict[str, Any]) -> None:
    check_fields(body, SCHEDULE_FIELDS, {"config"}, invalid)
    if "enabled" in body:
        raise invalid("enabled is read-only: use :enableAutomationSchedule / "
                      ":disableAutomationSchedule")


async def schedule_endpoint(request: Request) -> Response:
    store, base = context(request)
    automation_id = request.path_params["automation_id"]
    if request.method == "GET":
        return JSONResponse(render_schedule(load_schedule(store, automation_id), base))
    if request.method == "DELETE":
        with store.transaction():
            load_schedule(store, automation_id)
            store.delete(SCHEDULE, automation_id)
        return JSONResponse({})
    if request.method == "PATCH":
        # the platform's reference shows no update_mask here: the body's config replaces the config
        mask = request.query_params.get("update_mask", "")
        if {p.strip() for p in mask.split(",") if p.strip()} - {"config"}:
            raise invalid("only config can be updated (update_mask=config)")
    body = await json_body(request, invalid)
    schedule_body(body)
    config = check_config(body["config"])
    with store.transaction():
        if request.method == "POST":
            load(store, automation_id)
            if store.get(SCHEDULE, automation_id) is not None:
                raise workspace_error("ALREADY_EXISTS",
                                      f"automation {automation_id} already has a schedule")
            doc = {"automation_id": automation_id, "config": config, "enabled": True}
        else:
            doc = load_schedule(store, automation_id)
            doc["config"] = config
        store.put(SCHEDULE, automation_id, doc)
        # rendered before the commit: an answer that cannot be given keeps nothing
        answer = render_schedule(doc, base)
    return JSONResponse(answer)


def schedule_toggle(enabled: bool):
    """``:enableAutomationSchedule`` / ``:disableAutomationSchedule`` (body ``{}``)."""

    async def handler(request: Request, automation_id: str) -> Response:
        store, base = context(request)
        body = await json_body(request, invalid, optional=True)
        check_fields(body, set(), set(), invalid)
        with store.transaction():
            doc = load_schedule(store, automation_id)
            doc["enabled"] = enabled
            store.put(SCHEDULE, automation_id, doc)
        return JSONResponse(render_schedule(doc, base))

    return handler


def trigger_key(automation_id: str, trigger_id: str) -> str:
    return f"{automation_id}/{trigger_id}"


def render_trigger(doc: dict[str, Any], base: str) -> dict[str, Any]:
    return {"trigger_id": doc["trigger_id"],
            "automation": f"{base}/automations/{doc['automation_id']}",
            "phase_type": doc["phase_type"], "phase_sub_type": doc["phase_sub_type"],
            "is_active": doc["is_active"]}


def check_trigger_values(body: dict[str, Any]) -> None:
    if "phase_type" in body and body["phase_type"] not in PHASE_TYPES:
        raise invalid(f"phase_type must be one of {', '.join(PHASE_TYPES)}")
    if "phase_sub_type" in body and body["phase_sub_type"] not in PHASE_SUB_TYPES:
        raise invalid(f"phase_sub_type must be one of {', '.join(PHASE_SUB_TYPES)}")
    if "is_active" in body and not isinstance(body["is_active"], bool):
        raise invalid("is_active must be a boolean")


async def triggers_endpoint(request: Request) -> Response:
    store, base = context(request)
    automation_id = request.path_params["automation_id"]
    if request.method == "GET":
        size, offset = page_params(request, default=50)
        load(store, automation_id)
        docs = store.with_prefix(TRIGGER, trigger_key(automation_id, ""))
        return JSONResponse(page_body("triggers", docs, offset, size,
                                      lambda d: render_trigger(d, base)))
    body = await json_body(request, invalid)
    check_fields(body, TRIGGER_FIELDS, {"trigger_id", "phase_type"}, invalid)
    if not isinstance(body["trigger_id"], str) or not body["trigger_id"]:
        raise invalid("trigger_id must be a non-empty string")
    check_trigger_values(body)
    with store.transaction():
        load(store, automation_id)
        key = trigger_key(automation_id, body["trigger_id"])
        if store.get(TRIGGER, key) is not None:
            raise workspace_error("ALREADY_EXISTS", f"trigger {body['trigger_id']} already exists")
        doc = {"automation_id": automation_id, "trigger_id": body["trigger_id"],
               "phase_type": body["phase_type"],
               "phase_sub_type": body.get("phase_sub_type", "PHASE_SUB_TYPE_UNSPECIFIED"),
               "is_active": body.get("is_active", True)}
        store.put(TRIGGER, key, doc)
    return JSONResponse(render_trigger(doc, base))


async def trigger_endpoint(request: Request) -> Response:
    store, base = context(request)
    automation_id = request.path_params["automation_id"]
    key = trigger_key(automation_id, request.path_params["trigger_id"])

    def existing() -> dict[str, Any]:
        load(store, automation_id)
        doc = store.get(TRIGGER, key)
        if doc is None:
            raise workspace_error("NOT_FOUND", f"trigger {request.path_params['trigger_id']} "
                                  "not found")
        return doc

    if request.method == "DELETE":
        with store.transaction():
            existing()
            store.delete(TRIGGER, key)
        return JSONResponse({})
    mask_text = request.query_params.get("update_mask", "")
    if not mask_text.strip():
        raise invalid("update_mask is required (phase_type, phase_sub_type, is_active)")
    mask = [p.strip() for p in mask_text.split(",") if p.strip()]
    wrong = [p for p in mask if p not in ("phase_type", "phase_sub_type", "is_active")]
    if wrong:
        raise invalid(f"update_mask names fields that cannot be updated: {', '.join(wrong)}")
    body = await json_body(request, invalid)
    check_fields(body, TRIGGER_FIELDS, set(), invalid)
    check_trigger_values(body)
    missing = [p for p in mask if p not in body]
    if missing:
        raise invalid(f"update_mask names fields missing from the body: {', '.join(missing)}")
    with store.transaction():
        doc = existing()
        doc.update({p: body[p] for p in mask})
        store.put(TRIGGER, key, doc)
    return JSONResponse(render_trigger(doc, base))
