"""Apply, migrate and unlock through the CLI with state on a real PostgreSQL server and the real
adapters against the sandbox on loopback."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psycopg
import pytest
from click.testing import CliRunner

from reconciler.cli import cli
from reconciler.state.local import LocalStateBackend
from reconciler.state.postgres import PostgresStateBackend

ROOT = Path(__file__).resolve().parents[2]

POSTGRES_STATE = (
    "state:\n  backend: postgres\n  url: ${env:RECONCILER_STATE_URL}\n  key: shared\n"
    "  lease_ttl: 2s\n"
)


@pytest.fixture(autouse=True)
def environment(monkeypatch, postgres_url):
    monkeypatch.setenv("SANDBOX_TOKEN", "sandbox")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("RECONCILER_STATE_URL", postgres_url)


def make_project(tmp_path: Path, server) -> Path:
    """A copy of the quickstart whose providers talk to the loopback sandbox."""
    project = tmp_path / "quickstart"
    shutil.copytree(ROOT / "examples" / "quickstart", project,
                    ignore=shutil.ignore_patterns(".reconciler"))
    config = project / "reconciler.yaml"
    local = rf"\1base_url: {server.url}\n\1token: ${{env:SANDBOX_TOKEN}}"
    config.write_text(re.sub(r"(?m)^( +)base_url: sandbox$", local, config.read_text()))
    return project


def automation_names(server) -> list[str]:
    response = httpx.get(
        f"{server.url}/api/v1/organizations/org_demo/workspaces/ws_ops/automations"
        "?page_size=1000", headers={"Authorization": "Bearer sandbox"})
    response.raise_for_status()
    return [a["display_name"] for a in response.json()["automations"]]


def on_postgres(project: Path) -> Path:
    config = project / "reconciler.yaml"
    text = re.sub(r"(?ms)^state:\n(  .*\n)*", "", config.read_text())
    config.write_text(text + POSTGRES_STATE)
    return project


def run(project: Path, *args: str):
    return CliRunner().invoke(cli, ["-C", str(project), *args])


def apply_process(project: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", "from reconciler.cli import main; main()", "-C", str(project),
         "apply", "--auto-approve", "--parallelism", "1", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )


def serial(url: str) -> int:
    return PostgresStateBackend(url, "shared").read().serial


def wait_for(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


def assert_no_duplicates(server, project: Path) -> None:
    names = automation_names(server)
    assert len(names) == len(set(names)) == 3


def test_two_applies_from_two_copies_one_fails_naming_the_holder_never_both_write(
    tmp_path, sandbox_server, postgres_url
):
    first_copy = on_postgres(make_project(tmp_path / "a", sandbox_server))
    second_copy = on_postgres(make_project(tmp_path / "b", sandbox_server))
    sandbox_server.set_faults(latency_ms=25)
    first = apply_process(first_copy)
    try:
        wait_for(lambda: serial(postgres_url) >= 1)
        second = run(second_copy, "apply", "--auto-approve")
        assert second.exit_code == 1
        assert f"pid {first.pid}, reconciler apply" in second.stderr
        assert "expires at" in second.stderr and "state unlock" in second.stderr
    finally:
        sandbox_server.clear_faults()
        _out, err = first.communicate(timeout=60)
    assert first.returncode == 0, err
    waited = run(second_copy, "apply", "--auto-approve", "--lock-timeout", "10")
    assert waited.exit_code == 0 and "No changes." in waited.stdout, waited.output
    assert_no_duplicates(sandbox_server, first_copy)


@pytest.mark.slow
def test_two_applies_started_together_one_waits_for_the_other_then_finds_nothing_to_do(
    tmp_path, sandbox_server, postgres_url
):
    first_copy = on_postgres(make_project(tmp_path / "a", sandbox_server))
    second_copy = on_postgres(make_project(tmp_path / "b", sandbox_server))
    sandbox_server.set_faults(latency_ms=25)
    try:
        runs = [apply_process(copy, "--lock-timeout", "30") for copy in (first_copy, second_copy)]
        done = [run.communicate(timeout=60) for run in runs]
    finally:
        sandbox_server.clear_faults()
    assert [run.returncode for run in runs] == [0, 0], done
    # the lease is taken before state is read: the one that waited planned after the other's
    # last write, so it had nothing left to do and wrote nothing
    outputs = sorted(out for out, _err in done)
    assert "No changes." in outputs[0] and "No changes." not in outputs[1], done
    recorded = re.search(r"Apply complete: (\d+) done, 0 failed", outputs[1])
    created = re.search(r"Plan: (\d+) to create", outputs[1])
    # one write per success, and one per create the moment its object exists (before the
    # operation's later calls): the waiting apply wrote nothing
    assert recorded and created
    assert serial(postgres_url) == int(recorded.group(1)) + int(created.group(1))
    assert_no_duplicates(sandbox_server, first_copy)


def test_without_the_postgres_extra_the_cli_names_it(tmp_path, sandbox_server):
    project = on_postgres(make_project(tmp_path, sandbox_server))
    bare = subprocess.run(
        [sys.executable, "-c",
         "import sys; sys.modules['psycopg'] = None  # as if the extra was not installed\n"
         "from reconciler.cli import main; main()", "-C", str(project), "state", "list"],
        capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"}, timeout=60,
    )
    assert bare.returncode == 1, bare.stderr
    assert "state.backend: postgres needs the postgres extra" in bare.stderr
    assert "pip install 'reconciler-gitops[postgres]'" in bare.stderr
    assert "Traceback" not in bare.stderr


def test_killed_apply_leaves_a_lease_that_expires_then_a_rerun_converges(
    tmp_path, sandbox_server, postgres_url
):
    project = on_postgres(make_project(tmp_path, sandbox_server))
    sandbox_server.set_faults(latency_ms=30)
    first = apply_process(project)
    wait_for(lambda: serial(postgres_url) >= 2)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    sandbox_server.clear_faults()
    recorded = serial(postgres_url)
    refused = run(project, "apply", "--auto-approve")
    assert refused.exit_code == 1 and f"pid {first.pid}" in refused.stderr
    again = run(project, "apply", "--auto-approve", "--lock-timeout", "5")
    assert again.exit_code == 0, again.output
    assert "took over lease" in again.stderr and serial(postgres_url) > recorded
    assert run(project, "plan", "--detailed-exitcode").exit_code == 0
    assert_no_duplicates(sandbox_server, project)


def test_a_paused_apply_whose_lease_expired_does_not_write(tmp_path, sandbox_server, postgres_url):
    project = on_postgres(make_project(tmp_path, sandbox_server))
    sandbox_server.set_faults(latency_ms=30)
    first = apply_process(project)
    wait_for(lambda: serial(postgres_url) >= 2)
    first.send_signal(signal.SIGSTOP)
    try:
        sandbox_server.clear_faults()
        time.sleep(2.2)  # past the 2s lease
        second = run(project, "apply", "--auto-approve")
        assert second.exit_code == 0, second.output
        after_second = PostgresStateBackend(postgres_url, "shared").read()
    finally:
        first.send_signal(signal.SIGCONT)
    _out, err = first.communicate(timeout=60)
    assert first.returncode == 1 and "stopped before the next write" in err
    assert PostgresStateBackend(postgres_url, "shared").read().serial == after_second.serial
    assert run(project, "plan", "--detailed-exitcode").exit_code == 0
    assert_no_duplicates(sandbox_server, project)


def test_the_database_going_away_mid_apply_is_a_clear_error_and_loses_no_success(
    tmp_path, sandbox_server, postgres_url
):
    project = on_postgres(make_project(tmp_path, sandbox_server))
    dbname = postgres_url.rsplit("/", 1)[1]
    admin_url = postgres_url.rsplit("/", 1)[0] + "/postgres"
    sandbox_server.set_faults(latency_ms=30)
    first = apply_process(project)
    wait_for(lambda: serial(postgres_url) >= 2)
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{dbname}" WITH ALLOW_CONNECTIONS false')
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                      "WHERE datname = %s", (dbname,))
    _out, err = first.communicate(timeout=60)
    sandbox_server.clear_faults()
    assert first.returncode == 1
    assert "lost the connection to state 'shared' in postgres 127.0.0.1:" in err or \
        "cannot connect to state 'shared'" in err, err
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{dbname}" WITH ALLOW_CONNECTIONS true')
    kept = PostgresStateBackend(postgres_url, "shared").read()
    assert kept.serial >= 2 and kept.entries  # what was recorded before is all there
    again = run(project, "apply", "--auto-approve", "--lock-timeout", "5")
    assert again.exit_code == 0, again.output
    assert run(project, "plan", "--detailed-exitcode").exit_code == 0
    assert_no_duplicates(sandbox_server, project)


def test_migrate_to_postgres_and_back_keeps_lineage_serial_and_entries(
    tmp_path, sandbox_server, postgres_url
):
    project = make_project(tmp_path, sandbox_server)
    assert run(project, "apply", "--auto-approve").exit_code == 0
    local = LocalStateBackend(project / ".reconciler" / "state.json")
    before = local.read()
    config = project / "reconciler.yaml"
    config.write_text(config.read_text().replace(
        "  path: .reconciler/state.json\n",
        "  path: .reconciler/state.json\n  url: ${env:RECONCILER_STATE_URL}\n  key: shared\n"))
    moved = run(project, "state", "migrate", "--to", "postgres")
    assert moved.exit_code == 0, moved.output
    assert "Now set `state.backend: postgres`" in moved.stderr
    there = PostgresStateBackend(postgres_url, "shared").read()
    assert (there.lineage, there.serial, there.salt) == (before.lineage, before.serial, before.salt)
    assert there.entries == before.entries
    config.write_text(config.read_text().replace("backend: local", "backend: postgres"))
    assert run(project, "plan", "--detailed-exitcode").exit_code == 0
    assert run(project, "state", "list").stdout.count("\n") == len(before.entries)
    # back to local, into an empty folder; a local state of another lineage is refused
    (project / ".reconciler" / "state.json").rename(project / "old.json")
    back = run(project, "state", "migrate", "--to", "local")
    assert back.exit_code == 0, back.output
    assert local.read().lineage == before.lineage and local.read().serial == before.serial
    other = local.read()
    other.lineage = "another-lineage"
    local.write(other)
    refused = run(project, "state", "migrate", "--to", "local")
    assert refused.exit_code == 1
    assert "holds another state (lineage another-lineage" in refused.stderr


def test_unlock_names_whose_lease_it_ended(tmp_path, sandbox_server, postgres_url):
    project = on_postgres(make_project(tmp_path, sandbox_server))
    backend = PostgresStateBackend(postgres_url, "shared", lease_ttl=30)
    with backend.lock(0, "reconciler apply") as lease:
        ended = run(project, "state", "unlock", lease.lease_id)
        assert ended.exit_code == 0, ended.output
        assert f"Ended lease {lease.lease_id} on state 'shared'" in ended.stdout
        assert "reconciler apply" in ended.stdout
    missing = run(project, "state", "unlock", "nope")
    assert missing.exit_code == 1 and "has no lease nope" in missing.stderr


def test_another_project_on_the_same_key_is_refused_and_removes_nothing(
    tmp_path, sandbox_server, postgres_url
):
    first = on_postgres(make_project(tmp_path / "a", sandbox_server))
    assert run(first, "apply", "--auto-approve").exit_code == 0
    before = automation_names(sandbox_server)
    other = on_postgres(make_project(tmp_path / "b", sandbox_server))
    config = other / "reconciler.yaml"
    config.write_text(config.read_text().replace("name: quickstart", "name: billing"))
    shutil.rmtree(other / "manifests")
    (other / "manifests").mkdir()
    for command in (["plan"], ["apply", "--auto-approve", "--allow-remove-all"]):
        refused = run(other, *command)
        assert refused.exit_code == 1, refused.output
        message = " ".join(refused.output.split())
        assert "state 'shared' in postgres" in message, message
        assert "belongs to project 'quickstart'; this is project 'billing'" in message
    assert automation_names(sandbox_server) == before
    # rebinding on purpose is recorded in postgres; the empty manifests are still refused
    rebound = run(other, "state", "rebind")
    assert rebound.exit_code == 0, rebound.output
    assert "now bound to project 'billing'" in rebound.output
    assert PostgresStateBackend(postgres_url, "shared").read().project.name == "billing"
    refused = run(other, "apply", "--auto-approve")
    assert refused.exit_code == 1 and "would remove all" in refused.output, refused.output
    assert automation_names(sandbox_server) == before
