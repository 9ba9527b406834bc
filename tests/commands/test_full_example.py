"""examples/full, as shipped (every provider on the embedded sandbox), through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .helpers import EXAMPLES, copy_example, run


def test_full_example_uses_all_four_provider_types() -> None:
    text = (EXAMPLES / "full" / "reconciler.yaml").read_text()
    for provider_type in ("workspace", "outlit", "datallog", "automation-runs"):
        assert f"type: {provider_type}\n" in text


def test_full_example_applies_then_status_runs_and_checks_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    project = copy_example(tmp_path, "full")

    applied = run(project, "apply", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert "Apply complete" in applied.stdout and "0 failed" in applied.stdout
    plan = run(project, "plan", "--detailed-exitcode")
    assert plan.exit_code == 0, plan.output
    assert "No changes." in plan.stdout

    status = run(project, "status", "--format", "json")
    assert status.exit_code == 0, status.output
    rows = {row["id"]: row for row in json.loads(status.stdout)}
    assert {row["sync"] for row in rows.values()} == {"in sync"}
    assert rows["studio/Automation/daily-report"]["health"] == "succeeded"
    assert "growth/Automation/signup-welcome" in rows

    runs = run(project, "runs", "list", "--format", "json")
    assert runs.exit_code == 0, runs.output
    automations = {item["automationId"] for item in json.loads(runs.stdout)["items"]}
    assert "analytics/daily-load" in automations and len(automations) == 2  # both smoke runs

    checked = run(project, "check", "--format", "json")
    assert checked.exit_code == 0, checked.output
    assert "etl/Check/daily-load-smoke" in checked.stdout
    assert "studio/Check/daily-report-smoke" in checked.stdout
