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
from reconciler.state.binding import Binding, BoundBackend, StateBindingError
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


BINDING = Binding("payments", {"studio": {"type": "workspace",
                                          "organization_id": "org_1", "workspace_id": "ws_1"}})


def test_the_project_binding_is_kept_and_a_bound_read_refuses_another_project(postgres_url):
    backend = PostgresStateBackend(postgres_url, "shared")
    state = State(entries={RID: entry()}, project=BINDING)
    with backend.lock(0):
        backend.record(state.stamped(), {RID: state.entries[RID]})
        state.project = None  # a write that carries no binding keeps the one stored
        backend.record(state.stamped(), {OTHER: entry()})
    assert backend.read().project == BINDING
    other = Binding("growth", BINDING.providers)
    with pytest.raises(StateBindingError, match=r"in postgres .* belongs to project 'payments'; "
                       r"this is project 'growth': the project name differs"):
        BoundBackend(PostgresStateBackend(postgres_url, "shared"), other).read()
    assert BoundBackend(backend, BINDING).read().project == BINDING


def test_version_1_tables_are_upgraded_in_place_and_their_state_is_bound_on_next_write(
    postgres_url,
):
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute("CREATE TABLE reconciler_meta (name text PRIMARY KEY, "
                           "value text NOT NULL)")
        connection.execute("INSERT INTO reconciler_meta VALUES ('schema_version', '1')")
        connection.execute("CREATE TABLE reconciler_state (key text PRIMARY KEY, lineage text "
                           "NOT NULL, serial bigint NOT NULL, salt text NOT NULL)")
        connection.execute("INSERT INTO reconciler_state VALUES ('proj', 'lin-1', 4, 'salt')")
    backend = BoundBackend(PostgresStateBackend(postgres_url, "proj"), BINDING)
    state = backend.read()
    assert (state.lineage, state.serial, state.project) == ("lin-1", 4, BINDING)
    with backend.lock(0):
        backend.record(state.stamped(), {RID: entry()})
    assert PostgresStateBackend(postgres_url, "proj").read().project == BINDING
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        version = connection.execute(
            "SELECT value FROM reconciler_meta WHERE name = 'schema_version'").fetchone()
    assert version == (str(SCHEMA_VERSION),) and SCHEMA_VERSION == 2


def test_writes_need_the_lease_and_a_serial_that_moved_is_refused(postgres_url):
    backend = PostgresStateBackend(postgres_url, "proj")
    state = State(entries={RID: entry()})
    with pytest.raises(StateError, match="without holding the lease"):
        backend.record(state.stamped(), {RID: state.entries[RID]})
    with backend.lock(0):
        backend.record(state, {RID: state.entries[RID]})
        stale = State(lineage=state.lineage, serial=1, salt=state.salt)
        with pytest.raises(StateError, match="changed under this run"):
            backend.record(stale, {RID: None, OTHER: entry()})
    assert set(backend.read().entries) == {RID}  # neither the removal nor the new entry


def test_recording_a_success_is_one_round_trip_and_durable_on_return(postgres_url, monkeypatch):
    """One wait on the server per record: the lease check, the serial and the entries go in one
    statement, committed when it returns (another connection sees it at once)."""
    backend = PostgresStateBackend(postgres_url, "proj")
    state = State()
    waits = []
    real_wait = psycopg.Connection.wait

    def counting_wait(self, *args, **kwargs):
        waits.append(self)
        return real_wait(self, *args, **kwargs)

    with backend.lock(0):
        backend.record(state.stamped(), {})  # the connection is open and the tables exist
        monkeypatch.setattr(psycopg.Connection, "wait", counting_wait)
        for number in range(3):
            rid = ResourceId("studio", "Automation", f"a{number}")
            state.entries[rid] = entry(n=number)
            backend.record(state.stamped(), {rid: state.entries[rid]})
        del state.entries[rid]
        backend.record(state.stamped(), {rid: None})
        monkeypatch.setattr(psycopg.Connection, "wait", real_wait)
        assert sum(1 for c in waits if c is backend._connection) == 4
        seen = PostgresStateBackend(postgres_url, "proj").read()
        assert seen.serial == 5 and set(seen.entries) == set(state.entries)
        assert seen.entries[ResourceId("studio", "Automation", "a1")].spec == {"n": 1}


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


def test_a_first_recorded_success_binds_a_fresh_state_to_its_project(postgres_url):
    """The one-statement record creates the state row on a fresh key: it carries the binding,
    so another project is refused from the very first success on."""
    backend = PostgresStateBackend(postgres_url, "fresh")
    state = State(project=BINDING)
    with backend.lock(0):
        backend.record(state.stamped(), {RID: entry()})
    assert PostgresStateBackend(postgres_url, "fresh").read().project == BINDING
    other = Binding("growth", BINDING.providers)
    with pytest.raises(StateBindingError, match=r"belongs to project 'payments'"):
        BoundBackend(PostgresStateBackend(postgres_url, "fresh"), other).read()


def test_a_damaged_binding_or_entry_in_postgres_names_what_is_wrong(postgres_url):
    backend = PostgresStateBackend(postgres_url, "damaged")
    with backend.lock(0):
        backend.record(State(project=BINDING).stamped(), {RID: entry()})
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute("UPDATE reconciler_state SET project = '\"x\"' WHERE key = 'damaged'")
    with pytest.raises(StateError, match=r"project: expected an object, found a string; nothing"):
        PostgresStateBackend(postgres_url, "damaged").read()
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute("UPDATE reconciler_state SET project = NULL WHERE key = 'damaged'")
        connection.execute("UPDATE reconciler_entry SET entry = '[]' WHERE key = 'damaged'")
    with pytest.raises(StateError, match=r"resources\[\"studio/Automation/digest\"\]: expected"):
        PostgresStateBackend(postgres_url, "damaged").read()
