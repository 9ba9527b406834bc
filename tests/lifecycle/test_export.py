"""export -> adopt -> no changes, on a world made by hand on the sandbox; no secret written."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.lifecycle.conftest import Project

SECRET = "sk_live_9f8e7d6c5b4a"  # a destination credential the platform keeps


def hand_made_world(count: int = 50) -> dict:
    """Automations made in the platforms' UIs: schedules, triggers, connections, odd names."""
    connections = [
        {"connection_id": "slack-ops", "connector": "slack"},
        {"connection_id": "hubspot-main", "connector": "hubspot", "latest_version": "3"},
        {"connection_id": "pg_warehouse", "connector": "postgres"},
    ]
    automations = []
    for i in range(count):
        automation: dict = {
            "display_name": ["Lead Router", "lead router", "Über Digest", "Nightly #3"][i % 4]
            if i < 4 else f"Sync {i:02d} — CRM",
            "description": f"made by hand {i}" if i % 3 else "",
            "code": f"def run(inputs, tools):\n    return {{'n': {i}}}\n" if i % 5 else "",
            "english_code": "route leads" if i % 7 == 0 else "",
            "marked_outputs": ["n", "ok"] if i % 4 == 0 else [],
            "connections": [c["connection_id"] for c in connections[: i % 4]],
        }
        if i % 9 == 0:
            automation["stage"] = "draft"
        elif i % 6 == 0:
            automation["activation"] = "deactivated"
        if i % 2 == 0:
            automation["schedule"] = {
                "cron": f"{i % 60} {i % 24} * * *",
                "timezone": "Europe/Berlin" if i % 4 == 0 else "UTC",
                "inputs": {"batch": i} if i % 3 == 0 else {},
                "end": {"end_type": "SCHEDULE_END_TYPE_AFTER_OCCURRENCES", "occurrences": 5}
                if i % 8 == 0 else {"end_type": "SCHEDULE_END_TYPE_NEVER"},
                "enabled": i % 10 != 0,
            }
        if i % 3 == 0:
            automation["triggers"] = [
                {"trigger_id": "inbound", "phase_type": "PHASE_TYPE_MAIN",
                 "phase_sub_type": "PHASE_SUB_TYPE_WEBHOOK", "is_active": i % 2 == 0},
                {"trigger_id": f"mail-{i}", "phase_type": "PHASE_TYPE_PRE",
                 "phase_sub_type": "PHASE_SUB_TYPE_EMAIL"},
            ]
        automations.append(automation)
    outlit = [
        {"key": f"welcome-{i}", "name": f"Welcome #{i}", "enabled": i % 2 == 0,
         "triggerJson": {"event": "signup", "delayMinutes": i},
         "audienceFilterJson": {"plan": "pro"} if i % 3 else {},
         "signals": ["signup-completed"], "destinations": ["crm-push"] if i % 2 else []}
        for i in range(8)
    ]
    return {
        "workspace": {"connections": connections, "automations": automations},
        "outlit": {
            "destinations": [{"key": "crm-push", "name": "CRM push", "enabled": True,
                              "config": {"apiKey": SECRET}}],
            "automations": outlit,
        },
    }


def exported_text(folder: Path) -> str:
    return "\n".join(p.read_text() for p in sorted(folder.rglob("*")) if p.is_file())


def test_export_adopt_then_plan_shows_no_changes(project: Project):
    project.server.seed(hand_made_world())

    exported = project.cli("export")
    assert exported.exit_code == 0, exported.output
    folder = project.root / "manifests"
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.yaml"))
    assert "studio/lead-router.yaml" in files and "studio/lead-router-2.yaml" in files
    assert "studio/connections.yaml" in files and "growth/welcome-3.yaml" in files
    assert len([f for f in files if f.startswith("studio/")]) == 51  # 50 + connections
    assert project.cli("validate").exit_code == 0
    formatted = project.cli("fmt", "--check")
    assert formatted.exit_code == 0, formatted.output

    lead = list(yaml.safe_load_all((folder / "studio" / "lead-router.yaml").read_text()))
    assert [d["kind"] for d in lead][:3] == ["Automation", "Schedule", "Trigger"]
    # 17 automations have a trigger "inbound"; a project manages one per trigger_id
    assert exported.stderr.count("trigger_id 'inbound' is also") == 16
    assert lead[0]["spec"]["display_name"] == "Lead Router"
    assert "code" not in lead[0]["spec"] and "description" not in lead[0]["spec"]  # defaults
    assert lead[0]["spec"]["stage"] == "draft"
    second = next(yaml.safe_load_all((folder / "studio" / "lead-router-2.yaml").read_text()))
    assert second["spec"]["display_name"] == "lead router"
    assert second["spec"]["code_file"] == "code/lead-router-2.py"
    assert "stage" not in second["spec"] and "activation" not in second["spec"]
    code = (folder / "studio" / "code" / "lead-router-2.py").read_text()
    assert code == "def run(inputs, tools):\n    return {'n': 1}\n"

    adopted = project.cli("import", "--all-unmanaged")
    assert adopted.exit_code == 0, adopted.output
    assert "Adopted" in adopted.stdout

    planned = project.cli("plan", "--detailed-exitcode")
    assert planned.exit_code == 0, planned.output
    assert "No changes." in planned.stdout

    again = project.cli("export")
    assert again.exit_code == 0, again.output
    # the other "inbound" triggers are noted again, and counted: never "nothing" to export
    assert "Nothing written: 16 unmanaged live object(s) left out" in again.stdout
    assert again.stderr.count("trigger_id 'inbound' is also") == 16
    assert SECRET not in exported_text(project.root)



def test_export_of_a_world_holding_secrets_writes_no_secret(project: Project):
    world = hand_made_world(6)
    project.server.seed(world)

    exported = project.cli("export", "--adopt")

    assert exported.exit_code == 0, exported.output
    text = exported_text(project.root / "manifests")
    everything = text + exported.output + (project.root / ".reconciler" / "state.json").read_text()
    for secret in (SECRET, "studio-token", "outlit-token", "runs-key"):
        assert secret not in everything
    assert "crm-push" in text  # the destination is named by key, its config never read


def test_a_value_that_cannot_be_read_back_becomes_an_environment_reference():
    from reconciler.export import build_export
    from reconciler.model import LiveResource, ResourceId

    live = LiveResource(
        ResourceId("etl", "Check", "smoke"), "r1",
        {"project": "analytics", "automation": "daily-load", "seed": {},
         "webhook": {"url": "https://hooks.example/x", "headers": {"Authorization": "hunter2"}}},
        managed=False,
    )

    export = build_export([live], {"etl": "datallog"}, [])

    (text,) = export.files().values()
    assert "hunter2" not in text
    assert "Authorization: ${env:ETL_SMOKE_WEBHOOK_HEADERS_AUTHORIZATION}" in text
    assert ("# set ETL_SMOKE_WEBHOOK_HEADERS_AUTHORIZATION: spec.webhook.headers cannot be read "
            "back from the platform") in text
    assert "seed:" not in text  # the default is left out


def test_export_selects_by_kind_and_selector_and_never_overwrites(project: Project):
    project.server.seed(hand_made_world(8))

    picked = project.cli("export", "--kind", "Automation", "--kind", "Schedule",
                         "--selector", "name=lead-*", "--out", "picked")

    assert picked.exit_code == 0, picked.output
    written = sorted(p.relative_to(project.root / "picked").as_posix()
                     for p in (project.root / "picked").rglob("*.yaml"))
    assert written == ["studio/lead-router-2.yaml", "studio/lead-router.yaml"]
    kinds = [d["kind"] for d in yaml.safe_load_all(
        (project.root / "picked" / "studio" / "lead-router.yaml").read_text())]
    assert kinds == ["Automation", "Schedule"]
    assert "is not among the project's manifests paths" in picked.stderr

    (project.root / "picked" / "studio" / "lead-router.yaml").write_text("# mine\n")
    refused = project.cli("export", "--kind", "Automation", "--out", "picked")
    assert refused.exit_code == 1
    assert "refusing to overwrite 1 file(s)" in refused.stderr
    assert (project.root / "picked" / "studio" / "lead-router.yaml").read_text() == "# mine\n"
    assert not (project.root / "picked" / "studio" / "sync-04-crm.yaml").exists()


def test_init_from_live_starts_a_project_from_what_runs(tmp_path, sandbox_server):
    from tests.lifecycle.conftest import PROJECT

    root = tmp_path / "fresh"
    root.mkdir()
    (root / "reconciler.yaml").write_text(PROJECT.format(url=sandbox_server.url))
    sandbox_server.seed(hand_made_world(6))
    project = Project(root, sandbox_server)

    started = project.cli("init", "--from-live")

    assert started.exit_code == 0, started.output
    assert "manifests/studio/lead-router.yaml" in started.stdout
    assert ".gitignore" in started.stdout
    planned = project.cli("plan", "--detailed-exitcode")
    assert planned.exit_code == 0, planned.output

    again = project.cli("init", "--from-live")
    assert again.exit_code == 1
    assert "already declares documents" in again.stderr


def test_code_without_a_final_newline_exports_and_reads_back_unchanged(project: Project):
    """The code file holds the code byte for byte: a newline added on export would read back
    as a change, and plan would fork and publish a new version."""
    project.server.seed({"workspace": {"automations": [
        {"display_name": "legacy-digest", "code": "send_digest()"}]}})
    exported = project.cli("export", "--adopt")
    assert exported.exit_code == 0, exported.output
    code = project.root / "manifests" / "studio" / "code" / "legacy-digest.py"
    assert code.read_bytes() == b"send_digest()"
    planned = project.cli("plan", "--detailed-exitcode")
    assert planned.exit_code == 0, planned.output
