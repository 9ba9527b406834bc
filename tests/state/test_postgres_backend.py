"""The postgres backend against a real server: schema, round trips, the lease and its loss."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import psycopg
import pytest

from reconciler.errors import ConfigError, StateError, StateLeaseLostError, StateLockError
from reconciler.model import ResourceId
from reconciler.state.model import State, StateEntry
from reconciler.state.postgres import SCHEMA_VERSION, PostgresStateBackend

RID = ResourceId("studio", "Automation", "digest")
OTHER = ResourceId("studio", "Schedule", "daily")


def entry(**spec):
    return StateEntry("rid-1", "workspace", spec, "2026-01-01T00:00:00Z", "m.yaml:3")


def test_empty_until_written_then_round_trips_lineage_serial_salt_and_entries(postgres_url):
    backend = PostgresStateBackend(postgres_url, "proj")
    assert backend.read().serial == 0 and backend.read().lineage == ""
    state = State(entries={RID: entry(description="x")})
    with backend.lock(0):
        backend.write(state.stamped())
        state.entries[OTHER] = entry(cron="0 3 * * *")
        backend.record(state.stamped(), {OTHER: state.entries[OTHER]})
        del state.entries[RID]
        backend.record(state.stamped(), {RID: None})
        backend.settle(state)
    again = PostgresStateBackend(postgres_url, "proj").read()
    assert (again.lineage, again.serial, again.salt) == (state.lineage, 3, state.salt)
    assert set(again.entries) == {OTHER} and again.entries[OTHER].spec == {"cron": "0 3 * * *"}
    # another key in the same database is another state
    assert PostgresStateBackend(postgres_url, "other-project").read().entries == {}


def test_schema_is_versioned_and_a_newer_one_is_refused(postgres_url):
    PostgresStateBackend(postgres_url, "proj").read()
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        row = connection.execute(
            "SELECT value FROM reconciler_meta WHERE name = 'schema_version'"
        ).fetchone()
        assert row == (str(SCHEMA_VERSION),)
        connection.execute("UPDATE reconciler_meta SET value = '99' WHERE name = 'schema_version'")
    with pytest.raises(StateError, match=r"schema version 99, newer than this reconciler knows"):
        PostgresStateBackend(postgres_url, "proj").read()


def test_writes_need_the_lease_and_a_serial_that_moved_is_refused(postgres_url):
    backend = PostgresStateBackend(postgres_url, "proj")
    state = State(entries={RID: entry()})
    with pytest.raises(StateError, match="without holding the lease"):
        backend.record(state.stamped(), {RID: state.entries[RID]})
    with backend.lock(0):
        backend.record(state, {RID: state.entries[RID]})
        stale = State(lineage=state.lineage, serial=1, salt=state.salt)
        with pytest.raises(StateError, match="changed under this run"):
            backend.record(stale, {RID: None})
    assert RID in backend.read().entries


def test_a_second_holder_fails_naming_the_holder_and_the_expiry_then_waits(postgres_url,
                                                                           capsys):
    first = PostgresStateBackend(postgres_url, "proj")
    second = PostgresStateBackend(postgres_url, "proj")
    with first.lock(0, "reconciler apply") as lease:
        with pytest.raises(StateLockError) as caught, second.lock(0.3):
            pass
        message = str(caught.value)
        assert f"lease {lease.lease_id} held by " in message and "reconciler apply" in message
        assert "expires at " in message and f"state unlock {lease.lease_id}" in message
        # one line when it starts waiting, naming the holder the same way as the local lock
        waiting = capsys.readouterr().err.splitlines()
        assert len(waiting) == 1 and waiting[0].startswith("Waiting up to 0.3s for the state "
                                                           "lease of ")
        assert f"lease {lease.lease_id} held by " in waiting[0]
        assert "(pid " in waiting[0] and "reconciler apply) since " in waiting[0]
        with pytest.raises(StateLockError), second.lock(0):  # no wait: no line
            pass
        assert capsys.readouterr().err == ""
    with second.lock(1):  # released: taken at once
        pass


def test_the_ci_run_is_part_of_the_holder(postgres_url, monkeypatch):
    monkeypatch.setenv("GITHUB_RUN_ID", "777")
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/automations")
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.com")
    backend = PostgresStateBackend(postgres_url, "proj")
    with backend.lock(0):
        held = backend.current_lease()
    assert held is not None
    assert held.holder["ci_run"] == "https://github.com/acme/automations/actions/runs/777"


def test_a_killed_holder_leaves_a_lease_that_expires_by_itself(postgres_url, capfd):
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys
            from reconciler.state.postgres import PostgresStateBackend
            with PostgresStateBackend({postgres_url!r}, "proj", lease_ttl=1.5).lock(0):
                print("leased", flush=True)
                sys.stdin.readline()
        """)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "leased"
    finally:
        holder.kill()
        holder.wait(timeout=10)
    backend = PostgresStateBackend(postgres_url, "proj")
    with pytest.raises(StateLockError, match=rf"pid {holder.pid}, "), backend.lock(0):
        pass
    started = time.monotonic()
    with backend.lock(5):  # waits for the expiry, then takes it over
        assert time.monotonic() - started < 3
    assert "took over lease" in capfd.readouterr().err


def test_a_holder_whose_lease_expired_while_paused_never_writes(postgres_url):
    paused = PostgresStateBackend(postgres_url, "proj", lease_ttl=1.0)
    state = State(entries={RID: entry()})
    with paused.lock(0) as lease:
        paused.record(state.stamped(), {RID: state.entries[RID]})
        lease.stop()  # as if the process stopped: no heartbeat
        time.sleep(1.1)
        other = PostgresStateBackend(postgres_url, "proj")
        with other.lock(0):  # expired: taken over
            theirs = other.read()
            theirs.entries[OTHER] = entry()
            other.record(theirs.stamped(), {OTHER: theirs.entries[OTHER]})
            lease.confirmed_at = time.monotonic()  # even a clock that did not see the pause
            del state.entries[RID]
            with pytest.raises(StateLeaseLostError, match="stopped before the next write"):
                paused.record(state.stamped(), {RID: None})
    after = PostgresStateBackend(postgres_url, "proj").read()
    assert set(after.entries) == {RID, OTHER} and after.serial == 2


def test_unlock_ends_a_lease_saying_whose_it_was_and_its_holder_stops(postgres_url):
    holder = PostgresStateBackend(postgres_url, "proj", lease_ttl=3.0)
    state = State(entries={RID: entry()})
    with holder.lock(0, "reconciler apply") as lease:
        ended = PostgresStateBackend(postgres_url, "proj").unlock(lease.lease_id)
        assert ended.lease_id == lease.lease_id and ended.holder["command"] == "reconciler apply"
        with pytest.raises(StateLeaseLostError):
            holder.record(state.stamped(), {RID: state.entries[RID]})
    assert holder.read().entries == {}
    with pytest.raises(StateError, match="has no lease nope"):
        holder.unlock("nope")


def test_an_unreachable_database_is_a_clear_error_without_the_password(postgres_server):
    url = f"postgresql://postgres:hunter2@127.0.0.1:{postgres_server.port}/missing_db"
    with pytest.raises(StateError) as caught:
        PostgresStateBackend(url, "proj").read()
    assert "cannot connect to state 'proj' in postgres 127.0.0.1:" in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_without_psycopg_the_error_names_the_extra(monkeypatch):
    monkeypatch.setattr("reconciler.state.postgres.psycopg", None)
    with pytest.raises(ConfigError, match=r"pip install 'reconciler-gitops\[postgres\]'"):
        PostgresStateBackend("postgresql://x", "proj")
