"""Helpers shared by the sandbox tests."""

from __future__ import annotations

import httpx

BASE = "organizations/org-1/workspaces/ws-1"
W = f"/api/v1/{BASE}"


def create(ws: httpx.Client, name: str = "Nightly report", **fields: object) -> dict:
    response = ws.post(f"{W}/automations", json={"display_name": name, **fields})
    assert response.status_code == 200, response.text
    return response.json()


def automation_id(automation: dict) -> str:
    return automation["name"].rsplit("/", 1)[1]


def published(ws: httpx.Client, name: str = "Nightly report", **fields: object) -> str:
    """An automation with version 1.0 published and activated; returns its id.

    What the first publish does to activation is a world setting, so this activates it
    explicitly, as a client of the contract must.
    """
    ident = automation_id(create(ws, name, **fields))
    assert ws.post(f"{W}/automations/{ident}:publish", json={}).status_code == 200
    active = ws.patch(f"{W}/automations/{ident}?update_mask=activation_state",
                      json={"activation_state": "AUTOMATION_ACTIVATION_STATE_ACTIVE"})
    assert active.status_code == 200, active.text
    return ident


def aip_error(response: httpx.Response, status: str) -> dict:
    """Assert an AIP-193 error of the given status and return its body."""
    body = response.json()
    assert set(body) == {"error"}, body
    assert body["error"]["status"] == status, body
    assert body["error"]["code"] == response.status_code
    assert body["error"]["message"]
    return body["error"]
