"""Automation runs API (as documented): list, get, cancel, retry, steps and an SSE event stream."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from reconciler.sandbox import runs
from reconciler.sandbox.http import decode_object, runs_error, runs_validation_error
from reconciler.sandbox.store import Store, timestamp

STATUSES = ("pending", "queued", "running", "succeeded", "failed", "cancelled")
RETRY_MODES = ("from_failed", "from_step", "full")
EVENT_POLL_SECONDS = 0.05
EVENT_STREAM_LIMIT_SECONDS = 120.0  # a seeded run stuck in "running" must not hold a stream forever


def context(request: Request) -> Store:
    """``authorization: Bearer <token>`` or ``X-API-Key``, like the API's dependency."""
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise runs_error(401, "Invalid authentication credentials")
    elif not request.headers.get("x-api-key", "").strip():
        raise runs_error(401, "Not authenticated")
    return request.app.state.store


def _int_query(request: Request, name: str, default: int, low: int, high: int | None) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise runs_validation_error(
            ["query", name], "Input should be a valid integer, unable to parse string as an "
            "integer", "int_parsing") from None
    if value < low:
        raise runs_validation_error(["query", name],
                                    f"Input should be greater than or equal to {low}",
                                    "greater_than_equal")
    if high is not None and value > high:
        raise runs_validation_error(["query", name],
                                    f"Input should be less than or equal to {high}",
                                    "less_than_equal")
    return value


def load(request: Request, store: Store) -> dict[str, Any]:
    raw = request.path_params["run_id"]
    try:
        run_id = str(uuid.UUID(raw))
    except ValueError:
        raise runs_validation_error(
            ["path", "run_id"], "Input should be a valid UUID, invalid character: expected an "
            "optional prefix of `urn:uuid:` followed by [0-9a-fA-F-]", "uuid_parsing") from None
    doc = store.get(runs.RUN, run_id)
    if doc is None:
        raise runs_error(404, "Run not found")
    return doc


async def list_runs(request: Request) -> Response:
    store = context(request)
    limit = _int_query(request, "limit", 100, 0, 1000)
    offset = _int_query(request, "offset", 0, 0, None)
    wanted = request.query_params.get("status")
    if wanted is not None and wanted not in STATUSES:
        raise runs_validation_error(
            ["query", "status"],
            f"Input should be {', '.join(repr(s) for s in STATUSES)}", "enum")
    items = [runs.render_run(d) for d in store.all(runs.RUN)]
    if wanted:
        items = [i for i in items if i["status"] == wanted]
    items.sort(key=lambda i: i["createdAt"], reverse=True)
    return JSONResponse({"items": items[offset : offset + limit], "total": len(items)})


async def get_run(request: Request) -> Response:
    store = context(request)
    return JSONResponse(runs.render_run(load(request, store)))


async def cancel_run(request: Request) -> Response:
    store = context(request)
    with store.transaction():
        doc = load(request, store)
        current = runs.status(doc)
        if current in runs.TERMINAL:
            raise runs_error(409, f"Run is already {current} and cannot be cancelled")
        doc["cancelledAt"] = timestamp()
        if doc["fixedStatus"]:
            doc["fixedStatus"] = "cancelled"
            doc["completedAt"] = doc["cancelledAt"]
        runs.save(store, doc)
    return JSONResponse(runs.render_run(doc))


async def retry_run(request: Request) -> Response:
    store = context(request)
    body = decode_object(
        await request.body(),
        lambda exc: runs_validation_error(["body"], "JSON decode error", "json_invalid"),
        lambda: runs_validation_error(["body"], "Input should be a valid dictionary", "dict_type"))
    for extra in sorted(set(body) - {"mode", "stepKey"}):
        raise runs_validation_error(["body", extra], "Extra inputs are not permitted",
                                    "extra_forbidden")
    mode = body.get("mode", "from_failed")
    if mode not in RETRY_MODES:
        raise runs_validation_error(
            ["body", "mode"], "Input should be 'from_failed', 'from_step' or 'full'", "enum")
    step_key = body.get("stepKey")
    known = [key for key, *_ in runs.STEPS]
    if mode == "from_step" and step_key not in known:
        raise runs_validation_error(
            ["body", "stepKey"], f"Value error, stepKey must be one of {', '.join(known)} for "
            "mode from_step", "value_error")
    with store.transaction():
        doc = load(request, store)
        current = runs.status(doc)
        if current != "failed":
            raise runs_error(409, f"Only failed runs can be retried; this run is {current}")
        retry = runs.new_run(doc["automationId"], inputs=doc["inputs"], version=doc["version"],
                             trigger_type=doc["triggerType"], source=doc["source"])
        retry["retryOf"] = doc["id"]
        runs.save(store, retry)
    return JSONResponse(runs.render_run(retry))


async def run_steps(request: Request) -> Response:
    store = context(request)
    return JSONResponse(runs.render_steps(load(request, store)))


async def run_events(request: Request) -> Response:
    """Server-sent events: one JSON object per ``data:`` line, closed when the run ends."""
    store = context(request)
    run_id = load(request, store)["id"]

    async def stream() -> AsyncIterator[str]:
        seen: dict[str, str] = {}
        deadline = asyncio.get_running_loop().time() + EVENT_STREAM_LIMIT_SECONDS
        while asyncio.get_running_loop().time() < deadline:
            doc = store.get(runs.RUN, run_id)
            if doc is None:
                return
            for step in runs.steps(doc):
                if seen.get(step["key"]) != step["status"]:
                    seen[step["key"]] = step["status"]
                    # each event carries the moment it happened, not the moment it is sent
                    at = step["completedAt"] or step["startedAt"] or doc["createdAt"]
                    event = {"type": "step", "runId": run_id, "stepKey": step["key"],
                             "status": step["status"], "at": at}
                    yield f"data: {json.dumps(event)}\n\n"
            current = runs.status(doc)
            if seen.get("") != current:
                seen[""] = current
                at = runs.completed_at(doc) or runs.render_run(doc)["startedAt"] or doc["createdAt"]
                event = {"type": "run", "runId": run_id, "status": current, "at": at}
                yield f"data: {json.dumps(event)}\n\n"
            if current in runs.TERMINAL:
                return
            await asyncio.sleep(EVENT_POLL_SECONDS)

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache"})
