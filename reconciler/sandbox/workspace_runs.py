"""Workspace invoke and run status (the documented run object)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from reconciler.sandbox import runs
from reconciler.sandbox import workspace_model as m
from reconciler.sandbox.http import check_fields, json_body, workspace_error
from reconciler.sandbox.store import timestamp
from reconciler.sandbox.workspace_api import context, invalid, load


async def invoke(request: Request, automation_id: str) -> Response:
    """Start a run of one stage; ``{"fail": true}`` in the inputs makes it fail."""
    store, _ = context(request)
    body = await json_body(request, invalid)
    check_fields(body, {"stage", "inputs"}, {"stage"}, invalid)
    stage = body["stage"]
    if stage not in (m.DRAFT, m.PUBLISHED):
        raise invalid(f"stage must be {m.DRAFT} or {m.PUBLISHED}, got {stage!r}")
    inputs = body.get("inputs", {})
    if not isinstance(inputs, dict):
        raise invalid("inputs must be an object")
    with store.transaction():
        doc = load(store, automation_id)
        revision = m.latest_draft(doc) if stage == m.DRAFT else m.latest_published(doc)
        if revision is None:
            label = "draft" if stage == m.DRAFT else "published version"
            raise workspace_error("FAILED_PRECONDITION",
                                  f"automation {automation_id} has no {label} to run")
        if stage == m.PUBLISHED and doc["activation_state"] != m.ACTIVE:
            raise workspace_error(
                "FAILED_PRECONDITION",
                f"automation {automation_id} is not active ({doc['activation_state']}); "
                "published runs need an active automation",
            )
        doc["inputs_history"].append(
            {"inputs": inputs, "stage": stage, "create_time": timestamp()})
        store.put(m.AUTOMATION, doc["id"], doc)
        run = runs.new_run(automation_id, inputs=inputs, fail=inputs.get("fail") is True,
                           version=revision["version"])
        runs.save(store, run)
    return JSONResponse({"run_id": run["id"]})


async def get_run(request: Request) -> Response:
    store, _ = context(request)
    automation_id = request.path_params["automation_id"]
    load(store, automation_id, deleted_ok=True)
    run = store.get(runs.RUN, request.path_params["run_id"])
    if run is None or run["automationId"] != automation_id or run["source"] != "workspace":
        raise workspace_error("NOT_FOUND", f"run {request.path_params['run_id']} not found")
    return JSONResponse(runs.render_workspace_run(run))
