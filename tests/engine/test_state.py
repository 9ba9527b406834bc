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
from reconciler.state.model import State, StateEntry

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
