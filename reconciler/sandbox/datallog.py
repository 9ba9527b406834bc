"""Datallog start-automation (as documented) with its 400/403 rules.

Sandbox-only triggers for the account rules: seed ``{"balance": "insufficient"}`` and
``{"plan": "none"}``.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from reconciler.sandbox import runs
from reconciler.sandbox.http import datallog_error, decode_object
from reconciler.sandbox.store import Store

PROJECT = "datallog_project"
EXECUTION = "datallog_execution"


def _parse(value: Any, what: str) -> dict[str, Any]:
    """An object given as itself or as a JSON string."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise datallog_error(400, f"Invalid {what} JSON format") from None
    if not isinstance(value, dict):
        raise datallog_error(400, f"Invalid {what} JSON format")
    return value


def check_credentials(request: Request) -> None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme != "Token" or not token.strip():
        raise datallog_error(401, "Authentication credentials were not provided "
                             "(Authorization: Token <token>).")
    if not request.headers.get("x-api-key", "").strip():
        raise datallog_error(401, "Missing x-api-key header.")


async def start_automation(request: Request) -> Response:
    check_credentials(request)
    store: Store = request.app.state.store
    body = decode_object(await request.body(),
                         lambda exc: datallog_error(400, "Request body is not valid JSON"),
                         lambda: datallog_error(400, "Request body must be a JSON object"))
    unknown = sorted(set(body) - {"webhook", "seed"})
    if unknown:
        raise datallog_error(400, f"Unknown field(s): {', '.join(unknown)}")
    project_name = request.path_params["project_name"]
    automation_name = request.path_params["automation_name"]
    project = store.get(PROJECT, project_name)
    if project is None:
        raise datallog_error(403, "This Project does not exist. consult API")
    if not project["active"]:
        raise datallog_error(400, f"Project {project_name} is inactive")
    automation = project["automations"].get(automation_name)
    if automation is None:
        raise datallog_error(403, "This Automation does not exist. consult API")
    webhook = _parse(body["webhook"], "webhook") if "webhook" in body else None
    if webhook is not None:
        unknown = sorted(set(webhook) - {"url", "webhook_header"})
        if unknown or not isinstance(webhook.get("url", ""), str):
            raise datallog_error(400, "Invalid webhook JSON format")
    seed = _parse(body["seed"], "seed") if "seed" in body else {}
    if seed.get("plan") == "none":
        raise datallog_error(400, "User doesn't have an active plan")
    if seed.get("balance") == "insufficient":
        raise datallog_error(400, "Insufficient balance")
    if not automation["enabled"]:
        raise datallog_error(400, f"Automation {automation_name} is disabled")
    run = runs.new_run(f"{project_name}/{automation_name}", inputs=seed,
                       fail=seed.get("fail") is True, trigger_type="api",
                       trigger_source_type="api", source="datallog")
    with store.transaction():
        runs.save(store, run)
        store.put(EXECUTION, run["id"], {"id": run["id"], "project": project_name,
                                         "automation": automation_name, "seed": seed,
                                         "webhook": webhook})
    return JSONResponse({"status": "success",
                         "message": f"Automation {automation_name} started successfully.",
                         "execution_id": run["id"]})
