"""Workspace connections: the documented delete, usage, and the draft-only atomic add /
remove / upgrade / switch calls (one version bump per call).

The API has no call that creates, lists or reads a connection: connections are made in the
platform's UI, which the sandbox stands in for by seeding them (world files, the default world,
``sandbox edit workspace.connection``).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from reconciler.sandbox import workspace_model as m
from reconciler.sandbox.http import check_fields, json_body, workspace_error
from reconciler.sandbox.store import Store, timestamp
from reconciler.sandbox.workspace_api import context, invalid, load, stage_filter


def render_connection(doc: dict[str, Any]) -> dict[str, Any]:
    return {"connection_id": doc["connection_id"], "connector": doc["connector"],
            "latest_version": doc["latest_version"], "create_time": doc["create_time"]}


def new_connection(connection_id: str, connector: str, latest_version: str = "1") -> dict:
    return {"connection_id": connection_id, "connector": connector,
            "latest_version": str(latest_version), "create_time": timestamp()}


def usage(store: Store, connection_id: str) -> list[tuple[dict[str, Any], str]]:
    """(automation, stage) pairs whose draft or published version uses the connection."""
    found = []
    for doc in m.live_automations(store):
        if connection_id in m.connection_ids(m.latest_draft(doc)):
            found.append((doc, m.DRAFT))
        if connection_id in m.connection_ids(m.latest_published(doc)):
            found.append((doc, m.PUBLISHED))
    return found


def _short(doc: dict[str, Any], base: str) -> dict[str, str]:
    return {"name": f"{base}/automations/{doc['id']}",
            "display_name": m.latest(doc)["fields"]["display_name"]}


async def delete_connection(request: Request) -> Response:
    store, base = context(request)
    connection_id = request.query_params.get("connection_id", "")
    if not connection_id:
        raise invalid("connection_id is required")
    with store.transaction():
        if store.get(m.CONNECTION, connection_id) is None:
            raise workspace_error("NOT_FOUND", f"connection {connection_id} not found")
        users = usage(store, connection_id)
        blocking = [_short(doc, base) for doc, stage in users if stage == m.PUBLISHED]
        if blocking:
            raise workspace_error(
                "FAILED_PRECONDITION",
                f"connection {connection_id} is used by {len(blocking)} published automation(s)",
                [{"@type": "type.googleapis.com/DeleteConnectionBlockedError",
                  "blocking_automations": blocking}],
            )
        store.delete(m.CONNECTION, connection_id)
    return JSONResponse({"affected_automations": [_short(doc, base) for doc, _ in users]})


async def count_usage(request: Request) -> Response:
    store, _ = context(request)
    body = await json_body(request, invalid)
    check_fields(body, {"connection_ids"}, {"connection_ids"}, invalid)
    ids = body["connection_ids"]
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise invalid("connection_ids must be a list of strings")
    usages = []
    for connection_id in ids:
        users = usage(store, connection_id)
        usages.append({
            "connection_id": connection_id,
            "automation_count": len({doc["id"] for doc, _ in users}),
            "published_automation_count": sum(1 for _, stage in users if stage == m.PUBLISHED),
        })
    return JSONResponse({"usages": usages})


async def trace_usage(request: Request) -> Response:
    store, base = context(request)
    body = await json_body(request, invalid)
    check_fields(body, {"connection_id"}, {"connection_id"}, invalid)
    if not isinstance(body["connection_id"], str):
        raise invalid("connection_id must be a string")
    found = []
    for doc, stage in usage(store, body["connection_id"]):
        revision = m.stage_revision(doc, stage)
        found.append({**_short(doc, base), "version": revision["version"], "stage": stage})
    return JSONResponse({"automations": found})


async def extract_code_connections(request: Request, automation_id: str) -> Response:
    store, _ = context(request)
    stage = stage_filter(request, required=True)
    doc = load(store, automation_id)
    revision = m.stage_revision(doc, f"AUTOMATION_STAGE_{stage}")
    found = []
    for attached in revision["connections"]:
        live = store.get(m.CONNECTION, attached["connection_id"])
        found.append({
            "connection_id": attached["connection_id"],
            "connector": live["connector"] if live else attached.get("connector", ""),
            "version": attached["version"],
            "latest_version": live["latest_version"] if live else "",
        })
    return JSONResponse({"connections": found})


def _id_list(body: dict[str, Any], key: str) -> list[str]:
    check_fields(body, {key}, {key}, invalid)
    value = body[key]
    if not isinstance(value, list) or not value or not all(isinstance(i, str) for i in value):
        raise invalid(f"{key} must be a non-empty list of strings")
    if len(set(value)) != len(value):
        raise invalid(f"{key} lists a connection twice")
    return value


def _existing(store: Store, connection_id: str) -> dict[str, Any]:
    live = store.get(m.CONNECTION, connection_id)
    if live is None:
        raise workspace_error("NOT_FOUND", f"connection {connection_id} not found")
    return live


def _attached(current: list[dict[str, Any]], connection_id: str) -> int:
    for index, attached in enumerate(current):
        if attached["connection_id"] == connection_id:
            return index
    raise workspace_error("NOT_FOUND", f"connection {connection_id} is not used by this draft")


def pin(live: dict[str, Any]) -> dict[str, Any]:
    """A connection as attached to a draft: pinned to its current latest version."""
    return {"connection_id": live["connection_id"], "connector": live["connector"],
            "version": live["latest_version"]}


def add(store: Store, current: list[dict[str, Any]], body: dict[str, Any]) -> None:
    check_fields(body, {"connections"}, {"connections"}, invalid)
    entries = body["connections"]
    if not isinstance(entries, list) or not entries:
        raise invalid("connections must be a non-empty list of {connection_id}")
    seen = {c["connection_id"] for c in current}
    for entry in entries:
        if not isinstance(entry, dict):
            raise invalid("each connection must be an object {connection_id}")
        check_fields(entry, {"connection_id"}, {"connection_id"}, invalid)
        connection_id = entry["connection_id"]
        if connection_id in seen:
            raise workspace_error("ALREADY_EXISTS", f"connection {connection_id} is already used")
        seen.add(connection_id)
        current.append(pin(_existing(store, connection_id)))


def remove(store: Store, current: list[dict[str, Any]], body: dict[str, Any]) -> None:
    for connection_id in _id_list(body, "connection_ids"):
        del current[_attached(current, connection_id)]


def upgrade(store: Store, current: list[dict[str, Any]], body: dict[str, Any]) -> None:
    for connection_id in _id_list(body, "connection_ids"):
        index = _attached(current, connection_id)
        current[index] = pin(_existing(store, connection_id))


def switch(store: Store, current: list[dict[str, Any]], body: dict[str, Any]) -> None:
    check_fields(body, {"switches"}, {"switches"}, invalid)
    switches = body["switches"]
    if not isinstance(switches, list) or not switches:
        raise invalid("switches must be a non-empty list")
    for entry in switches:
        if not isinstance(entry, dict):
            raise invalid("each switch must be an object")
        keys = {"from_connection_id", "to_connection_id"}
        check_fields(entry, keys, keys, invalid)
        index = _attached(current, entry["from_connection_id"])
        if any(c["connection_id"] == entry["to_connection_id"] for c in current):
            raise workspace_error("ALREADY_EXISTS",
                                  f"connection {entry['to_connection_id']} is already used")
        current[index] = pin(_existing(store, entry["to_connection_id"]))


def connection_call(change):
    """Wrap one change function as a draft-only, all-or-nothing call bumping the version once."""

    async def handler(request: Request, automation_id: str) -> Response:
        store, base = context(request)
        body = await json_body(request, invalid)
        with store.transaction():
            doc = load(store, automation_id)
            current = [dict(c) for c in m.require_draft(doc)["connections"]]
            change(store, current, body)
            m.edit_draft(doc, connections=current)
            store.put(m.AUTOMATION, doc["id"], doc)
        return JSONResponse({"automation": m.render(doc, base)})

    return handler
