"""Outlit command envelopes and warnings; datallog start-automation rules."""

from __future__ import annotations

import httpx

from .helpers import routes_taken

RUNS = "/api/v1/automation-runs"


def outlit_error(response: httpx.Response, code: str) -> dict:
    body = response.json()
    assert body["ok"] is False and body["correlationId"], body
    assert body["error"]["code"] == code, body
    return body["error"]


def create(outlit, key: str = "welcome", **fields) -> dict:
    body = {"key": key, "name": key.title(), "signalKeys": ["signup-completed"],
            "destinationKeys": ["slack-growth"], **fields}
    response = outlit.post("/api/automations", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def test_default_world_signals_and_destinations(outlit):
    signals = outlit.get("/api/signals").json()["data"]["signals"]
    assert {s["key"]: s["archivedAt"] is None for s in signals} == {
        "signup-completed": True, "trial-expiring": True, "churn-risk": False}
    destinations = outlit.get("/api/destinations").json()["data"]["destinations"]
    assert {d["key"]: d["enabled"] for d in destinations} == {
        "slack-growth": True, "hubspot-sync": True, "email-digest": False}
    assert all(set(d["maskedConfig"].values()) <= {"****"} for d in destinations)


def test_signals_without_credentials_are_unauthorized(server):
    response = httpx.get(f"{server.url}/api/signals")
    assert response.status_code == 401
    outlit_error(response, "UNAUTHORIZED")


def test_create_answers_the_command_envelope_created_disabled(outlit):
    body = create(outlit)
    assert body["ok"] is True and body["commandId"] and body["correlationId"]
    result = body["result"]
    automation = result["data"]["automation"]
    assert automation["enabled"] is False
    assert result["resources"] == [{"type": "automation", "id": automation["id"]}]
    assert result["warnings"] == []
    assert (automation["activeSignalCount"], automation["activeDestinationCount"]) == (1, 1)


def test_create_warns_about_disabled_destinations_and_rejects_conflicts(outlit):
    warned = create(outlit, destinationKeys=["email-digest"])
    assert any("email-digest" in w for w in warned["result"]["warnings"])
    assert outlit.post("/api/automations", json={"key": "welcome", "name": "x"}).status_code == 409
    outlit_error(outlit.post("/api/automations", json={"key": "welcome", "name": "x"}), "CONFLICT")
    outlit_error(outlit.post("/api/automations", json={"key": "b", "name": "x", "colour": 1}),
                 "VALIDATION_FAILED")
    outlit_error(outlit.post("/api/automations", json={"key": "c", "name": "x",
                                                        "signalKeys": ["nope"]}),
                 "VALIDATION_FAILED")


def test_get_list_and_pagination(outlit):
    ids = [create(outlit, f"k{i}")["result"]["data"]["automation"]["id"] for i in range(3)]
    got = outlit.get(f"/api/automations/{ids[0]}").json()
    assert got["ok"] and got["data"]["automation"]["key"] == "k0"
    first = outlit.get("/api/automations?limit=2").json()["data"]
    rest = outlit.get("/api/automations", params={"cursor": first["nextCursor"]}).json()["data"]
    assert [a["id"] for a in first["automations"] + rest["automations"]] == ids
    assert rest["nextCursor"] is None
    outlit_error(outlit.get("/api/automations?limit=500"), "VALIDATION_FAILED")
    outlit_error(outlit.get("/api/automations/unknown"), "NOT_FOUND")


def test_update_changes_fields_but_never_the_key(outlit):
    ident = create(outlit)["result"]["data"]["automation"]["id"]
    updated = outlit.patch(f"/api/automations/{ident}", json={"description": "new"}).json()
    assert updated["result"]["data"]["automation"]["description"] == "new"
    outlit_error(outlit.patch(f"/api/automations/{ident}", json={"key": "other"}),
                 "VALIDATION_FAILED")


def test_enable_needs_an_active_signal_and_an_enabled_destination(outlit):
    ready = create(outlit)["result"]["data"]["automation"]["id"]
    enabled = outlit.post(f"/api/automations/{ready}/enable").json()
    assert enabled["result"]["data"]["automation"]["enabled"] is True
    lacking = create(outlit, "lacking", signalKeys=["churn-risk"],
                     destinationKeys=["email-digest"])["result"]["data"]["automation"]["id"]
    response = outlit.post(f"/api/automations/{lacking}/enable")
    assert response.status_code == 422
    error = outlit_error(response, "MISSING_REQUIRED_RESOURCES")
    assert error["details"]["missing"] == ["active signal", "enabled destination"]


def test_disable_and_archive(outlit):
    ident = create(outlit)["result"]["data"]["automation"]["id"]
    outlit.post(f"/api/automations/{ident}/enable")
    off = outlit.post(f"/api/automations/{ident}/disable").json()
    assert off["result"]["data"]["automation"]["enabled"] is False
    again = outlit.post(f"/api/automations/{ident}/disable").json()
    assert again["result"]["warnings"]
    archived = outlit.post(f"/api/automations/{ident}/archive").json()
    assert archived["result"]["data"]["automation"]["archivedAt"]
    assert outlit.get("/api/automations").json()["data"]["automations"] == []
    listed = outlit.get("/api/automations?includeArchived=true").json()["data"]["automations"]
    assert [a["id"] for a in listed] == [ident]
    outlit_error(outlit.post(f"/api/automations/{ident}/enable"), "VALIDATION_FAILED")
    outlit_error(outlit.post("/api/automations/nope/archive"), "NOT_FOUND")


def start(datallog, project: str, automation: str, **body):
    return datallog.post(f"/api/start-automation/{project}/{automation}", json=body or None)


def test_start_succeeds_and_records_a_run(datallog, runs_api):
    response = start(datallog, "analytics", "daily-load", seed={"day": "2026-01-01"},
                     webhook={"url": "https://example.com/hook",
                              "webhook_header": {"Authorization": "Bearer 1"}})
    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "success"
    assert body["message"] == "Automation daily-load started successfully."
    run = runs_api.get(f"{RUNS}/{body['execution_id']}").json()
    assert run["automationId"] == "analytics/daily-load"


def test_start_accepts_seed_as_a_json_string(datallog):
    assert start(datallog, "analytics", "daily-load", seed='{"user_id": 123}').status_code == 200


def test_unknown_project_or_automation_is_403_with_the_documented_message(datallog):
    project = start(datallog, "nope", "daily-load")
    assert (project.status_code, project.json()) == (
        403, {"message": "This Project does not exist. consult API"})
    automation = start(datallog, "analytics", "nope")
    assert (automation.status_code, automation.json()) == (
        403, {"message": "This Automation does not exist. consult API"})


LOAD = ("analytics", "daily-load")


def test_account_and_state_rules_are_400(datallog):
    cases = [
        (LOAD, {"seed": {"plan": "none"}}, "User doesn't have an active plan"),
        (LOAD, {"seed": {"balance": "insufficient"}}, "Insufficient balance"),
        (LOAD, {"seed": "{not json"}, "Invalid seed JSON format"),
        (LOAD, {"webhook": "[1"}, "Invalid webhook JSON format"),
        (("analytics", "legacy-export"), {}, "Automation legacy-export is disabled"),
        (("dormant", "anything"), {}, "Project dormant is inactive"),
    ]
    for (project, automation), body, message in cases:
        response = start(datallog, project, automation, **body)
        assert response.status_code == 400, (body, response.text)
        assert response.json() == {"status": "error", "message": message}


def test_start_needs_token_scheme_and_api_key(server):
    url = f"{server.url}/api/start-automation/analytics/daily-load"
    bearer = {"Authorization": "Bearer x", "x-api-key": "k"}
    assert httpx.post(url, headers=bearer).status_code == 401
    assert httpx.post(url, headers={"Authorization": "Token x"}).status_code == 401


def test_disable_of_unknown_automation_and_unauthenticated_destinations_fail(server, outlit):
    outlit_error(outlit.post("/api/automations/nope/disable"), "NOT_FOUND")
    outlit_error(httpx.get(f"{server.url}/api/destinations"), "UNAUTHORIZED")
    outlit_error(outlit.post("/api/automations/nope/explode"), "NOT_FOUND")
    assert [v["kind"] for v in routes_taken(server)] == ["unknown route"]
