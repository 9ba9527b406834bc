"""How each platform's sandbox answers requests its contract refuses: in the platform's own
error shape and status, never a server error (cases fuzzing found, kept as regular tests)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from reconciler.sandbox.server import SandboxServer

W = "/api/v1/organizations/o/workspaces/w"
NOT_UTF8 = b"`\xbf\xe5\x13\x0b\xd1"  # what a fuzzer sent as a JSON body


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxServer]:
    with SandboxServer(Path(tmp_path_factory.mktemp("refusals")) / "sandbox.db") as served:
        yield served


def _post(server: SandboxServer, path: str, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(server.url + path, content=NOT_UTF8, timeout=10,
                      headers={**headers, "Content-Type": "application/json"})


def test_workspace_body_that_is_not_utf8_is_invalid_argument(server):
    answer = _post(server, f"{W}/automations", {"Authorization": "Bearer t"})
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert (error["code"], error["status"]) == (400, "INVALID_ARGUMENT")
    assert "not valid UTF-8" in error["message"]


def test_outlit_body_that_is_not_utf8_is_validation_failed(server):
    answer = _post(server, "/api/automations", {"Authorization": "Bearer ok_t"})
    assert answer.status_code == 422
    body = answer.json()
    assert body["ok"] is False and body["error"]["code"] == "VALIDATION_FAILED"


def test_datallog_body_that_is_not_utf8_is_a_400_error(server):
    answer = _post(server, "/api/start-automation/p/a",
                   {"Authorization": "Token t", "x-api-key": "k"})
    assert answer.status_code == 400
    assert answer.json()["status"] == "error"


def test_automation_runs_body_that_is_not_utf8_is_a_422_detail(server):
    answer = _post(server, "/api/v1/automation-runs/00000000-0000-4000-8000-000000000000/retry",
                   {"X-API-Key": "k"})
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body"]


@pytest.mark.parametrize("ident", ["e%F2%AF%AF%81%C2%A0", "%25", "a%2Fb", "%C3%A9", "x" * 2000])
def test_workspace_automation_id_of_unusual_characters_is_refused_or_not_found(server, ident):
    answer = httpx.get(f"{server.url}{W}/automations/{ident}", timeout=10,
                       headers={"Authorization": "Bearer t"})
    assert answer.status_code in (400, 404)
    error = answer.json()["error"]
    assert error["status"] == {400: "INVALID_ARGUMENT", 404: "NOT_FOUND"}[answer.status_code]


@pytest.mark.parametrize("ident", ["e%F2%AF%AF%81%C2%A0", "%25", "a%2Fb", "%C3%A9", "x" * 2000])
def test_outlit_automation_id_that_is_no_uuid_is_not_found(server, ident):
    answer = httpx.get(f"{server.url}/api/automations/{ident}", timeout=10,
                       headers={"Authorization": "Bearer ok_t"})
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "NOT_FOUND"
