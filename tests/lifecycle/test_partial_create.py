"""A create whose later steps fail leaves an object on the platform: state must record it.

Both cases run the CLI against the embedded sandbox: an Outlit automation whose enable is
refused (its only destination is disabled), and a workspace automation whose addConnections
names a connection that does not exist. The object is made, the operation fails, and the
object is in state as unfinished: the next plan finishes it, removing its manifest removes it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from reconciler.cli import cli

PROJECT = """\
version: 1
manifests: [manifests/]
providers:
  studio:
    type: workspace
    base_url: sandbox
    organization_id: org_demo
    workspace_id: ws_ops
  growth:
    type: outlit
    base_url: sandbox
state:
  backend: local
  path: .reconciler/state.json
"""

OUTLIT = """\
apiVersion: reconciler/v1
kind: Automation
metadata:
  name: churn-alert
  provider: growth
spec:
  name: Churn alert
  trigger:
    type: signal
    signal: trial-expiring
  signals:
    - trial-expiring
  destinations:
    - email-digest
  enabled: true
"""

WORKSPACE = """\
apiVersion: reconciler/v1
kind: Automation
metadata:
  name: enricher
  provider: studio
spec:
  description: Enriches leads.
  code: print("hello")
  connections:
    - conn-that-does-not-exist
"""


@pytest.fixture(autouse=True)
def no_color(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")


def run(project: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["-C", str(project), *args], catch_exceptions=False)


def make(tmp_path: Path, manifest: str) -> Path:
    (tmp_path / "manifests").mkdir()
    (tmp_path / "reconciler.yaml").write_text(PROJECT)
    (tmp_path / "manifests" / "one.yaml").write_text(manifest)
    return tmp_path


def plan_json(project: Path, *args: str) -> dict:
    result = run(project, "plan", "--format", "json", *args)
    assert result.exit_code in (0, 2), result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize(("manifest", "rid", "left"), [
    (OUTLIT, "growth/Automation/churn-alert", "POST enable"),
    (WORKSPACE, "studio/Automation/enricher", "addConnections conn-that-does-not-exist"),
], ids=["outlit-enable-refused", "workspace-unknown-connection"])
def test_an_object_a_failed_create_made_is_recorded_and_stays_managed(
        tmp_path, manifest, rid, left):
    project = make(tmp_path, manifest)
    applied = run(project, "apply", "--auto-approve")
    assert applied.exit_code == 1, applied.output
    # the failure says the object was made, that state records it, and what is left
    assert "created" in applied.stderr and "recorded in state" in applied.stderr
    assert left in applied.stderr

    shown = run(project, "state", "show", rid)
    assert shown.exit_code == 0, shown.output
    entry = json.loads(shown.stdout)
    assert entry["remote_id"] and entry["partial"] is True

    # the next plan sees it as managed and plans only what is left, saying why
    again = plan_json(project)
    ops = [op for op in again["resource_changes"] if op["address"] == rid]
    assert len(ops) == 1 and ops[0]["actions"] in (["enable"], ["update"]), ops
    assert ops[0]["reason"] == "left unfinished by a failed apply"
    assert not again["unmanaged"]

    # removing its manifest plans its removal: it is not an unmanaged stranger
    (project / "manifests" / "one.yaml").unlink()
    gone = plan_json(project, "--allow-remove-all")
    removal = [op["actions"] for op in gone["resource_changes"] if op["address"] == rid]
    assert removal == [["remove"]] and not gone["unmanaged"], gone
    removed = run(project, "apply", "--auto-approve", "--allow-remove-all")
    assert removed.exit_code == 0, removed.output
    assert json.loads(run(project, "state", "list", "--format", "json").stdout) == {}
    # gone from the platform: its manifest back, nothing is found to adopt
    (project / "manifests" / "one.yaml").write_text(manifest)
    after = plan_json(project)
    assert [op["actions"] for op in after["resource_changes"]] == [["create"]], after


@pytest.mark.parametrize(("manifest", "fixed"), [
    (OUTLIT, OUTLIT.replace("email-digest", "slack-growth")),
    (WORKSPACE, WORKSPACE.replace("  connections:\n    - conn-that-does-not-exist\n", "")),
], ids=["outlit", "workspace"])
def test_once_the_cause_is_fixed_apply_finishes_the_same_object(tmp_path, manifest, fixed):
    project = make(tmp_path, manifest)
    assert run(project, "apply", "--auto-approve").exit_code == 1
    state = json.loads((project / ".reconciler" / "state.json").read_text())
    [(rid, first)] = state["resources"].items()
    assert first["partial"] is True

    (project / "manifests" / "one.yaml").write_text(fixed)
    finished = run(project, "apply", "--auto-approve")
    assert finished.exit_code == 0, finished.output
    assert "left unfinished by a failed apply" in finished.stdout
    entry = json.loads(run(project, "state", "show", rid).stdout)
    # the same object, now recorded as applied: no second object, no partial mark
    assert entry["remote_id"] == first["remote_id"] and "partial" not in entry
    settled = run(project, "plan", "--detailed-exitcode")
    assert settled.exit_code == 0, settled.output


def test_an_unfinished_object_finished_by_hand_is_recorded_without_a_call(tmp_path):
    project = make(tmp_path, OUTLIT.replace("  enabled: true\n", "  enabled: false\n"))
    # an entry left unfinished whose object was then finished on the platform by hand
    assert run(project, "apply", "--auto-approve").exit_code == 0
    rid = "growth/Automation/churn-alert"
    path = project / ".reconciler" / "state.json"
    state = json.loads(path.read_text())
    state["resources"][rid]["partial"] = True
    path.write_text(json.dumps(state))
    again = plan_json(project)
    [op] = again["resource_changes"]
    assert op["actions"] == ["adopt"] and op["reason"] == "left unfinished by a failed apply"
    assert run(project, "apply", "--auto-approve").exit_code == 0
    assert "partial" not in json.loads(run(project, "state", "show", rid).stdout)
