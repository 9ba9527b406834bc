from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap

import pytest

from reconciler.errors import StateError, StateLockError
from reconciler.model import ResourceId
from reconciler.state.local import LocalStateBackend
from reconciler.state.model import State, StateEntry, StateShapeError

RID = ResourceId("studio", "Automation", "digest")


def entry(**spec):
    return StateEntry("rid-1", "workspace", spec, "2026-01-01T00:00:00Z", "m.yaml:3")


def test_missing_state_reads_as_empty(tmp_path):
    state = LocalStateBackend(tmp_path / "state.json").read()
    assert (state.serial, state.lineage, state.entries) == (0, "", {})


def test_write_then_read_round_trips_with_lineage_and_serial(tmp_path):
    backend = LocalStateBackend(tmp_path / "s" / "state.json")
    state = State(entries={RID: entry(description="x")})
    backend.write(state.stamped())
    backend.write(state.stamped())
    again = backend.read()
    assert again.serial == 2 and again.lineage == state.lineage and len(again.lineage) == 36
    assert again.entries[RID].spec == {"description": "x"}
    assert again.salt == state.salt
    leftovers = [p.name for p in (tmp_path / "s").iterdir() if p.name != "state.json"]
    assert leftovers == []  # the temp file was renamed, not left behind


OTHER = ResourceId("studio", "Schedule", "daily")


def test_an_unfinished_entry_keeps_its_mark_and_a_damaged_mark_is_named(tmp_path):
    backend = LocalStateBackend(tmp_path / "state.json")
    unfinished = entry(description="x")
    unfinished.partial = True
    backend.write(State(entries={RID: unfinished, OTHER: entry(cron="0 3 * * *")}).stamped())
    again = backend.read()
    assert again.entries[RID].partial and not again.entries[OTHER].partial
    stored = json.loads((tmp_path / "state.json").read_text())["resources"]
    assert stored[str(RID)]["partial"] is True and "partial" not in stored[str(OTHER)]
    with pytest.raises(StateShapeError, match=r"^here\.partial: expected true or false"):
        StateEntry.from_json({**stored[str(RID)], "partial": "yes"}, "here")


def test_recorded_outcomes_are_journaled_and_folded_in_by_read_and_write(tmp_path):
    backend = LocalStateBackend(tmp_path / "state.json")
    state = State(entries={RID: entry(description="x")})
    backend.write(state.stamped())
    state.entries[OTHER] = entry(cron="0 3 * * *")
    backend.record(state.stamped(), {OTHER: state.entries[OTHER]})
    del state.entries[RID]
    backend.record(state.stamped(), {RID: None})
    # the file was not rewritten; two lines wait in the journal, and a read folds them in
    assert json.loads((tmp_path / "state.json").read_text())["serial"] == 1
    assert len(backend.journal_path.read_text().splitlines()) == 2
    again = backend.read()
    assert again.serial == 3 and again.lineage == state.lineage and again.salt == state.salt
    assert set(again.entries) == {OTHER} and again.entries[OTHER].spec == {"cron": "0 3 * * *"}
    backend.write(state)
    assert not backend.journal_path.exists()
    assert backend.read().entries.keys() == {OTHER} and backend.read().serial == 3


def test_a_journal_without_a_state_file_is_a_first_apply_that_was_killed(tmp_path):
    backend = LocalStateBackend(tmp_path / "state.json")
    state = State(entries={RID: entry(description="x")})
    backend.record(state.stamped(), {RID: state.entries[RID]})
    again = backend.read()
    assert (again.lineage, again.serial, again.salt) == (state.lineage, 1, state.salt)
    assert again.entries[RID].remote_id == "rid-1"


def test_a_torn_last_line_is_ignored_and_folded_lines_are_skipped(tmp_path):
    backend = LocalStateBackend(tmp_path / "state.json")
    state = State(entries={RID: entry(description="x")})
    backend.record(state.stamped(), {RID: state.entries[RID]})
    backend.write(state)  # serial 1 in the file: the line below is already in it
    folded = {"lineage": state.lineage, "serial": 1, "salt": state.salt, "set": {},
              "remove": [str(RID)]}
    torn = '{"lineage": "' + state.lineage + '", "serial": 2, "set": {'
    backend.journal_path.write_text(json.dumps(folded) + "\n" + torn)
    again = backend.read()
    assert again.serial == 1 and set(again.entries) == {RID}


def test_a_damaged_journal_line_or_another_lineage_is_a_clear_error(tmp_path):
    backend = LocalStateBackend(tmp_path / "state.json")
    state = State(entries={RID: entry(description="x")})
    backend.write(state.stamped())
    backend.journal_path.write_text("{nope\n{}\n")
    with pytest.raises(StateError, match=r"state.json.journal:1: not a state journal line"):
        backend.read()
    backend.journal_path.write_text(json.dumps(
        {"lineage": "another", "serial": 5, "salt": "s", "set": {}, "remove": []}) + "\n")
    with pytest.raises(StateError, match=r"journal:1: lineage another does not match.*"
                                         r"belongs to another state: move it aside"):
        backend.read()


def test_the_journal_is_folded_in_once_it_outgrows_the_state_file(tmp_path, monkeypatch):
    monkeypatch.setattr("reconciler.state.local.COMPACT_BYTES", 2000)
    backend = LocalStateBackend(tmp_path / "state.json")
    state = State()
    for i in range(40):
        rid = ResourceId("studio", "Trigger", f"t{i}")
        state.entries[rid] = entry(trigger_id=f"t{i}")
        backend.record(state.stamped(), {rid: state.entries[rid]})
        journal = backend.journal_path.stat().st_size if backend.journal_path.exists() else 0
        assert journal <= max(2000, (tmp_path / "state.json").stat().st_size
                              if (tmp_path / "state.json").exists() else 0)
    assert backend.read().serial == 40 and len(backend.read().entries) == 40
    assert json.loads((tmp_path / "state.json").read_text())["serial"] > 1


def test_corrupt_state_is_a_clear_error(tmp_path):
    path = tmp_path / "state.json"
    path.write_text("{nope")
    with pytest.raises(StateError, match="not valid JSON"):
        LocalStateBackend(path).read()


def test_second_lock_holder_fails_naming_pid_host_and_since(tmp_path):
    path = tmp_path / "state.json"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
            import sys, time
            from reconciler.state.local import LocalStateBackend
            with LocalStateBackend({str(path)!r}).lock(5):
                print("locked", flush=True)
                sys.stdin.readline()
        """),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(StateLockError) as caught, LocalStateBackend(path).lock(0.2):
            pass
        message = str(caught.value)
        assert f"pid {holder.pid}" in message
        assert socket.gethostname() in message and "since 20" in message
    finally:
        holder.communicate("\n", timeout=10)
    with LocalStateBackend(path).lock(1):  # released: a later run gets it
        assert json.loads((tmp_path / "state.json.lock.info").read_text())["pid"] == os.getpid()


def test_remote_ids_are_a_live_view_of_one_provider_instance():
    state = State(entries={RID: entry(), ResourceId("growth", "Automation", "w"): entry()})
    studio = state.remote_ids("studio")
    assert dict(studio) == {RID: "rid-1"} and len(studio) == 1
    assert studio.get(ResourceId("growth", "Automation", "w")) is None
    state.entries[OTHER] = StateEntry("rid-2", "workspace", {}, "2026-01-01T00:00:00Z", "m:1")
    assert studio.get(OTHER) == "rid-2" and len(state.remote_ids()) == 3


def test_a_killed_first_apply_keeps_its_project_binding_in_the_journal(tmp_path):
    from reconciler.state.binding import Binding

    bound = Binding("payments", {"studio": {"type": "workspace"}})
    backend = LocalStateBackend(tmp_path / "state.json")
    state = State(entries={RID: entry()}, project=bound)
    backend.record(state.stamped(), {RID: state.entries[RID]})  # never folded in: killed
    assert backend.read().project == bound


@pytest.mark.parametrize("project", ['"payments"', '{"name": 5}', '{"name": "p", "providers": 1}'])
def test_a_damaged_project_binding_is_refused_not_read_as_unbound(tmp_path, project):
    path = tmp_path / "state.json"
    path.write_text('{"format": 1, "lineage": "l", "serial": 1, "salt": "s", "resources": {}, '
                    f'"project": {project}}}')
    with pytest.raises(StateError, match=r"state.json: project(\.name|\.providers)?: expected"):
        LocalStateBackend(path).read()
