"""Admin routes under ``/_sandbox``: request log, faults, out-of-band edits, reset, seed.

Not part of any platform; no credentials needed (the sandbox only listens on loopback).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from reconciler.sandbox import settings
from reconciler.sandbox.edits import EditError, apply_edit
from reconciler.sandbox.faults import Faults
from reconciler.sandbox.world import WorldError, reset_world, seed_world


def _problem(message: str, status_code: int = 400) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status_code)


async def _body(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise WorldError(f"request body is not valid JSON: {exc}") from None


async def requests_log(request: Request) -> Response:
    """GET: ``{"requests": [{"method", "path", "status", "platform", "time"}], "total"}``, from
    entry ``since`` on (default 0) so a benchmark can read only what is new; DELETE clears."""
    log = request.app.state.request_log
    if request.method == "DELETE":
        log.clear()
        return JSONResponse({"requests": [], "total": 0})
    try:
        since = max(0, int(request.query_params.get("since", "0")))
    except ValueError:
        return _problem("since must be an integer")
    entries = log.entries(request.app.router, since)
    return JSONResponse({"requests": entries, "total": len(log)})


async def faults(request: Request) -> Response:
    """GET the faults; PUT replaces them (unset names mean no fault); DELETE clears them."""
    state = request.app.state.faults
    if request.method == "PUT":
        try:
            body = await _body(request)
            if not isinstance(body, dict):
                return _problem("faults must be a JSON object")
            state.set(Faults.from_mapping(body))
        except (ValueError, WorldError) as exc:
            return _problem(str(exc))
    elif request.method == "DELETE":
        state.set(Faults())
    return JSONResponse({"faults": state.faults.as_dict()})


async def world_settings(request: Request) -> Response:
    """GET the world settings; PUT changes the ones named; DELETE returns them to defaults."""
    store = request.app.state.store
    if request.method == "PUT":
        try:
            with store.transaction():
                settings.change(store, await _body(request))
        except (ValueError, WorldError) as exc:
            return _problem(str(exc))
    elif request.method == "DELETE":
        with store.transaction():
            store.set_meta(settings.SETTINGS, "{}")
    return JSONResponse({"settings": settings.current(store).as_dict()})


async def reset(request: Request) -> Response:
    """Return the world to the default one, settings included (faults and the request log are
    kept)."""
    reset_world(request.app.state.store)
    return JSONResponse({"reset": True})


async def seed(request: Request) -> Response:
    """Add the objects of a world document (see reconciler.sandbox.world)."""
    try:
        counts = seed_world(request.app.state.store, await _body(request))
    except WorldError as exc:
        return _problem(str(exc))
    return JSONResponse({"added": counts})


async def edit(request: Request) -> Response:
    """One out-of-band edit ``{"target", "key", "set"?, "delete"?, "bump_version"?}``."""
    try:
        body = await _body(request)
        if not isinstance(body, dict):
            return _problem("an edit must be a JSON object")
        done = apply_edit(request.app.state.store, body)
    except (EditError, WorldError) as exc:
        return _problem(str(exc))
    return JSONResponse({"edited": done})


async def health(request: Request) -> Response:
    return JSONResponse({"ok": True, "db": str(request.app.state.store.path)})


ROUTES = [
    Route("/_sandbox/health", health, methods=["GET"]),
    Route("/_sandbox/requests", requests_log, methods=["GET", "DELETE"]),
    Route("/_sandbox/faults", faults, methods=["GET", "PUT", "DELETE"]),
    Route("/_sandbox/settings", world_settings, methods=["GET", "PUT", "DELETE"]),
    Route("/_sandbox/reset", reset, methods=["POST"]),
    Route("/_sandbox/seed", seed, methods=["POST"]),
    Route("/_sandbox/edit", edit, methods=["POST"]),
]
