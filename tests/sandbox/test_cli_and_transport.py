"""The sandbox CLI and the in-process transport: one world shared through the SQLite file."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from reconciler.cli import cli
from reconciler.sandbox import in_process_transport

from .helpers import W

ROOT = Path(__file__).resolve().parents[2]

WORLD = """\
workspace:
  connections:
    - {connection_id: gmail, connector: gmail}
  automations:
    - display_name: Legacy digest
      connections: [gmail]
      schedule: {cron: "0 6 * * *", timezone: UTC}
outlit:
  automations:
    - key: old-welcome
      signals: [signup-completed]
      destinations: [slack-growth]
      enabled: true
datallog:
  projects:
    - name: finance
      automations: [{name: close-books}]
runs:
  - {automation: Legacy digest, status: failed, error: timeout}
"""


def run(*args: str) -> object:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "world.db"


async def get(db: Path, path: str, headers: dict[str, str]) -> httpx.Response:
    async with httpx.AsyncClient(transport=in_process_transport(db),
                                 base_url="http://sandbox", headers=headers) as client:
        return await client.get(path)


@pytest.mark.anyio
async def test_in_process_transport_serves_the_default_world(db):
    response = await get(db, "/api/signals", {"Authorization": "Bearer sandbox"})
    assert [s["key"] for s in response.json()["data"]["signals"]] == [
        "signup-completed", "trial-expiring", "churn-risk"]


@pytest.mark.anyio
async def test_in_process_transport_answers_platform_errors(db):
    response = await get(db, f"{W}/automations", {})
    assert response.status_code == 401
    assert response.json()["error"]["status"] == "UNAUTHENTICATED"


@pytest.mark.anyio
async def test_seed_and_edit_commands_change_the_world_the_transport_sees(tmp_path, db):
    world = tmp_path / "world.yaml"
    world.write_text(WORLD)
    seeded = run("sandbox", "seed", str(world), "--db", str(db), "--format", "json")
    assert seeded.exit_code == 0, seeded.output
    assert json.loads(seeded.output)["added"]["workspace automations"] == 1
    edited = run("sandbox", "edit", "workspace.schedule", "Legacy digest", "--set",
                 "enabled=false", "--db", str(db))
    assert edited.exit_code == 0, edited.output
    listed = await get(db, f"{W}/automations", {"Authorization": "Bearer sandbox"})
    ident = listed.json()["automations"][0]["name"].rsplit("/", 1)[1]
    schedule = await get(db, f"{W}/automations/{ident}/schedule",
                         {"Authorization": "Bearer sandbox"})
    assert schedule.json()["enabled"] is False
    runs = await get(db, "/api/v1/automation-runs?status=failed", {"X-API-Key": "k"})
    assert runs.json()["items"][0]["automationId"] == ident


def test_seed_with_a_bad_field_names_file_line_and_field(tmp_path, db):
    world = tmp_path / "bad.yaml"
    world.write_text("outlit:\n  signals:\n    - key: a\n      colour: red\n")
    result = CliRunner().invoke(cli, ["sandbox", "seed", str(world), "--db", str(db)])
    assert result.exit_code == 1
    assert f"{world}:3: outlit.signals[0]: unknown field(s) colour" in result.output


def test_edit_of_unknown_target_is_an_error_without_traceback(db):
    result = CliRunner().invoke(cli, ["sandbox", "edit", "nope", "x", "--delete", "--db", str(db)])
    assert result.exit_code == 1
    assert "unknown edit target" in result.output and "Traceback" not in result.output


def test_edit_of_an_unknown_name_lists_the_names_there_are(tmp_path, db):
    world = tmp_path / "world.yaml"
    world.write_text(WORLD)
    run("sandbox", "seed", str(world), "--db", str(db))
    result = CliRunner().invoke(
        cli,
        ["sandbox", "edit", "workspace.automation", "Legacy digst", "--delete", "--db", str(db)],
    )
    assert result.exit_code == 1
    assert "no workspace automation with display_name or id 'Legacy digst'" in result.output
    assert "workspace.automation has: " in result.output and "Legacy digest" in result.output
    keys = CliRunner().invoke(
        cli, ["sandbox", "edit", "outlit.automation", "old-welcom", "--delete", "--db", str(db)]
    )
    assert "outlit.automation has: old-welcome" in keys.output


def test_edit_takes_the_managed_identity_of_an_applied_resource(tmp_path):
    project = tmp_path / "quickstart"
    shutil.copytree(
        ROOT / "examples" / "quickstart", project, ignore=shutil.ignore_patterns(".reconciler")
    )
    assert run("-C", str(project), "sandbox", "edit", "studio/Automation/nightly-digest",
               "--set", "description=x").exit_code == 1  # nothing applied yet: not in state
    assert run("-C", str(project), "apply", "--auto-approve").exit_code == 0
    for identity in ("studio/Automation/nightly-digest", "growth/Automation/trial-nudge"):
        edited = run("-C", str(project), "sandbox", "edit", identity,
                     "--set", "description=edited by hand")
        assert edited.exit_code == 0, edited.output
        assert edited.output == f"edited {identity}\n"
    drift = run("-C", str(project), "drift", "--format", "json")
    assert drift.exit_code == 2
    moved = {c["address"] for c in json.loads(drift.stdout)["resource_changes"]}
    assert moved == {"studio/Automation/nightly-digest", "growth/Automation/trial-nudge"}
    unknown = run("-C", str(project), "sandbox", "edit", "studio/Automation/nightly-digst",
                  "--set", "description=x")
    assert unknown.exit_code == 1
    assert "studio/Automation/nightly-digest" in unknown.output  # what is managed


def test_reset_returns_to_the_default_world(tmp_path, db):
    world = tmp_path / "world.yaml"
    world.write_text(WORLD)
    run("sandbox", "seed", str(world), "--db", str(db))
    assert run("sandbox", "reset", "--db", str(db)).exit_code == 0
    again = run("sandbox", "seed", str(world), "--db", str(db))
    assert again.exit_code == 0, again.output


def test_default_db_lives_in_the_folder_given_with_C(tmp_path):
    result = run("-C", str(tmp_path), "sandbox", "reset")
    assert result.exit_code == 0, result.output
    assert (tmp_path / ".reconciler" / "sandbox.db").is_file()


def test_serve_listens_on_loopback_with_faults(db):
    process = subprocess.Popen(
        [sys.executable, "-c", "from reconciler.cli import main; main()", "sandbox", "serve",
         "--port", "0", "--db", str(db), "--error-every", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        headers = {"Authorization": "Bearer sandbox"}
        statuses = [httpx.get(f"{url}/api/signals", headers=headers).status_code for _ in range(4)]
        assert statuses == [200, 503, 200, 503]
        log = httpx.get(f"{url}/_sandbox/requests").json()["requests"]
        assert [entry["status"] for entry in log] == statuses
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_default_db_is_beside_the_project_file_found_from_a_subfolder(tmp_path):
    (tmp_path / "reconciler.yaml").write_text("version: 1\nproviders: {}\n")
    (tmp_path / "manifests").mkdir()
    result = run("-C", str(tmp_path / "manifests"), "sandbox", "reset")
    assert result.exit_code == 0, result.output
    assert (tmp_path / ".reconciler" / "sandbox.db").is_file()
    assert not (tmp_path / "manifests" / ".reconciler").exists()
