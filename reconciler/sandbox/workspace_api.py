"""Workspace automations: CRUD, stages, revisions, publish and fork (documented + assumed calls)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from operator import itemgetter
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from reconciler.sandbox import workspace_model as m
from reconciler.sandbox.http import (
    bearer_token,
    check_fields,
    decode_page_token,
    json_body,
    page_body,
    workspace_error,
)
from reconciler.sandbox.store import Store

AUTOMATION_FIELDS = {
    "name", "display_name", "english_code", "code", "create_time", "version", "update_time",
    "update_user_id", "delete_time", "purge_time", "description", "latest_published_version",
    "author_id", "restore_time", "restore_version", "restore_user_id", "publish_time",
    "publish_user_id", "activation_state", "marked_outputs",
}
_STAGE_FILTER = re.compile(r'^\s*(stage|state)\s*=\s*"?(DRAFT|PUBLISHED)"?\s*$')


def invalid(message: str) -> Exception:
    return workspace_error("INVALID_ARGUMENT", message)


def context(request: Request) -> tuple[Store, str]:
    """Authenticate like the platform (Bearer PAT) and give the store and resource-name base."""
    if bearer_token(request, "Bearer") is None:
        raise workspace_error(
            "UNAUTHENTICATED",
            "request is missing a valid personal access token (Authorization: Bearer <token>)",
        )
    params = request.path_params
    return request.app.state.store, m.base_name(params["organization_id"], params["workspace_id"])


def load(store: Store, automation_id: str, *, deleted_ok: bool = False) -> dict[str, Any]:
    doc = store.get(m.AUTOMATION, automation_id)
    if doc is None or (doc["delete_time"] and not deleted_ok):
        raise workspace_error("NOT_FOUND", f"automation {automation_id} not found")
    return doc


def page_params(request: Request, default: int, maximum: int = 1000) -> tuple[int, int]:
    """page_size (0 = default, above max coerced, negative rejected) and page_token offset."""
    raw = request.query_params.get("page_size", "")
    try:
        size = int(raw) if raw else 0
    except ValueError:
        raise invalid(f"page_size must be an integer, got {raw!r}") from None
    if size < 0:
        raise invalid("page_size must not be negative")
    size = min(size or default, maximum)
    token = request.query_params.get("page_token", "")
    offset = 0
    if token:
        decoded = decode_page_token(token)
        if decoded is None:
            raise invalid("page_token is not valid")
        offset = decoded
    return size, offset


def stage_filter(request: Request, name: str = "filter", *, required: bool = False) -> str | None:
    """DRAFT or PUBLISHED from a filter like ``stage = "DRAFT"``."""
    text = request.query_params.get(name, "")
    if not text:
        if required:
            raise invalid(f'{name} is required (e.g. stage = "DRAFT")')
        return None
    match = _STAGE_FILTER.match(text)
    if match is None:
        raise invalid(f'unsupported filter {text!r} (supported: stage = "DRAFT" | "PUBLISHED")')
    return match.group(2)


def check_types(body: dict[str, Any]) -> None:
    for key in ("display_name", "description", "code", "english_code"):
        if key in body and not isinstance(body[key], str):
            raise invalid(f"{key} must be a string")
    outputs = body.get("marked_outputs", [])
    if not isinstance(outputs, list) or not all(isinstance(o, str) for o in outputs):
        raise invalid("marked_outputs must be a list of strings")
    if "display_name" in body and not body["display_name"].strip():
        raise invalid("display_name must not be empty")


async def list_automations(request: Request) -> Response:
    store, base = context(request)
    size, offset = page_params(request, default=10)
    show_deleted = request.query_params.get("show_deleted", "false").lower()
    if show_deleted not in ("true", "false"):
        raise invalid("show_deleted must be true or false")
    wanted = stage_filter(request)
    docs = store.all(m.AUTOMATION)
    if show_deleted == "false":
        docs = [d for d in docs if d["delete_time"] is None]
    if wanted:
        docs = [d for d in docs if m.latest(d)["stage"] == wanted]
    docs.sort(key=itemgetter("update_time", "id"), reverse=True)
    return JSONResponse(page_body("automations", docs, offset, size,
                                  lambda d: m.render(d, base)))


async def create_automation(request: Request) -> Response:
    store, base = context(request)
    body = await json_body(request, invalid)
    check_fields(body, set(m.EDITABLE), {"display_name"}, invalid)
    check_types(body)
    fields = {"display_name": body["display_name"], "description": body.get("description", ""),
              "code": body.get("code", ""), "english_code": body.get("english_code", ""),
              "marked_outputs": list(body.get("marked_outputs", []))}
    with store.transaction():
        m.check_display_name_free(store, fields["display_name"])
        doc = m.new_automation(fields)
        store.put(m.AUTOMATION, doc["id"], doc)
    return JSONResponse(m.render(doc, base))


async def get_automation(request: Request, automation_id: str) -> Response:
    store, base = context(request)
    return JSONResponse(m.render(load(store, automation_id), base))


async def query_automation(request: Request, automation_id: str) -> Response:
    store, base = context(request)
    stage = request.query_params.get("stage", "")
    if stage not in (m.DRAFT, m.PUBLISHED):
        raise invalid(f"stage must be {m.DRAFT} or {m.PUBLISHED}, got {stage!r}")
    doc = load(store, automation_id)
    return JSONResponse(m.render(doc, base, m.stage_revision(doc, stage)))


async def patch_automation(request: Request, automation_id: str) -> Response:
    store, base = context(request)
    mask_text = request.query_params.get("update_mask", "")
    if not mask_text.strip():
        raise invalid("update_mask is required (comma-separated field names)")
    mask = [part.strip() for part in mask_text.split(",") if part.strip()]
    editable = set(m.EDITABLE) | {"activation_state"}
    wrong = [f for f in mask if f not in editable]
    if wrong:
        raise invalid(f"update_mask names fields that cannot be updated: {', '.join(wrong)}")
    body = await json_body(request, invalid)
    check_fields(body, AUTOMATION_FIELDS, set(), invalid)
    check_types(body)
    with store.transaction():
        doc = load(store, automation_id)
        if "activation_state" in mask:
            set_activation(doc, mask, body)
        else:
            fields = {f: body.get(f, [] if f == "marked_outputs" else "") for f in mask}
            if "display_name" in fields:
                if not fields["display_name"]:
                    raise invalid("display_name must not be empty")
                m.check_display_name_free(store, fields["display_name"], doc["id"])
            m.edit_draft(doc, fields)
        store.put(m.AUTOMATION, doc["id"], doc)
    return JSONResponse(m.render(doc, base))


def set_activation(doc: dict[str, Any], mask: list[str], body: dict[str, Any]) -> None:
    """Activation changes alone, and only once something is published."""
    if mask != ["activation_state"]:
        raise invalid("activation_state must be the only field in update_mask")
    state = body.get("activation_state")
    if state not in (m.ACTIVE, m.DEACTIVATED):
        raise invalid(f"activation_state must be {m.ACTIVE} or {m.DEACTIVATED}, got {state!r}")
    if m.latest_published(doc) is None:
        raise workspace_error(
            "FAILED_PRECONDITION",
            f"automation {doc['id']} has no published version; activation applies to published "
            "automations only",
        )
    doc["activation_state"] = state
    doc["update_time"] = m.timestamp()


async def delete_automation(request: Request, automation_id: str) -> Response:
    store, base = context(request)
    with store.transaction():
        doc = load(store, automation_id)
        m.soft_delete(doc)
        store.put(m.AUTOMATION, doc["id"], doc)
    return JSONResponse(m.render(doc, base))


async def _empty_body(request: Request) -> None:
    body = await json_body(request, invalid, optional=True)
    check_fields(body, set(), set(), invalid)


async def publish_automation(request: Request, automation_id: str) -> Response:
    store, base = context(request)
    await _empty_body(request)
    with store.transaction():
        doc = load(store, automation_id)
        m.publish(store, doc)
        store.put(m.AUTOMATION, doc["id"], doc)
    return JSONResponse(m.render(doc, base))


async def fork_automation(request: Request, automation_id: str) -> Response:
    store, base = context(request)
    await _empty_body(request)
    with store.transaction():
        doc = load(store, automation_id)
        m.fork(doc)
        store.put(m.AUTOMATION, doc["id"], doc)
    return JSONResponse(m.render(doc, base))


def render_revision(doc: dict[str, Any], base: str, revision: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": f"{base}/automations/{doc['id']}/revisions/{revision['version']}",
        "create_time": revision["create_time"],
        "alternate_ids": ["latest"] if revision is m.latest(doc) else [],
        "snapshot": m.render(doc, base, revision),
    }


async def list_revisions(request: Request) -> Response:
    store, base = context(request)
    size, offset = page_params(request, default=50)
    wanted = stage_filter(request)
    doc = load(store, request.path_params["automation_id"])
    revisions = [r for r in reversed(doc["revisions"]) if not wanted or r["stage"] == wanted]
    return JSONResponse(page_body("revisions", revisions, offset, size,
                                  lambda r: render_revision(doc, base, r)))


async def get_revision(request: Request) -> Response:
    store, base = context(request)
    doc = load(store, request.path_params["automation_id"])
    wanted = request.path_params["revision_id"]
    if wanted == "latest":
        return JSONResponse(render_revision(doc, base, m.latest(doc)))
    for revision in doc["revisions"]:
        if revision["version"] == wanted:
            return JSONResponse(render_revision(doc, base, revision))
    raise workspace_error("NOT_FOUND", f"revision {wanted} of automation {doc['id']} not found")


async def list_inputs_history(request: Request, automation_id: str) -> Response:
    store, _ = context(request)
    size, offset = page_params(request, default=50)
    wanted = stage_filter(request)
    doc = load(store, automation_id)
    entries = [e for e in reversed(doc["inputs_history"])
               if not wanted or e["stage"] == f"AUTOMATION_STAGE_{wanted}"]
    return JSONResponse(page_body("entries", entries, offset, size))


async def get_visualization(request: Request) -> Response:
    store, base = context(request)
    doc = load(store, request.path_params["automation_id"])
    published = m.latest_published(doc)
    if published is None:
        raise workspace_error("NOT_FOUND", f"automation {doc['id']} has no published version "
                              "and therefore no visualization")
    return JSONResponse({
        "name": f"{base}/automations/{doc['id']}/visualization",
        "automation_version": published["version"],
        "state": "VISUALIZATION_STATE_COMPLETED",
        "error_message": "",
    })


Handler = Callable[[Request, str], Awaitable[Response]]


def automation_target(verbs: dict[tuple[str, str], Handler]) -> Callable:
    """One endpoint for ``automations/{id}`` and ``automations/{id}:verb`` (AIP-136 custom
    methods share the path segment with the id)."""

    async def endpoint(request: Request) -> Response:
        target = request.path_params["automation_ref"]
        automation_id, _, verb = target.partition(":")
        handler = verbs.get((request.method, verb))
        if handler is None:
            context(request)
            known = sorted({v for (_, v) in verbs if v})
            if verb and verb not in known:
                raise workspace_error("NOT_FOUND", f"unknown method :{verb}")
            raise workspace_error("INVALID_ARGUMENT", f"{request.method} is not supported here")
        return await handler(request, automation_id)

    return endpoint
