"""`reconciler state list|show|rm` on a project whose state file was written by the backend."""

from __future__ import annotations

import json

from click.testing import CliRunner

from reconciler.cli import cli
from reconciler.model import ResourceId
from reconciler.state.local import LocalStateBackend
from reconciler.state.model import State, StateEntry

RID = ResourceId("studio", "Automation", "digest")


def project_with_state(tmp_path):
    (tmp_path / "manifests").mkdir()
    (tmp_path / "reconciler.yaml").write_text(
        "version: 1\nmanifests: [manifests/]\nproviders:\n  studio:\n    type: workspace\n"
        "    base_url: sandbox\n    organization_id: o\n    workspace_id: w\n"
    )
    spec = {"description": "d", "webhook": {"headers": "sha256:abc"}}
    state = State(entries={RID: StateEntry("r-1", "workspace", spec, "2026-01-01T00:00:00Z")})
    LocalStateBackend(tmp_path / ".reconciler" / "state.json").write(state.stamped())
    return tmp_path


def run(project, *args):
    return CliRunner().invoke(cli, ["-C", str(project), *args])


def test_state_list_and_show(tmp_path):
    project = project_with_state(tmp_path)
    listed = run(project, "state", "list")
    assert listed.exit_code == 0 and listed.stdout == "studio/Automation/digest\tr-1\n"
    as_json = json.loads(run(project, "state", "list", "--format", "json").stdout)
    assert as_json == {"studio/Automation/digest": "r-1"}
    shown = json.loads(run(project, "state", "show", str(RID)).stdout)
    assert shown["remote_id"] == "r-1" and shown["spec"]["description"] == "d"


def test_state_rm_forgets_the_entry_and_bumps_the_serial(tmp_path):
    project = project_with_state(tmp_path)
    removed = run(project, "state", "rm", str(RID))
    assert removed.exit_code == 0 and "not touched" in removed.stdout
    state = LocalStateBackend(project / ".reconciler" / "state.json").read()
    assert state.entries == {} and state.serial == 2


def test_unknown_identity_is_an_error_with_exit_1(tmp_path):
    project = project_with_state(tmp_path)
    missing = run(project, "state", "show", "studio/Automation/nope")
    assert missing.exit_code == 1 and "not in state" in missing.stderr
    malformed = run(project, "state", "rm", "nope")
    assert malformed.exit_code == 1 and "PROVIDER/KIND/NAME" in malformed.stderr
