"""Invoke, run progress by timestamps, and the automation-runs API (list/get/cancel/retry/
steps/events). Runs finish in about a second, so only a few tests wait for one."""

from __future__ import annotations

import json
import time
import uuid

import httpx

from .helpers import W, aip_error, automation_id, create, published

RUNS = "/api/v1/automation-runs"


def invoke(ws, ident: str, stage: str = "AUTOMATION_STAGE_PUBLISHED", **inputs) -> str:
    response = ws.post(f"{W}/automations/{ident}:invoke", json={"stage": stage, "inputs": inputs})
    assert response.status_code == 200, response.text
    return response.json()["run_id"]


def wait_terminal(runs_api, run_id: str, timeout: float = 3.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        run = runs_api.get(f"{RUNS}/{run_id}").json()
        if run["status"] in ("succeeded", "failed", "cancelled") or time.monotonic() > deadline:
            return run
        time.sleep(0.1)


def test_invoke_runs_new_running_finished_with_three_steps(ws, runs_api):
    ident = published(ws)
    run_id = invoke(ws, ident, customer="acme")
    uuid.UUID(run_id)
    first = ws.get(f"{W}/automations/{ident}/runs/{run_id}").json()
    assert first["status"] == "NEW"
    assert first["inputs"] == {"customer": "acme"}
    assert [s["step"]["step_type"] for s in first["steps"]] == ["START", "TOOL", "END"]
    assert first["steps_count"] == 3
    time.sleep(0.5)
    assert ws.get(f"{W}/automations/{ident}/runs/{run_id}").json()["status"] == "RUNNING"
    assert wait_terminal(runs_api, run_id)["status"] == "succeeded"
    done = ws.get(f"{W}/automations/{ident}/runs/{run_id}").json()
    assert done["status"] == "FINISHED"
    assert [s["status"] for s in done["steps"]] == ["FINISHED"] * 3
    assert done["current_step"]["step"]["step_type"] == "END"


def test_inputs_asking_to_fail_make_the_run_fail_at_the_tool_step(ws, runs_api):
    ident = published(ws)
    run_id = invoke(ws, ident, fail=True)
    assert wait_terminal(runs_api, run_id)["status"] == "failed"
    run = ws.get(f"{W}/automations/{ident}/runs/{run_id}").json()
    assert run["status"] == "FAILED" and run["error"]
    assert [s["status"] for s in run["steps"]] == ["FINISHED", "FAILED", "NEW"]
    steps = runs_api.get(f"{RUNS}/{run_id}/steps").json()
    assert (steps["completedCount"], steps["failedCount"], steps["pendingCount"]) == (1, 1, 1)
    assert steps["steps"][1]["dependsOn"] == ["start"]


def test_invoke_of_inactive_published_or_missing_stage_is_failed_precondition(ws):
    ident = published(ws)
    ws.patch(f"{W}/automations/{ident}?update_mask=activation_state",
             json={"activation_state": "AUTOMATION_ACTIVATION_STATE_DEACTIVATED"})
    aip_error(ws.post(f"{W}/automations/{ident}:invoke",
                      json={"stage": "AUTOMATION_STAGE_PUBLISHED"}), "FAILED_PRECONDITION")
    draft = automation_id(create(ws, "draft"))
    aip_error(ws.post(f"{W}/automations/{draft}:invoke",
                      json={"stage": "AUTOMATION_STAGE_PUBLISHED"}), "FAILED_PRECONDITION")
    aip_error(ws.post(f"{W}/automations/{draft}:invoke", json={"inputs": {}}), "INVALID_ARGUMENT")


def test_run_of_another_automation_is_not_found(ws):
    ident = published(ws)
    run_id = invoke(ws, ident)
    other = published(ws, "other")
    aip_error(ws.get(f"{W}/automations/{other}/runs/{run_id}"), "NOT_FOUND")


def test_default_inputs_history_lists_newest_first(ws):
    ident = automation_id(create(ws))
    invoke(ws, ident, "AUTOMATION_STAGE_DRAFT", n=1)
    invoke(ws, ident, "AUTOMATION_STAGE_DRAFT", n=2)
    body = ws.get(f"{W}/automations/{ident}:listDefaultInputsHistory").json()
    assert [e["inputs"] for e in body["entries"]] == [{"n": 2}, {"n": 1}]
    assert body["entries"][0]["stage"] == "AUTOMATION_STAGE_DRAFT"
    aip_error(ws.get(f"{W}/automations/{ident}:listDefaultInputsHistory?page_size=-3"),
              "INVALID_ARGUMENT")


def test_each_invoke_is_listed_by_the_automation_runs_api(ws, runs_api):
    ident = published(ws)
    run_id = invoke(ws, ident)
    body = runs_api.get(RUNS).json()
    assert body["total"] == 1
    item = body["items"][0]
    assert (item["id"], item["automationId"], item["triggerType"]) == (run_id, ident, "manual")
    assert item["status"] in ("pending", "running")
    assert runs_api.get(RUNS, params={"status": "succeeded"}).json()["total"] == 0


def test_list_validation_errors_are_fastapi_422(runs_api):
    for query, loc in (("limit=1001", "limit"), ("limit=x", "limit"), ("offset=-1", "offset"),
                       ("status=exploded", "status")):
        response = runs_api.get(f"{RUNS}?{query}")
        assert response.status_code == 422
        detail = response.json()["detail"][0]
        assert detail["loc"] == ["query", loc] and detail["msg"] and detail["type"]


def test_list_pages_with_limit_and_offset(server, runs_api):
    server.seed({"runs": [{"automationId": f"a{i}", "status": "succeeded",
                           "createdAt": f"2026-01-0{i + 1}T00:00:00Z"} for i in range(3)]})
    body = runs_api.get(f"{RUNS}?limit=2&offset=1").json()
    assert body["total"] == 3
    assert [i["automationId"] for i in body["items"]] == ["a1", "a0"]


def test_get_run_errors(runs_api):
    assert runs_api.get(f"{RUNS}/not-a-uuid").status_code == 422
    missing = runs_api.get(f"{RUNS}/{uuid.uuid4()}")
    assert missing.status_code == 404 and missing.json() == {"detail": "Run not found"}


def test_missing_credentials_are_401(server):
    assert httpx.get(f"{server.url}{RUNS}").status_code == 401
    wrong = httpx.get(f"{server.url}{RUNS}", headers={"authorization": "Token x"})
    assert wrong.status_code == 401


def test_cancel_a_running_run_and_not_a_finished_one(server, ws, runs_api):
    ident = published(ws)
    run_id = invoke(ws, ident)
    cancelled = runs_api.post(f"{RUNS}/{run_id}/cancel").json()
    assert cancelled["status"] == "cancelled" and cancelled["completedAt"]
    again = runs_api.post(f"{RUNS}/{run_id}/cancel")
    assert again.status_code == 409 and again.json()["detail"]
    assert ws.get(f"{W}/automations/{ident}/runs/{run_id}").json()["status"] == "FAILED"


def test_retry_a_failed_run_and_refuse_others(server, runs_api):
    server.seed({"runs": [{"id": "00000000-0000-4000-8000-000000000001", "automationId": "x",
                           "status": "failed", "error": "boom"},
                          {"id": "00000000-0000-4000-8000-000000000002", "automationId": "x",
                           "status": "succeeded"}]})
    failed, ok = "00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002"
    retried = runs_api.post(f"{RUNS}/{failed}/retry", json={"mode": "from_failed"}).json()
    assert retried["id"] != failed and retried["status"] == "pending"
    assert runs_api.post(f"{RUNS}/{ok}/retry", json={}).status_code == 409
    bad_mode = runs_api.post(f"{RUNS}/{failed}/retry", json={"mode": "sideways"})
    assert bad_mode.status_code == 422
    assert bad_mode.json()["detail"][0]["loc"] == ["body", "mode"]
    no_step = runs_api.post(f"{RUNS}/{failed}/retry", json={"mode": "from_step"})
    assert no_step.status_code == 422
    extra = runs_api.post(f"{RUNS}/{failed}/retry", json={"mode": "full", "force": True})
    assert extra.status_code == 422


def test_steps_of_unknown_run_is_404(runs_api):
    assert runs_api.get(f"{RUNS}/{uuid.uuid4()}/steps").status_code == 404


def test_events_stream_one_json_per_data_line_until_terminal(ws, runs_api):
    ident = published(ws)
    run_id = invoke(ws, ident)
    events = []
    with runs_api.stream("GET", f"{RUNS}/{run_id}/events") as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line.removeprefix("data: ")))
    statuses = [e["status"] for e in events if e["type"] == "run"]
    assert statuses[0] == "pending" and statuses[-1] == "succeeded"
    assert "running" in statuses
    assert {e["stepKey"] for e in events if e["type"] == "step"} == {"start", "tool", "end"}


def test_events_of_unknown_run_is_404(runs_api):
    assert runs_api.get(f"{RUNS}/{uuid.uuid4()}/events").status_code == 404
    assert runs_api.get(f"{RUNS}/nope/events").status_code == 422
