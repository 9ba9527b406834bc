"""Workspace automations over loopback: CRUD, stages, versioning, revisions, strictness."""

from __future__ import annotations

import pytest

from .helpers import W, aip_error, automation_id, create, published


def test_create_returns_draft_0_1_unspecified_activation(ws):
    automation = create(ws, description="d", code="x = 1", marked_outputs=["total"])
    assert automation["version"] == "0.1"
    assert automation["activation_state"] == "AUTOMATION_ACTIVATION_STATE_UNSPECIFIED"
    assert automation["name"].startswith("organizations/org-1/workspaces/ws-1/automations/")
    assert len(automation_id(automation)) == 21
    assert automation["marked_outputs"] == ["total"]


def test_create_with_taken_display_name_is_already_exists(ws):
    create(ws)
    response = ws.post(f"{W}/automations", json={"display_name": "Nightly report"})
    assert response.status_code == 409
    aip_error(response, "ALREADY_EXISTS")


def test_create_rejects_unknown_and_missing_fields(ws):
    unknown = ws.post(f"{W}/automations", json={"display_name": "a", "colour": "red"})
    assert unknown.status_code == 400
    assert "colour" in aip_error(unknown, "INVALID_ARGUMENT")["message"]
    missing = ws.post(f"{W}/automations", json={"description": "no name"})
    assert "display_name" in aip_error(missing, "INVALID_ARGUMENT")["message"]


def test_wrong_auth_scheme_is_unauthenticated(server):
    import httpx

    response = httpx.get(f"{server.url}{W}/automations", headers={"Authorization": "Token x"})
    assert response.status_code == 401
    aip_error(response, "UNAUTHENTICATED")


def test_get_returns_latest_version_and_unknown_id_is_not_found(ws):
    ident = automation_id(create(ws))
    assert ws.get(f"{W}/automations/{ident}").json()["version"] == "0.1"
    aip_error(ws.get(f"{W}/automations/nope"), "NOT_FOUND")


def test_publish_fork_patch_publish_follows_the_version_scheme(ws):
    ident = automation_id(create(ws))
    url = f"{W}/automations/{ident}"
    patched = ws.patch(f"{url}?update_mask=description", json={"description": "b"})
    assert patched.json()["version"] == "0.2"
    first = ws.post(f"{W}/automations/{ident}:publish", json={}).json()
    assert (first["version"], first["latest_published_version"]) == ("1.0", "1.0")
    # what the first publish does to activation is a world setting (default: deactivated)
    assert first["activation_state"] == "AUTOMATION_ACTIVATION_STATE_DEACTIVATED"
    assert first["publish_time"]
    assert ws.post(f"{W}/automations/{ident}:forkPublished", json={}).json()["version"] == "1.1"
    again = ws.patch(f"{W}/automations/{ident}?update_mask=code", json={"code": "y = 2"}).json()
    assert again["version"] == "1.2"
    second = ws.post(f"{W}/automations/{ident}:publish", json={}).json()
    assert (second["version"], second["code"]) == ("2.0", "y = 2")


def test_patch_of_published_is_failed_precondition(ws):
    ident = published(ws)
    url = f"{W}/automations/{ident}"
    response = ws.patch(f"{url}?update_mask=description", json={"description": "x"})
    assert "forkPublished" in aip_error(response, "FAILED_PRECONDITION")["message"]


def test_patch_without_update_mask_or_with_read_only_field_is_invalid(ws):
    ident = automation_id(create(ws))
    aip_error(ws.patch(f"{W}/automations/{ident}", json={"description": "x"}), "INVALID_ARGUMENT")
    response = ws.patch(f"{W}/automations/{ident}?update_mask=version", json={"version": "9.0"})
    assert "version" in aip_error(response, "INVALID_ARGUMENT")["message"]


def test_publish_without_draft_and_fork_with_draft_are_failed_precondition(ws):
    ident = published(ws)
    aip_error(ws.post(f"{W}/automations/{ident}:publish", json={}), "FAILED_PRECONDITION")
    ws.post(f"{W}/automations/{ident}:forkPublished", json={})
    aip_error(ws.post(f"{W}/automations/{ident}:forkPublished", json={}), "FAILED_PRECONDITION")


def test_fork_of_never_published_is_failed_precondition(ws):
    ident = automation_id(create(ws))
    aip_error(ws.post(f"{W}/automations/{ident}:forkPublished", json={}), "FAILED_PRECONDITION")


def test_publish_rejects_a_non_empty_body(ws):
    ident = automation_id(create(ws))
    response = ws.post(f"{W}/automations/{ident}:publish", json={"force": True})
    aip_error(response, "INVALID_ARGUMENT")


def test_activation_changes_alone_on_published_automations(ws):
    ident = published(ws)
    url = f"{W}/automations/{ident}?update_mask=activation_state"
    off = ws.patch(url, json={"activation_state": "AUTOMATION_ACTIVATION_STATE_DEACTIVATED"})
    assert off.json()["activation_state"] == "AUTOMATION_ACTIVATION_STATE_DEACTIVATED"
    assert off.json()["version"] == "1.0"
    mixed = ws.patch(f"{W}/automations/{ident}?update_mask=activation_state,description",
                     json={"activation_state": "AUTOMATION_ACTIVATION_STATE_ACTIVE"})
    aip_error(mixed, "INVALID_ARGUMENT")


def test_activation_of_a_never_published_draft_is_failed_precondition(ws):
    ident = automation_id(create(ws))
    response = ws.patch(f"{W}/automations/{ident}?update_mask=activation_state",
                        json={"activation_state": "AUTOMATION_ACTIVATION_STATE_ACTIVE"})
    aip_error(response, "FAILED_PRECONDITION")


def test_query_picks_the_stage(ws):
    ident = published(ws, description="old")
    ws.post(f"{W}/automations/{ident}:forkPublished", json={})
    ws.patch(f"{W}/automations/{ident}?update_mask=description", json={"description": "new"})
    draft = ws.get(f"{W}/automations/{ident}:query?stage=AUTOMATION_STAGE_DRAFT").json()
    live = ws.get(f"{W}/automations/{ident}:query?stage=AUTOMATION_STAGE_PUBLISHED").json()
    assert (draft["version"], draft["description"]) == ("1.2", "new")
    assert (live["version"], live["description"]) == ("1.0", "old")


def test_query_without_stage_or_missing_stage_version_fails(ws):
    ident = automation_id(create(ws))
    aip_error(ws.get(f"{W}/automations/{ident}:query"), "INVALID_ARGUMENT")
    response = ws.get(f"{W}/automations/{ident}:query?stage=AUTOMATION_STAGE_PUBLISHED")
    aip_error(response, "NOT_FOUND")


def test_list_pages_in_update_order_and_hides_deleted(ws):
    ids = [automation_id(create(ws, f"a{i}")) for i in range(5)]
    first = ws.get(f"{W}/automations?page_size=2").json()
    assert [automation_id(a) for a in first["automations"]] == ids[::-1][:2]
    seen = [automation_id(a) for a in first["automations"]]
    token = first["next_page_token"]
    while token:
        page = ws.get(f"{W}/automations", params={"page_size": 2, "page_token": token}).json()
        seen += [automation_id(a) for a in page["automations"]]
        token = page.get("next_page_token")
    assert seen == ids[::-1]
    deleted = ws.delete(f"{W}/automations/{ids[0]}").json()
    assert deleted["delete_time"] and deleted["purge_time"]
    visible = ws.get(f"{W}/automations?page_size=100").json()
    assert ids[0] not in [automation_id(a) for a in visible["automations"]]
    assert "next_page_token" not in visible
    everything = ws.get(f"{W}/automations?page_size=100&show_deleted=true").json()
    assert ids[0] in [automation_id(a) for a in everything["automations"]]


def test_list_default_page_is_ten_and_large_sizes_are_coerced(ws):
    for i in range(11):
        create(ws, f"a{i}")
    assert len(ws.get(f"{W}/automations").json()["automations"]) == 10
    assert len(ws.get(f"{W}/automations?page_size=5000").json()["automations"]) == 11


def test_list_with_negative_page_size_or_bad_token_is_invalid(ws):
    aip_error(ws.get(f"{W}/automations?page_size=-1"), "INVALID_ARGUMENT")
    aip_error(ws.get(f"{W}/automations?page_token=garbage!"), "INVALID_ARGUMENT")


def test_list_filters_by_state(ws):
    published(ws, "live")
    create(ws, "draft")
    body = ws.get(f'{W}/automations?filter=state = "PUBLISHED"').json()
    assert [a["display_name"] for a in body["automations"]] == ["live"]


def test_deleted_automation_is_not_found_and_frees_its_name(ws):
    ident = automation_id(create(ws))
    ws.delete(f"{W}/automations/{ident}")
    aip_error(ws.get(f"{W}/automations/{ident}"), "NOT_FOUND")
    aip_error(ws.delete(f"{W}/automations/{ident}"), "NOT_FOUND")
    create(ws)


def test_revisions_list_newest_first_with_latest_alias(ws):
    ident = published(ws)
    body = ws.get(f"{W}/automations/{ident}/revisions").json()
    assert [r["snapshot"]["version"] for r in body["revisions"]] == ["1.0", "0.1"]
    assert body["revisions"][0]["alternate_ids"] == ["latest"]
    assert body["revisions"][0]["name"].endswith(f"/automations/{ident}/revisions/1.0")
    drafts = ws.get(f'{W}/automations/{ident}/revisions?filter=stage = "DRAFT"').json()
    assert [r["snapshot"]["version"] for r in drafts["revisions"]] == ["0.1"]
    latest = ws.get(f"{W}/automations/{ident}/revisions/latest").json()
    assert latest["snapshot"]["version"] == "1.0"
    assert ws.get(f"{W}/automations/{ident}/revisions/0.1").json()["snapshot"]["version"] == "0.1"


def test_unknown_revision_and_bad_filter_fail(ws):
    ident = automation_id(create(ws))
    aip_error(ws.get(f"{W}/automations/{ident}/revisions/7.0"), "NOT_FOUND")
    aip_error(ws.get(f"{W}/automations/{ident}/revisions?filter=colour = 1"), "INVALID_ARGUMENT")


def test_visualization_follows_the_published_version(ws):
    ident = published(ws)
    body = ws.get(f"{W}/automations/{ident}/visualization").json()
    assert body["automation_version"] == "1.0"
    assert body["state"] == "VISUALIZATION_STATE_COMPLETED"
    draft = automation_id(create(ws, "draft only"))
    aip_error(ws.get(f"{W}/automations/{draft}/visualization"), "NOT_FOUND")


def test_unknown_custom_method_is_not_found(ws):
    ident = automation_id(create(ws))
    aip_error(ws.post(f"{W}/automations/{ident}:explode", json={}), "NOT_FOUND")


def test_unknown_route_and_method_answer_in_the_platform_shape(ws):
    aip_error(ws.get(f"{W}/gadgets"), "NOT_FOUND")
    response = ws.put(f"{W}/automations")
    assert response.status_code == 405
    aip_error(response, "UNIMPLEMENTED")


@pytest.mark.parametrize(("setting", "state"), [
    ("active", "AUTOMATION_ACTIVATION_STATE_ACTIVE"),
    ("deactivated", "AUTOMATION_ACTIVATION_STATE_DEACTIVATED"),
    ("unspecified", "AUTOMATION_ACTIVATION_STATE_UNSPECIFIED"),
])
def test_what_the_first_publish_does_to_activation_is_a_world_setting(server, ws, setting, state):
    server.set_settings(first_publish_activation=setting)
    ident = automation_id(create(ws))
    first = ws.post(f"{W}/automations/{ident}:publish", json={}).json()
    assert first["activation_state"] == state
    ws.patch(f"{W}/automations/{ident}?update_mask=activation_state",
             json={"activation_state": "AUTOMATION_ACTIVATION_STATE_ACTIVE"})
    ws.post(f"{W}/automations/{ident}:forkPublished", json={})
    second = ws.post(f"{W}/automations/{ident}:publish", json={}).json()
    assert second["activation_state"] == "AUTOMATION_ACTIVATION_STATE_ACTIVE"  # later: kept


def test_world_settings_are_checked_and_reset_with_the_world(server):
    with pytest.raises(ValueError, match="first_publish_activation must be one of"):
        server.set_settings(first_publish_activation="sometimes")
    with pytest.raises(ValueError, match="unknown setting"):
        server.set_settings(publish_activates=True)
    assert server.set_settings(first_publish_activation="active") == {
        "first_publish_activation": "active"}
    server.reset()
    assert server.admin("GET", "settings").json()["settings"] == {
        "first_publish_activation": "deactivated"}
    server.seed({"settings": {"first_publish_activation": "unspecified"}})
    assert server.admin("GET", "settings").json()["settings"] == {
        "first_publish_activation": "unspecified"}
