"""`reconciler state list|show|rm` on a project whose state file was written by the backend."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import textwrap

import pytest
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


STATE_FILE = ".reconciler/state.json"


@pytest.mark.parametrize(
    ("content", "where"),
    [
        (b'{"format": 1, "serial": "abc", "resources": {}}',
         "state.json: serial: expected a whole number"),
        (b'{"format": 1, "serial": 1, "resources": []}',
         "state.json: resources: expected an object"),
        (b'{"format": 1, "resources": {"studio/Automation/x": [1]}}',
         'state.json: resources["studio/Automation/x"]: expected an object, found a list'),
        (b'{"format": 1, "resources": {"studio/Automation/x": {"spec": "s", "remote_id": 1}}}',
         'resources["studio/Automation/x"].remote_id: expected a string, found a number'),
        (b'{"format": 1, "resources": {"studio/Automation/x": {"prevent_destroy": "no"}}}',
         ".prevent_destroy: expected true or false, found a string"),
        (bytes(range(256)) * 4, "state.json is not text (byte 128 is not UTF-8)"),
        (b"[" * 100_000, "state.json is not valid JSON"),
    ],
    ids=["serial-string", "resources-list", "entry-list", "entry-field", "flag", "binary", "deep"],
)
def test_a_damaged_state_file_names_the_file_and_field_and_how_to_recover(tmp_path, content,
                                                                         where):
    project = project_with_state(tmp_path)
    (project / STATE_FILE).write_bytes(content)
    for args in (["state", "list"], ["plan"], ["apply", "--auto-approve"]):
        result = run(project, *args)
        assert result.exit_code == 1, result.output
        assert "internal error" not in result.stderr and "Traceback" not in result.stderr
        assert where in result.stderr
        assert "state was not changed; restore the file from a backup" in result.stderr
    assert (project / STATE_FILE).read_bytes() == content  # nothing lost


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        (b"1e999\n", "expected an object, found a number"),
        (b"[1, 2]\n", "expected an object, found a list"),
        (b'{"serial": 2, "lineage": "L", "salt": "s", "set": {}, "remove": [3]}\n',
         "remove: expected a list of resource identities"),
        (b'{"serial": 2, "lineage": "L", "salt": "s", "set": {"studio/Automation/x": '
         b'{"spec": []}}, "remove": []}\n', 'set["studio/Automation/x"].spec: expected an object'),
        (b"\xff\xfe\x00garbage\n", "not text"),
        (bytes(range(128, 256)), "not text"),  # no newline, yet no torn line: damage, not a kill
    ],
    ids=["huge-number", "list", "remove", "entry", "binary-line", "binary-file"],
)
def test_a_damaged_journal_names_the_journal_and_the_line(tmp_path, line, problem):
    project = project_with_state(tmp_path)
    lineage = json.loads((project / STATE_FILE).read_text())["lineage"]
    journal = project / (STATE_FILE + ".journal")
    good = json.dumps({"serial": 2, "lineage": lineage, "salt": "s", "set": {}, "remove": []})
    content = good.encode() + b"\n" + line.replace(b'"L"', json.dumps(lineage).encode())
    journal.write_bytes(content)
    result = run(project, "state", "list")
    assert result.exit_code == 1 and "internal error" not in result.stderr
    assert f"state.json.journal:2: not a state journal line ({problem}" in result.stderr
    assert "state was not changed; move the journal aside" in result.stderr
    assert journal.read_bytes() == content


def test_a_journal_line_cut_off_by_a_kill_is_still_ignored(tmp_path):
    project = project_with_state(tmp_path)
    (project / (STATE_FILE + ".journal")).write_bytes(b'{"lineage": "abc", "seri')
    listed = run(project, "state", "list")
    assert listed.exit_code == 0 and listed.stdout == "studio/Automation/digest\tr-1\n"


def test_an_apply_waiting_for_the_lock_says_who_holds_it_and_for_how_long(tmp_path):
    project = project_with_state(tmp_path)
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys
            from reconciler.state.local import LocalStateBackend
            with LocalStateBackend({str(project / STATE_FILE)!r}).lock(5, "reconciler apply"):
                print("locked", flush=True)
                sys.stdin.readline()
        """)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        waited = run(project, "apply", "--auto-approve", "--lock-timeout", "0.3")
        quick = run(project, "apply", "--auto-approve")  # the default: fail at once
    finally:
        holder.communicate("\n", timeout=10)
    held_by = f"@{socket.gethostname()} (pid {holder.pid}, reconciler apply) since 20"
    waiting = [line for line in waited.stderr.splitlines() if line.startswith("Waiting")]
    assert len(waiting) == 1, waited.stderr
    assert waiting[0].startswith(f"Waiting up to 0.3s for the state lock of {project / STATE_FILE}"
                                 ", held by ")
    assert held_by in waiting[0] and waiting[0].endswith("(--lock-timeout sets how long)")
    assert waited.exit_code == 1 and held_by in waited.stderr and "waited 0.3s" in waited.stderr
    assert quick.exit_code == 1 and "Waiting" not in quick.stderr and held_by in quick.stderr
