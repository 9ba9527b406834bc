"""Admin routes: request log, faults, out-of-band edits, seed and reset."""

from __future__ import annotations

import time

import httpx
import pytest

from reconciler.sandbox.server import LoggedRequest

from .helpers import W, automation_id, create, published


def test_request_log_records_method_template_and_status(server, ws):
    ident = automation_id(create(ws))
    ws.post(f"{W}/automations/{ident}:publish", json={})
    ws.get(f"{W}/automations/nope")
    automation = "/api/v1/organizations/{organization_id}/workspaces/{workspace_id}/automations"
    assert server.requests() == [
        LoggedRequest("POST", automation, 200),
        LoggedRequest("POST", automation + "/{automation_id}:publish", 200),
        LoggedRequest("GET", automation + "/{automation_id}", 404),
    ]
    assert server.requests(since=2) == [LoggedRequest("GET", automation + "/{automation_id}", 404)]
    server.clear_requests()
    assert server.requests() == []


def test_latency_holds_every_answer_and_errors_alike(server, ws, outlit):
    server.set_faults(latency_ms=120)
    for client, path in ((ws, f"{W}/automations"), (outlit, "/api/automations"),
                         (ws, f"{W}/automations/nope")):
        started = time.monotonic()
        client.get(path)
        assert time.monotonic() - started >= 0.12
    server.set_faults(latency_ms=120, throttle_every=1)
    started = time.monotonic()
    assert outlit.get("/api/automations").status_code == 429
    assert time.monotonic() - started >= 0.12


def test_throttle_every_nth_answers_429_with_retry_after_in_each_platform_shape(server, ws,
                                                                                outlit):
    server.set_faults(throttle_every=2, retry_after=3)
    assert ws.get(f"{W}/automations").status_code == 200
    throttled = ws.get(f"{W}/automations")
    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "3"
    assert throttled.json()["error"]["status"] == "RESOURCE_EXHAUSTED"
    outlit.get("/api/signals")
    limited = outlit.get("/api/signals")
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "RATE_LIMITED"


def test_error_rate_is_reproducible_with_a_seed(server, outlit):
    def pattern() -> list[int]:
        server.set_faults(error_rate=0.5, seed=7)
        return [outlit.get("/api/signals").status_code for _ in range(12)]

    first = pattern()
    assert set(first) == {200, 503}
    assert pattern() == first


def test_connection_reset_drops_the_connection(server, outlit):
    server.set_faults(reset_every=1)
    with pytest.raises(httpx.TransportError):
        outlit.get("/api/signals")
    assert server.requests()[-1] == LoggedRequest("GET", "/api/signals", 0)


def test_token_bucket_throttles_bursts(server, outlit):
    server.set_faults(rate_limit=1, burst=2)
    statuses = [outlit.get("/api/signals").status_code for _ in range(4)]
    assert statuses[:2] == [200, 200]
    assert 429 in statuses[2:]


def test_faults_spare_admin_routes_and_can_be_cleared(server, outlit):
    server.set_faults(error_every=1)
    assert server.requests() == []
    server.clear_faults()
    assert outlit.get("/api/signals").status_code == 200


def test_unknown_or_bad_fault_settings_are_refused(server):
    with pytest.raises(ValueError, match="unknown fault"):
        server.set_faults(explode=1)
    with pytest.raises(ValueError, match="probability"):
        server.set_faults(error_rate=2)


def test_edit_published_field_publishes_a_new_version_like_the_ui(server, ws):
    ident = published(ws, description="old")
    server.edit("workspace.automation", "Nightly report", description="changed in UI")
    automation = ws.get(f"{W}/automations/{ident}").json()
    assert (automation["version"], automation["description"]) == ("2.0", "changed in UI")


def test_edit_activation_schedule_trigger_and_delete(server, ws):
    ident = published(ws)
    ws.post(f"{W}/automations/{ident}/schedule", json={"config": {"cron": "0 * * * *"}})
    ws.post(f"{W}/automations/{ident}/triggers",
            json={"trigger_id": "t", "phase_type": "PHASE_TYPE_MAIN"})
    server.edit("workspace.automation", "Nightly report", activation="deactivated")
    server.edit("workspace.schedule", "Nightly report", enabled=False)
    server.edit("workspace.trigger", "Nightly report/t", is_active=False)
    assert ws.get(f"{W}/automations/{ident}").json()["activation_state"].endswith("DEACTIVATED")
    assert ws.get(f"{W}/automations/{ident}/schedule").json()["enabled"] is False
    [trigger] = ws.get(f"{W}/automations/{ident}/triggers").json()["triggers"]
    assert trigger["is_active"] is False
    server.edit("workspace.automation", "Nightly report", delete=True)
    assert ws.get(f"{W}/automations/{ident}").status_code == 404


def test_edit_outlit_and_datallog_objects(server, outlit, datallog):
    server.edit("outlit.destination", "email-digest", enabled=True)
    server.edit("outlit.signal", "churn-risk", archived=False)
    destinations = outlit.get("/api/destinations").json()["data"]["destinations"]
    assert all(d["enabled"] for d in destinations)
    server.edit("datallog.automation", "analytics/legacy-export", enabled=True)
    assert datallog.post("/api/start-automation/analytics/legacy-export").status_code == 200
    server.edit("datallog.project", "analytics", active=False)
    assert datallog.post("/api/start-automation/analytics/daily-load").status_code == 400


def test_edit_of_unknown_object_or_field_is_refused(server):
    with pytest.raises(ValueError, match="no workspace automation"):
        server.edit("workspace.automation", "ghost", description="x")
    with pytest.raises(ValueError, match="no editable field"):
        server.edit("outlit.destination", "email-digest", colour="red")


def test_seed_adds_a_world_and_reset_returns_to_the_default(server, ws, outlit):
    added = server.seed({
        "workspace": {"connections": [{"connection_id": "gmail", "connector": "gmail"}],
                      "automations": [{"display_name": "Legacy", "connections": ["gmail"],
                                       "schedule": {"cron": "0 6 * * *"}}]},
        "outlit": {"automations": [{"key": "old", "signals": ["signup-completed"]}]},
    })
    assert added == {"outlit automations": 1, "connections": 1, "workspace automations": 1}
    names = [a["display_name"] for a in ws.get(f"{W}/automations").json()["automations"]]
    assert names == ["Legacy"]
    server.reset()
    assert ws.get(f"{W}/automations").json()["automations"] == []
    assert outlit.get("/api/automations").json()["data"]["automations"] == []


def test_seed_with_unknown_field_names_the_path_and_adds_nothing(server, ws):
    with pytest.raises(ValueError, match=r"workspace.automations\[1\]: unknown field"):
        server.seed({"workspace": {"automations": [{"display_name": "ok"},
                                                   {"display_name": "x", "colour": 1}]}})
    assert ws.get(f"{W}/automations").json()["automations"] == []
