"""The sandbox ASGI app: every platform's routes (their paths do not collide) plus admin."""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from reconciler.sandbox import (
    admin,
    automation_runs,
    datallog,
    outlit,
    workspace_api,
    workspace_connections,
    workspace_runs,
    workspace_schedules,
)
from reconciler.sandbox.faults import FaultMiddleware, Faults, FaultState, RequestLog
from reconciler.sandbox.http import Reply, platform_error, platform_of
from reconciler.sandbox.store import Store
from reconciler.sandbox.strict import ContractLog, ContractMiddleware
from reconciler.sandbox.world import ensure_world

W = "/api/v1/organizations/{organization_id}/workspaces/{workspace_id}"
A = W + "/automations/{automation_id}"
RUNS = "/api/v1/automation-runs"

_VERBS = {
    ("GET", ""): workspace_api.get_automation,
    ("PATCH", ""): workspace_api.patch_automation,
    ("DELETE", ""): workspace_api.delete_automation,
    ("GET", "query"): workspace_api.query_automation,
    ("GET", "listDefaultInputsHistory"): workspace_api.list_inputs_history,
    ("GET", "extractCodeConnections"): workspace_connections.extract_code_connections,
    ("POST", "publish"): workspace_api.publish_automation,
    ("POST", "forkPublished"): workspace_api.fork_automation,
    ("POST", "invoke"): workspace_runs.invoke,
    ("POST", "addConnections"): workspace_connections.connection_call(workspace_connections.add),
    ("POST", "removeConnections"): workspace_connections.connection_call(
        workspace_connections.remove),
    ("POST", "upgradeConnections"): workspace_connections.connection_call(
        workspace_connections.upgrade),
    ("POST", "switchConnections"): workspace_connections.connection_call(
        workspace_connections.switch),
    ("POST", "enableAutomationSchedule"): workspace_schedules.schedule_toggle(True),
    ("POST", "disableAutomationSchedule"): workspace_schedules.schedule_toggle(False),
}

ROUTES = [
    *admin.ROUTES,
    # workspace (documented + assumed)
    Route(W + "/automations", workspace_api.list_automations, methods=["GET"]),
    Route(W + "/automations", workspace_api.create_automation, methods=["POST"]),
    Route(W + "/automations:countConnectionUsage", workspace_connections.count_usage,
          methods=["POST"]),
    Route(W + "/automations:traceConnectionUsage", workspace_connections.trace_usage,
          methods=["POST"]),
    Route(W + "/automations:deleteConnection", workspace_connections.delete_connection,
          methods=["DELETE"]),
    Route(A + "/revisions", workspace_api.list_revisions, methods=["GET"]),
    Route(A + "/revisions/{revision_id}", workspace_api.get_revision, methods=["GET"]),
    Route(A + "/visualization", workspace_api.get_visualization, methods=["GET"]),
    Route(A + "/schedule", workspace_schedules.schedule_endpoint,
          methods=["GET", "POST", "PATCH", "DELETE"]),
    Route(A + "/triggers", workspace_schedules.triggers_endpoint, methods=["GET", "POST"]),
    Route(A + "/triggers/{trigger_id}", workspace_schedules.trigger_endpoint,
          methods=["PATCH", "DELETE"]),
    Route(A + "/runs/{run_id}", workspace_runs.get_run, methods=["GET"]),
    Route(W + "/automations/{automation_ref}", workspace_api.automation_target(_VERBS),
          methods=["GET", "POST", "PATCH", "DELETE"]),
    # automation-runs (documented)
    Route(RUNS, automation_runs.list_runs, methods=["GET"]),
    Route(RUNS + "/{run_id}", automation_runs.get_run, methods=["GET"]),
    Route(RUNS + "/{run_id}/cancel", automation_runs.cancel_run, methods=["POST"]),
    Route(RUNS + "/{run_id}/retry", automation_runs.retry_run, methods=["POST"]),
    Route(RUNS + "/{run_id}/steps", automation_runs.run_steps, methods=["GET"]),
    Route(RUNS + "/{run_id}/events", automation_runs.run_events, methods=["GET"]),
    # datallog (documented)
    Route("/api/start-automation/{project_name}/{automation_name}", datallog.start_automation,
          methods=["POST"]),
    # outlit (documented + assumed)
    Route("/api/automations", outlit.list_automations, methods=["GET"]),
    Route("/api/automations", outlit.create_automation, methods=["POST"]),
    Route("/api/automations/{automation_id}", outlit.automation_endpoint,
          methods=["GET", "PATCH"]),
    Route("/api/automations/{automation_id}/{command}", outlit.command_endpoint,
          methods=["POST"]),
    Route("/api/signals", outlit.list_signals, methods=["GET"]),
    Route("/api/destinations", outlit.list_destinations, methods=["GET"]),
]


async def _reply(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Reply)
    return exc.response


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = "no such route" if exc.status_code == 404 else f"{request.method} is not allowed here"
    return platform_error(platform_of(request.url.path), exc.status_code, message)


def create_app(
    db_path: Path, *, faults: Faults | None = None, in_process: bool = False,
    check_responses: bool | None = None,
) -> Starlette:
    """The sandbox bound to one db file (created with the default world when new).

    Every request is checked against the platforms' contract documents; ``check_responses``
    checks the answers too (default: the RECONCILER_SANDBOX_CHECK_RESPONSES variable).
    """
    store = Store(Path(db_path))
    ensure_world(store)
    app = Starlette(
        routes=ROUTES,
        middleware=[Middleware(FaultMiddleware),
                    Middleware(ContractMiddleware, check_responses=check_responses)],
        exception_handlers={Reply: _reply, HTTPException: _http_error},
    )
    app.state.store = store
    app.state.faults = FaultState(faults)
    app.state.request_log = RequestLog()
    app.state.contract_log = ContractLog()
    app.state.in_process = in_process
    return app
