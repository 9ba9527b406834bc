"""Workspace connections: made in the platform (seeded here), draft-only atomic calls, usage,
blocked delete. The API has no call that creates, lists or reads a connection."""

from __future__ import annotations

from .helpers import BASE, W, aip_error, automation_id, create


def make_connection(server, connection_id: str, connector: str = "gmail") -> None:
    """A connection made in the platform's UI (the API cannot make one)."""
    server.seed({"workspace": {"connections": [{"connection_id": connection_id,
                                                "connector": connector}]}})


def attach(ws, ident: str, *connection_ids: str):
    return ws.post(f"{W}/automations/{ident}:addConnections",
                   json={"connections": [{"connection_id": c} for c in connection_ids]})


def test_there_is_no_call_that_lists_creates_or_reads_a_connection(ws):
    for method in ("GET", "POST"):
        aip_error(ws.request(method, f"{W}/connections", json={}), "NOT_FOUND")
    aip_error(ws.get(f"{W}/connections/slack-alerts"), "NOT_FOUND")


def test_add_connections_bumps_the_draft_version_once(ws, server):
    make_connection(server, "a")
    make_connection(server, "b", "slack")
    ident = automation_id(create(ws))
    body = attach(ws, ident, "a", "b").json()
    assert body["automation"]["version"] == "0.2"
    extracted = ws.get(f'{W}/automations/{ident}:extractCodeConnections?filter=stage = "DRAFT"')
    assert extracted.json()["connections"] == [
        {"connection_id": "a", "connector": "gmail", "version": "1", "latest_version": "1"},
        {"connection_id": "b", "connector": "slack", "version": "1", "latest_version": "1"},
    ]


def test_add_is_atomic_when_one_connection_is_unknown(ws, server):
    make_connection(server, "a")
    ident = automation_id(create(ws))
    aip_error(attach(ws, ident, "a", "missing"), "NOT_FOUND")
    automation = ws.get(f"{W}/automations/{ident}").json()
    assert automation["version"] == "0.1"
    extracted = ws.get(f'{W}/automations/{ident}:extractCodeConnections?filter=stage = "DRAFT"')
    assert extracted.json()["connections"] == []


def test_connection_calls_on_a_published_automation_are_failed_precondition(ws, server):
    make_connection(server, "a")
    ident = automation_id(create(ws))
    ws.post(f"{W}/automations/{ident}:publish", json={})
    aip_error(attach(ws, ident, "a"), "FAILED_PRECONDITION")


def test_remove_upgrade_and_switch(ws, server):
    make_connection(server, "a")
    make_connection(server, "b")
    ident = automation_id(create(ws))
    attach(ws, ident, "a")
    server.edit("workspace.connection", "a", bump_version=True)
    stale = ws.get(f'{W}/automations/{ident}:extractCodeConnections?filter=stage = "DRAFT"')
    assert stale.json()["connections"][0] | {} == {
        "connection_id": "a", "connector": "gmail", "version": "1", "latest_version": "2"}
    upgraded = ws.post(f"{W}/automations/{ident}:upgradeConnections",
                       json={"connection_ids": ["a"]})
    assert upgraded.json()["automation"]["version"] == "0.3"
    fresh = ws.get(f'{W}/automations/{ident}:extractCodeConnections?filter=stage = "DRAFT"')
    assert fresh.json()["connections"][0]["version"] == "2"
    switched = ws.post(f"{W}/automations/{ident}:switchConnections", json={
        "switches": [{"from_connection_id": "a", "to_connection_id": "b"}]})
    assert switched.status_code == 200, switched.text
    removed = ws.post(f"{W}/automations/{ident}:removeConnections", json={"connection_ids": ["b"]})
    assert removed.json()["automation"]["version"] == "0.5"


def test_remove_of_unattached_and_bad_bodies_fail(ws):
    ident = automation_id(create(ws))
    aip_error(ws.post(f"{W}/automations/{ident}:removeConnections",
                      json={"connection_ids": ["a"]}), "NOT_FOUND")
    aip_error(ws.post(f"{W}/automations/{ident}:upgradeConnections",
                      json={"ids": ["a"]}), "INVALID_ARGUMENT")
    aip_error(ws.post(f"{W}/automations/{ident}:switchConnections",
                      json={"switches": [{"from_connection_id": "a"}]}), "INVALID_ARGUMENT")


def test_usage_counts_and_traces_drafts_and_published(ws, server):
    make_connection(server, "a")
    live = automation_id(create(ws, "live"))
    attach(ws, live, "a")
    ws.post(f"{W}/automations/{live}:publish", json={})
    draft = automation_id(create(ws, "draft"))
    attach(ws, draft, "a")
    counts = ws.post(f"{W}/automations:countConnectionUsage",
                     json={"connection_ids": ["a", "unused"]}).json()
    assert counts["usages"] == [
        {"connection_id": "a", "automation_count": 2, "published_automation_count": 1},
        {"connection_id": "unused", "automation_count": 0, "published_automation_count": 0},
    ]
    trace = ws.post(f"{W}/automations:traceConnectionUsage", json={"connection_id": "a"}).json()
    assert sorted((a["display_name"], a["stage"], a["version"]) for a in trace["automations"]) == [
        ("draft", "AUTOMATION_STAGE_DRAFT", "0.2"), ("live", "AUTOMATION_STAGE_PUBLISHED", "1.0")]


def test_usage_calls_reject_bad_bodies(ws):
    aip_error(ws.post(f"{W}/automations:countConnectionUsage", json={}), "INVALID_ARGUMENT")
    aip_error(ws.post(f"{W}/automations:traceConnectionUsage", json={"connection": "a"}),
              "INVALID_ARGUMENT")


def test_delete_blocked_by_published_usage_names_the_blockers(ws, server):
    make_connection(server, "a")
    ident = automation_id(create(ws, "live"))
    attach(ws, ident, "a")
    ws.post(f"{W}/automations/{ident}:publish", json={})
    response = ws.delete(f"{W}/automations:deleteConnection?connection_id=a")
    error = aip_error(response, "FAILED_PRECONDITION")
    assert error["details"] == [{
        "@type": "type.googleapis.com/DeleteConnectionBlockedError",
        "blocking_automations": [{"name": f"{BASE}/automations/{ident}",
                                  "display_name": "live"}],
    }]


def test_delete_used_only_by_drafts_reports_them_and_blocks_their_publish(ws, server):
    make_connection(server, "a")
    ident = automation_id(create(ws, "draft"))
    attach(ws, ident, "a")
    body = ws.delete(f"{W}/automations:deleteConnection?connection_id=a").json()
    assert [a["display_name"] for a in body["affected_automations"]] == ["draft"]
    aip_error(ws.delete(f"{W}/automations:deleteConnection?connection_id=a"), "NOT_FOUND")
    aip_error(ws.post(f"{W}/automations/{ident}:publish", json={}), "FAILED_PRECONDITION")


def test_extract_needs_a_stage_filter(ws):
    ident = automation_id(create(ws))
    aip_error(ws.get(f"{W}/automations/{ident}:extractCodeConnections"), "INVALID_ARGUMENT")
