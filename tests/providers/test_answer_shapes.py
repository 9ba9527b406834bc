"""Adapters against a platform whose answers lack fields or hold fields of another type: a
ProviderError naming the platform, the call and the field, never an internal error. Each
answer comes from a small app served on loopback, changed per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from reconciler.cli import cli
from reconciler.errors import ProviderError
from reconciler.providers.outlit import OutlitProvider
from reconciler.providers.workspace import WorkspaceProvider
from reconciler.sandbox.server import LoopbackServer
from tests.providers.conftest import FAST_RETRY, provider_config

pytestmark = pytest.mark.anyio
W = "/api/v1/organizations/org_main/workspaces/ws_ops"
ANSWERS: dict[str, Any] = {}  # path -> the JSON body answered for it


async def answer(request: Request) -> Response:
    body = ANSWERS.get(request.url.path)
    if body is None:
        return JSONResponse({"error": {"code": 404, "message": "not found"}}, status_code=404)
    return JSONResponse(body)


@pytest.fixture(scope="module")
def server() -> Iterator[LoopbackServer]:
    app = Starlette(routes=[Route("/{path:path}", answer, methods=["GET", "POST"])])
    with LoopbackServer(app) as running:
        yield running


@pytest.fixture(autouse=True)
def fresh_answers() -> None:
    ANSWERS.clear()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


AUTOMATION = {"name": f"{W[8:]}/automations/a1", "display_name": "nightly", "version": "1.0"}


@pytest.mark.parametrize(("answers", "call", "words"), [
    ({W + "/automations": {"automations": [{"display_name": "nightly"}]}},
     "GET /api/v1/organizations/{organization_id}/workspaces/{workspace_id}/automations",
     "item 0: field 'name' is missing"),
    ({W + "/automations": {"automations": [AUTOMATION, {**AUTOMATION, "name": 7}]}},
     "GET /api/v1/organizations/{organization_id}/workspaces/{workspace_id}/automations",
     "item 1: field 'name' is a JSON number, not a string"),
    ({W + "/automations": {"automations": [AUTOMATION]},
      W + "/automations/a1/triggers": {"triggers": [{"phase_type": "x"}]}},
     "GET /api/v1/organizations/{organization_id}/workspaces/{workspace_id}/automations/"
     "{automation_id}/triggers", "item 0: field 'trigger_id' is missing"),
    ({W + "/automations": {"automations": [AUTOMATION]},
      W + "/automations/a1/schedule": {"config": {"cron": "0 6 * * *", "end": ["never"]}}},
     "GET /api/v1/organizations/{organization_id}/workspaces/{workspace_id}/automations/"
     "{automation_id}/schedule", "field 'config.end' is a JSON array, not an object"),
    ({W + "/automations": {"automations": [AUTOMATION]},
      W + "/automations/a1:extractCodeConnections": {"connections": ["slack"]}},
     "GET /api/v1/organizations/{organization_id}/workspaces/{workspace_id}/automations/"
     "{automation_id}:extractCodeConnections",
     "field 'connections[0]' is a JSON string, not an object"),
], ids=["no-name", "name-number", "trigger-id", "schedule-end", "connections"])
async def test_a_workspace_answer_of_the_wrong_shape_names_the_call_and_field(
    server, answers, call, words
):
    ANSWERS.update({W + "/automations/a1:extractCodeConnections": {"connections": []},
                    W + "/automations/a1/triggers": {"triggers": []}, **answers})
    provider = WorkspaceProvider(provider_config(server.url, "workspace"), retry=FAST_RETRY)
    try:
        with pytest.raises(ProviderError) as caught:
            await provider.read([], {})
    finally:
        await provider.aclose()
    error = caught.value
    assert (error.platform, error.call) == ("workspace", call)
    assert str(error).startswith(f"studio: {call} answered with an unexpected shape ({words}); "
                                 "the workspace API may have changed")


@pytest.mark.parametrize(("automation", "words"), [
    ({"id": "a1", "name": "Flow"}, "item 0: field 'key' is missing"),
    ({"id": "a1", "key": "flow", "signals": [{"name": "s"}]},
     "item 0: field 'signals[0].key' is missing"),
    ({"id": 12, "key": "flow"}, "item 0: field 'id' is a JSON number, not a string"),
], ids=["no-key", "signal-without-key", "id-number"])
async def test_an_outlit_automation_of_the_wrong_shape_names_the_call_and_field(
    server, automation, words
):
    ANSWERS["/api/automations"] = {"ok": True, "data": {"automations": [automation]}}
    provider = OutlitProvider(provider_config(server.url, "outlit"), retry=FAST_RETRY)
    try:
        with pytest.raises(ProviderError) as caught:
            await provider.read([], {})
    finally:
        await provider.aclose()
    assert str(caught.value).startswith(f"growth: GET /api/automations answered with an "
                                        f"unexpected shape ({words})")


def _project(server: LoopbackServer, folder: Path) -> Path:
    """A project with one workspace automation, its provider at ``server``."""
    (folder / "manifests").mkdir()
    (folder / "manifests" / "a.yaml").write_text(
        "apiVersion: reconciler/v1\nkind: Automation\nmetadata: {name: nightly, provider: studio}"
        "\nspec: {code: 'print(1)'}\n")
    (folder / "reconciler.yaml").write_text(
        f"version: 1\nmanifests: [manifests/]\nproviders:\n  studio:\n    type: workspace\n"
        f"    base_url: {server.url}\n    organization_id: org_main\n    workspace_id: ws_ops\n"
    )
    return folder


def test_plan_against_such_a_platform_is_a_clear_error_not_an_internal_one(server, tmp_path):
    ANSWERS[W + "/automations"] = {"automations": [{"display_name": "nightly"}]}
    _project(server, tmp_path)
    result = CliRunner().invoke(cli, ["-C", str(tmp_path), "plan"])
    assert result.exit_code == 1
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr
    assert ("/workspaces/{workspace_id}/automations answered with an unexpected shape (item 0: "
            "field 'name' is missing)") in result.stderr


def test_an_answer_no_declared_shape_refused_still_names_provider_and_platform(
    server, tmp_path, monkeypatch
):
    """The safety net where an adapter reads answers: an undeclared field it cannot use is a
    provider error naming the instance and the platform, not an internal error."""
    monkeypatch.setattr("reconciler.providers.workspace.calls.ANSWERS", {})
    ANSWERS[W + "/automations"] = {"automations": [{"display_name": "nightly"}]}
    project = _project(server, tmp_path)
    result = CliRunner().invoke(cli, ["-C", str(project), "plan"])
    assert result.exit_code == 1 and "internal error" not in result.stderr
    assert ("Error: studio: reading stopped on an answer of a shape this version does not know "
            "(KeyError: 'name'); the workspace API may have changed (--debug shows where)"
            in result.stderr)
