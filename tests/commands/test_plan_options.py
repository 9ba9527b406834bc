"""``plan --refresh=false`` (no reads: the last applied state stands in for live) and
``plan --parallelism N`` (requests in flight per provider instance)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .helpers import copy_example, requests_logged, run, sandbox_admin

NOT_READ = "Live state was not read"


@pytest.fixture
def applied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The quickstart, applied to its embedded sandbox."""
    monkeypatch.setenv("NO_COLOR", "1")
    project = copy_example(tmp_path)
    result = run(project, "apply", "--auto-approve")
    assert result.exit_code == 0, result.output
    return project


def test_refresh_false_sends_no_request_and_compares_with_the_last_apply(applied: Path) -> None:
    growth = applied / "manifests" / "growth.yaml"
    growth.write_text(growth.read_text().replace("is about to expire", "expires in 3 days"))
    edited = run(
        applied,
        "sandbox",
        "edit",
        "workspace.automation",
        "Nightly digest",
        "--set",
        "description=edited in the web UI",
    )
    assert edited.exit_code == 0, edited.output
    before = len(requests_logged(applied))

    plan = run(applied, "plan", "--refresh=false", "--detailed-exitcode")
    assert plan.exit_code == 2, plan.output
    assert requests_logged(applied, since=before) == []
    assert plan.stdout.startswith(NOT_READ)
    assert "~ growth/Automation/trial-nudge" in plan.stdout
    assert "nightly-digest" not in plan.stdout  # the drift is live only: not seen without reads

    fresh = run(applied, "plan")
    assert "~ studio/Automation/nightly-digest" in fresh.stdout and NOT_READ not in fresh.stdout


def test_refresh_false_says_so_in_every_format(applied: Path) -> None:
    clean = run(applied, "plan", "--refresh", "false", "--detailed-exitcode")
    assert clean.exit_code == 0, clean.output
    assert NOT_READ in clean.stdout and "match the last applied state" in clean.stdout
    document = json.loads(run(applied, "plan", "--refresh=false", "--format", "json").stdout)
    assert document["refreshed"] is False
    assert "refreshed" not in json.loads(run(applied, "plan", "--format", "json").stdout)
    for fmt in ("markdown", "github"):
        assert NOT_READ in run(applied, "plan", "--refresh=false", "--format", fmt).stdout


def test_a_plan_saved_without_reading_live_state_is_not_applied(applied: Path) -> None:
    saved = run(applied, "plan", "--refresh=false", "--out", "plan.json")
    assert saved.exit_code == 0, saved.output
    assert NOT_READ in run(applied, "show", "plan.json").stdout
    refused = run(applied, "apply", "plan.json")
    assert refused.exit_code == 1
    assert "--refresh=false" in refused.stderr
    assert "reading" not in refused.stderr  # refused before anything live was read


def _gaps(entries: list[dict], platform: str) -> list[float]:
    times = sorted(e["time"] for e in entries if e["platform"] == platform)
    return [later - earlier for earlier, later in zip(times, times[1:], strict=False)]


def test_parallelism_bounds_the_requests_in_flight_while_reading(applied: Path) -> None:
    latency = 0.04
    sandbox_admin(applied, "PUT", "faults", {"latency_ms": latency * 1000})
    start = len(requests_logged(applied))
    one = run(applied, "plan", "--parallelism", "1")
    assert one.exit_code == 0, one.output
    serial = _gaps(requests_logged(applied, since=start), "workspace")
    assert len(serial) >= 3 and min(serial) >= latency * 0.9  # one at a time, each 40 ms

    start = len(requests_logged(applied))
    assert run(applied, "plan", "--parallelism", "8").exit_code == 0
    parallel = _gaps(requests_logged(applied, since=start), "workspace")
    assert min(parallel) < latency / 2  # several answered together
    assert run(applied, "plan", "--parallelism", "0").exit_code != 0
