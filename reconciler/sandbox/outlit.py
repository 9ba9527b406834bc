"""Outlit platform API: automations with command envelopes and warnings, signals, destinations."""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from reconciler.sandbox.http import (
    bearer_token,
    check_fields,
    decode_page_token,
    json_body,
    outlit_error,
    paginate,
)
from reconciler.sandbox.store import Store, timestamp

AUTOMATION = "outlit_automation"
SIGNAL = "outlit_signal"
DESTINATION = "outlit_destination"
CREATE_FIELDS = {"key", "name", "description", "triggerJson", "audienceFilterJson", "signalKeys",
                 "destinationKeys"}
SCHEMA_VERSION = "1"


def invalid(message: str) -> Exception:
    return outlit_error("VALIDATION_FAILED", message)


def context(request: Request) -> Store:
    if bearer_token(request, "Bearer") is None:
        raise outlit_error("UNAUTHORIZED",
                           "missing or malformed API key (Authorization: Bearer ok_...)")
    return request.app.state.store


def config_hash(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:16]


def render_signal(doc: dict[str, Any]) -> dict[str, Any]:
    return {"id": doc["id"], "key": doc["key"], "name": doc["name"],
            "description": doc["description"], "definition": doc["definition"],
            "schemaVersion": SCHEMA_VERSION, "configHash": config_hash(doc["definition"]),
            "archivedAt": doc["archivedAt"], "createdAt": doc["createdAt"],
            "updatedAt": doc["updatedAt"]}


def render_destination(doc: dict[str, Any]) -> dict[str, Any]:
    masked = {k: "****" for k in doc.get("config", {})}
    return {"id": doc["id"], "key": doc["key"], "name": doc["name"],
            "description": doc["description"], "enabled": doc["enabled"],
            "maskedConfig": masked, "lastSyncedAt": None, "providerErrorCode": None,
            "providerErrorMessage": None, "isDefault": doc.get("isDefault", False),
            "schemaVersion": SCHEMA_VERSION, "configHash": config_hash(masked),
            "archivedAt": doc["archivedAt"], "createdAt": doc["createdAt"],
            "updatedAt": doc["updatedAt"]}


def is_active_signal(doc: dict[str, Any]) -> bool:
    return doc["archivedAt"] is None


def is_enabled_destination(doc: dict[str, Any]) -> bool:
    return doc["enabled"] and doc["archivedAt"] is None


def render_automation(store: Store, doc: dict[str, Any]) -> dict[str, Any]:
    signals = [s for k in doc["signalKeys"] if (s := store.get(SIGNAL, k))]
    destinations = [d for k in doc["destinationKeys"] if (d := store.get(DESTINATION, k))]
    config = {k: doc[k] for k in ("triggerJson", "audienceFilterJson", "signalKeys",
                                  "destinationKeys")}
    return {
        "id": doc["id"], "key": doc["key"], "name": doc["name"],
        "description": doc["description"], "enabled": doc["enabled"],
        "triggerJson": doc["triggerJson"], "audienceFilterJson": doc["audienceFilterJson"],
        "schemaVersion": SCHEMA_VERSION, "configHash": config_hash(config),
        "archivedAt": doc["archivedAt"], "lastRunAt": doc.get("lastRunAt"),
        "nextRunAt": None, "createdAt": doc["createdAt"], "updatedAt": doc["updatedAt"],
        "signals": [render_signal(s) for s in signals],
        "destinations": [render_destination(d) for d in destinations],
        "activeSignalCount": sum(1 for s in signals if is_active_signal(s)),
        "activeDestinationCount": sum(1 for d in destinations if is_enabled_destination(d)),
        "agentId": None,
    }


def envelope(store: Store, doc: dict[str, Any], status: str, warnings: list[str]) -> JSONResponse:
    """The command envelope every mutation answers with."""
    return JSONResponse({
        "ok": True, "commandId": str(uuid.uuid4()), "commandVersion": 1,
        "correlationId": str(uuid.uuid4()),
        "result": {
            "operationId": str(uuid.uuid4()), "status": status,
            "resources": [{"type": "automation", "id": doc["id"]}],
            "data": {"automation": render_automation(store, doc)},
            "warnings": warnings, "auditId": str(uuid.uuid4()),
        },
    })


def load(store: Store, automation_id: str) -> dict[str, Any]:
    doc = store.get(AUTOMATION, automation_id)
    if doc is None:
        raise outlit_error("NOT_FOUND", f"automation {automation_id} not found")
    return doc


def check_links(store: Store, body: dict[str, Any]) -> list[str]:
    """Validate referenced signals/destinations; warn about archived or disabled ones."""
    warnings = []
    for field, kind, label in (("signalKeys", SIGNAL, "signal"),
                               ("destinationKeys", DESTINATION, "destination")):
        keys = body.get(field, [])
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            raise invalid(f"{field} must be a list of strings")
        for key in keys:
            found = store.get(kind, key)
            if found is None:
                raise invalid(f"{field}: unknown {label} {key!r}")
            if found["archivedAt"] is not None:
                warnings.append(f"{label} {key} is archived and will not be used")
            elif kind == DESTINATION and not found["enabled"]:
                warnings.append(f"destination {key} is disabled; nothing will be delivered to it")
    return warnings


def check_values(body: dict[str, Any]) -> None:
    for field in ("key", "name", "description"):
        if field in body and not isinstance(body[field], str):
            raise invalid(f"{field} must be a string")
    for field in ("key", "name"):
        if field in body and not body[field].strip():
            raise invalid(f"{field} must not be empty")
    if "audienceFilterJson" in body and not isinstance(body["audienceFilterJson"], dict):
        raise invalid("audienceFilterJson must be an object")


async def list_automations(request: Request) -> Response:
    store = context(request)
    query = request.query_params
    try:
        limit = int(query.get("limit", "50"))
    except ValueError:
        raise invalid("limit must be an integer") from None
    if not 1 <= limit <= 200:
        raise invalid("limit must be between 1 and 200")
    offset = 0
    if query.get("cursor"):
        decoded = decode_page_token(query["cursor"])
        if decoded is None:
            raise invalid("cursor is not valid")
        offset = decoded
    archived = query.get("includeArchived", "false").lower()
    if archived not in ("true", "false"):
        raise invalid("includeArchived must be true or false")
    docs = store.all(AUTOMATION)
    if archived == "false":
        docs = [d for d in docs if d["archivedAt"] is None]
    page, cursor = paginate(docs, offset, limit)
    return JSONResponse({"ok": True, "data": {
        "automations": [render_automation(store, d) for d in page], "nextCursor": cursor}})


async def create_automation(request: Request) -> Response:
    store = context(request)
    body = await json_body(request, invalid)
    check_fields(body, CREATE_FIELDS, {"key", "name"}, invalid)
    check_values(body)
    with store.transaction():
        if any(d["key"] == body["key"] for d in store.all(AUTOMATION)):
            raise outlit_error("CONFLICT", f"an automation with key {body['key']!r} already exists")
        warnings = check_links(store, body)
        moment = timestamp()
        doc = {"id": str(uuid.uuid4()), "key": body["key"], "name": body["name"],
               "description": body.get("description", ""), "enabled": False,
               "triggerJson": body.get("triggerJson", {}),
               "audienceFilterJson": body.get("audienceFilterJson", {}),
               "signalKeys": list(body.get("signalKeys", [])),
               "destinationKeys": list(body.get("destinationKeys", [])),
               "archivedAt": None, "createdAt": moment, "updatedAt": moment}
        store.put(AUTOMATION, doc["id"], doc)
    return envelope(store, doc, "created", warnings)


async def automation_endpoint(request: Request) -> Response:
    store = context(request)
    automation_id = request.path_params["automation_id"]
    if request.method == "GET":
        doc = load(store, automation_id)
        return JSONResponse({"ok": True, "data": {"automation": render_automation(store, doc)}})
    body = await json_body(request, invalid)
    if "key" in body:
        raise invalid("key cannot be changed (archive this automation and create another)")
    check_fields(body, CREATE_FIELDS - {"key"}, set(), invalid)
    if not body:
        raise invalid("request body names no field to update")
    check_values(body)
    with store.transaction():
        doc = load(store, automation_id)
        warnings = check_links(store, body)
        doc.update(body)
        doc["updatedAt"] = timestamp()
        store.put(AUTOMATION, doc["id"], doc)
    return envelope(store, doc, "updated", warnings)


def missing_resources(store: Store, doc: dict[str, Any]) -> list[str]:
    rendered = render_automation(store, doc)
    missing = []
    if not rendered["activeSignalCount"]:
        missing.append("active signal")
    if not rendered["activeDestinationCount"]:
        missing.append("enabled destination")
    return missing


async def command_endpoint(request: Request) -> Response:
    """``POST /api/automations/{id}/enable|disable|archive``."""
    store = context(request)
    command = request.path_params["command"]
    if command not in ("enable", "disable", "archive"):
        raise outlit_error("NOT_FOUND", f"unknown command {command!r}")
    body = await json_body(request, invalid, optional=True)
    check_fields(body, set(), set(), invalid)
    warnings: list[str] = []
    with store.transaction():
        doc = load(store, request.path_params["automation_id"])
        if command == "enable":
            if doc["archivedAt"] is not None:
                raise invalid(f"automation {doc['key']} is archived and cannot be enabled")
            missing = missing_resources(store, doc)
            if missing:
                raise outlit_error(
                    "MISSING_REQUIRED_RESOURCES",
                    f"automation {doc['key']} needs at least one {' and one '.join(missing)}",
                    {"missing": missing},
                )
        wanted = command == "enable"
        if command == "archive":
            if doc["archivedAt"] is not None:
                warnings.append(f"automation {doc['key']} was already archived")
            doc["archivedAt"] = doc["archivedAt"] or timestamp()
        elif doc["enabled"] == wanted:
            warnings.append(f"automation {doc['key']} was already {command}d")
        doc["enabled"] = wanted
        doc["updatedAt"] = timestamp()
        store.put(AUTOMATION, doc["id"], doc)
    return envelope(store, doc, "completed", warnings)


async def list_signals(request: Request) -> Response:
    store = context(request)
    return JSONResponse({"ok": True, "data": {
        "signals": [render_signal(s) for s in store.all(SIGNAL)]}})


async def list_destinations(request: Request) -> Response:
    store = context(request)
    return JSONResponse({"ok": True, "data": {
        "destinations": [render_destination(d) for d in store.all(DESTINATION)]}})
