"""Workspace schedules (enabled read-only, next run times) and triggers."""

from __future__ import annotations

from datetime import datetime
from itertools import pairwise
from zoneinfo import ZoneInfo

from .helpers import BASE, W, aip_error, automation_id, create

CONFIG = {"cron": "30 9 * * 1-5", "timezone": "Europe/Berlin", "inputs": {"k": 1},
          "end": {"end_type": "SCHEDULE_END_TYPE_NEVER"}}


def schedule_url(ws) -> str:
    return f"{W}/automations/{automation_id(create(ws))}/schedule"


def test_new_schedule_is_enabled_with_five_next_runs_in_its_time_zone(ws):
    body = ws.post(schedule_url(ws), json={"config": CONFIG}).json()
    assert body["enabled"] is True
    assert len(body["next_run_times"]) == 5
    for text in body["next_run_times"]:
        local = datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(
            ZoneInfo("Europe/Berlin"))
        assert (local.hour, local.minute) == (9, 30)
        assert local.weekday() < 5
    assert body["config"] == CONFIG


def test_after_occurrences_limits_runs_and_reports_the_remainder(ws):
    config = {**CONFIG, "end": {"end_type": "SCHEDULE_END_TYPE_AFTER_OCCURRENCES",
                                "occurrences": 3}}
    body = ws.post(schedule_url(ws), json={"config": config}).json()
    assert len(body["next_run_times"]) == 3
    assert body["remaining_occurrences"] == 3


def test_second_schedule_is_already_exists_and_missing_one_is_not_found(ws):
    url = schedule_url(ws)
    aip_error(ws.get(url), "NOT_FOUND")
    ws.post(url, json={"config": CONFIG})
    aip_error(ws.post(url, json={"config": CONFIG}), "ALREADY_EXISTS")


def test_invalid_cron_time_zone_or_fields_are_invalid_argument(ws):
    url = schedule_url(ws)
    aip_error(ws.post(url, json={"config": {**CONFIG, "cron": "every day"}}), "INVALID_ARGUMENT")
    aip_error(ws.post(url, json={"config": {**CONFIG, "timezone": "Mars/Base"}}),
              "INVALID_ARGUMENT")
    aip_error(ws.post(url, json={"config": CONFIG, "paused": True}), "INVALID_ARGUMENT")


def test_enabled_is_read_only_and_changes_through_enable_disable(ws):
    url = schedule_url(ws)
    ws.post(url, json={"config": CONFIG})
    response = ws.patch(f"{url}?update_mask=config", json={"config": CONFIG, "enabled": False})
    assert "read-only" in aip_error(response, "INVALID_ARGUMENT")["message"]
    base = url.removesuffix("/schedule")
    off = ws.post(f"{base}:disableAutomationSchedule", json={}).json()
    assert off["enabled"] is False and off["next_run_times"] == []
    assert ws.get(url).json()["enabled"] is False
    assert ws.post(f"{base}:enableAutomationSchedule", json={}).json()["enabled"] is True


def test_enable_without_schedule_is_not_found(ws):
    ident = automation_id(create(ws))
    aip_error(ws.post(f"{W}/automations/{ident}:enableAutomationSchedule", json={}), "NOT_FOUND")


def test_patch_replaces_the_config_with_or_without_update_mask(ws):
    # the seed shows no update_mask on this call: a conforming client may send none
    url = schedule_url(ws)
    ws.post(url, json={"config": CONFIG})
    bare = ws.patch(url, json={"config": {"cron": "15 1 * * *", "timezone": "Europe/Berlin"}})
    assert bare.status_code == 200, bare.text
    assert bare.json()["config"]["cron"] == "15 1 * * *"
    changed = ws.patch(f"{url}?update_mask=config", json={"config": {"cron": "0 0 * * *"}}).json()
    assert changed["config"]["cron"] == "0 0 * * *"
    assert changed["config"]["timezone"] == "UTC"
    aip_error(ws.patch(f"{url}?update_mask=enabled", json={"config": CONFIG}),
              "INVALID_ARGUMENT")


def test_delete_removes_the_schedule(ws):
    url = schedule_url(ws)
    ws.post(url, json={"config": CONFIG})
    assert ws.delete(url).json() == {}
    aip_error(ws.delete(url), "NOT_FOUND")


TRIGGER = {"trigger_id": "mail-in", "phase_type": "PHASE_TYPE_MAIN",
           "phase_sub_type": "PHASE_SUB_TYPE_EMAIL", "is_active": True}


def test_trigger_create_list_update_delete(ws):
    ident = automation_id(create(ws))
    url = f"{W}/automations/{ident}/triggers"
    created = ws.post(url, json=TRIGGER).json()
    assert created == {**TRIGGER, "automation": f"{BASE}/automations/{ident}"}
    assert ws.get(url).json()["triggers"] == [created]
    updated = ws.patch(f"{url}/mail-in?update_mask=is_active", json={"is_active": False}).json()
    assert updated["is_active"] is False
    assert ws.delete(f"{url}/mail-in").status_code == 200
    assert ws.get(url).json()["triggers"] == []


def test_trigger_errors(ws):
    ident = automation_id(create(ws))
    url = f"{W}/automations/{ident}/triggers"
    ws.post(url, json=TRIGGER)
    aip_error(ws.post(url, json=TRIGGER), "ALREADY_EXISTS")
    aip_error(ws.post(url, json={"trigger_id": "x"}), "INVALID_ARGUMENT")
    aip_error(ws.post(url, json={**TRIGGER, "trigger_id": "y", "phase_type": "LATE"}),
              "INVALID_ARGUMENT")
    aip_error(ws.patch(f"{url}/mail-in", json={"is_active": False}), "INVALID_ARGUMENT")
    aip_error(ws.delete(f"{url}/nope"), "NOT_FOUND")


def test_trigger_list_pages(ws):
    ident = automation_id(create(ws))
    url = f"{W}/automations/{ident}/triggers"
    for i in range(3):
        ws.post(url, json={**TRIGGER, "trigger_id": f"t{i}"})
    first = ws.get(f"{url}?page_size=2").json()
    assert len(first["triggers"]) == 2
    rest = ws.get(url, params={"page_token": first["next_page_token"]}).json()
    assert [t["trigger_id"] for t in rest["triggers"]] == ["t2"]


def test_triggers_of_unknown_automation_or_trigger_are_not_found(ws):
    aip_error(ws.get(f"{W}/automations/nope/triggers"), "NOT_FOUND")
    ident = automation_id(create(ws))
    aip_error(ws.patch(f"{W}/automations/{ident}/triggers/nope?update_mask=is_active",
                       json={"is_active": False}), "NOT_FOUND")
    aip_error(ws.delete(f"{W}/automations/{ident}/triggers/nope"), "NOT_FOUND")


def test_disable_without_schedule_is_not_found_and_rejects_a_body(ws):
    ident = automation_id(create(ws))
    url = f"{W}/automations/{ident}:disableAutomationSchedule"
    aip_error(ws.post(url, json={}), "NOT_FOUND")
    aip_error(ws.post(url, json={"enabled": False}), "INVALID_ARGUMENT")


def test_each_automation_lists_only_its_own_triggers_in_creation_order(ws):
    first = automation_id(create(ws, "First"))
    second = automation_id(create(ws, "Second"))
    for ident, names in ((first, ["b", "a"]), (second, ["a", "c", "b"])):
        for name in names:
            ws.post(f"{W}/automations/{ident}/triggers", json={**TRIGGER, "trigger_id": name})
    listed = {ident: [t["trigger_id"] for t in
                      ws.get(f"{W}/automations/{ident}/triggers").json()["triggers"]]
              for ident in (first, second)}
    assert listed == {first: ["b", "a"], second: ["a", "c", "b"]}


def test_next_run_times_are_always_after_now(ws):
    url = schedule_url(ws)
    every_minute = {**CONFIG, "cron": "* * * * *", "timezone": "UTC"}
    ws.post(url, json={"config": every_minute})
    for _ in range(2):
        before = datetime.now(ZoneInfo("UTC"))
        times = [datetime.fromisoformat(t.replace("Z", "+00:00"))
                 for t in ws.get(url).json()["next_run_times"]]
        assert times[0] > before and times == sorted(times)
        assert all((b - a).total_seconds() == 60 for a, b in pairwise(times))


def test_a_cron_that_never_fires_is_refused_and_nothing_is_kept(ws):
    url = schedule_url(ws)
    automations = f"{W}/automations"
    before = ws.get(automations).json()
    for cron in ("0 0 30 2 *", "0 0 31 4 *", "0 0 L * 5#3"):
        response = ws.post(url, json={"config": {**CONFIG, "cron": cron}})
        assert response.status_code == 400, response.text
        assert "never fires" in aip_error(response, "INVALID_ARGUMENT")["message"]
        aip_error(ws.get(url), "NOT_FOUND")  # the refused create kept nothing
    created = ws.post(url, json={"config": CONFIG}).json()
    refused = ws.patch(url, json={"config": {**CONFIG, "cron": "0 0 30 2 *"}})
    aip_error(refused, "INVALID_ARGUMENT")
    # the world stays readable and as it was
    assert ws.get(url).json()["config"] == created["config"]
    after = ws.get(automations)
    assert after.status_code == 200, after.text
    assert after.json() == before


def test_february_29_is_a_schedule_that_fires_in_leap_years(ws):
    body = ws.post(schedule_url(ws), json={"config": {**CONFIG, "cron": "0 0 29 2 *",
                                                        "timezone": "UTC"}}).json()
    assert body["next_run_times"]
    assert all("-02-29T" in text for text in body["next_run_times"])


def test_a_world_holding_a_schedule_that_never_fires_stays_readable(ws, server):
    # a world written before such crons were refused: reading it must not fail
    from reconciler.sandbox.store import Store
    from reconciler.sandbox.workspace_schedules import SCHEDULE

    url = schedule_url(ws)
    ws.post(url, json={"config": CONFIG})
    ident = url.rsplit("/", 2)[1]
    store = Store(server.db_path)
    try:
        with store.transaction():
            doc = store.get(SCHEDULE, ident)
            doc["config"]["cron"] = "0 0 30 2 *"
            store.put(SCHEDULE, ident, doc)
    finally:
        store.close()
    response = ws.get(url)
    assert response.status_code == 200, response.text
    assert response.json()["next_run_times"] == []
    assert ws.get(f"{W}/automations").status_code == 200
