"""Options of plan and apply that users repeat or point at files: --target, --out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .test_cli_flow import World, project, run, world  # noqa: F401 (fixtures)

SLACK = "studio/Connection/slack-alerts"
NUDGE = "growth/Automation/trial-nudge"


def _planned(result) -> set[str]:
    return {change["address"] for change in json.loads(result.stdout)["resource_changes"]}


def test_every_target_given_counts_in_plan(world: World, project: Path) -> None:
    both = run(project, "plan", "--format", "json", "--target", SLACK, "--target", NUDGE)
    assert both.exit_code == 0, both.output
    assert {SLACK, NUDGE} <= _planned(both)
    one = run(project, "plan", "--format", "json", "--target", NUDGE)
    assert SLACK not in _planned(one)


def test_every_target_given_counts_in_apply(world: World, project: Path) -> None:
    result = run(project, "apply", "--auto-approve", "--target", SLACK, "--target", NUDGE)
    assert result.exit_code == 0, result.output
    assert {f"create {SLACK}", f"create {NUDGE}"} <= set(world.calls)
    assert not any("nightly-digest" in call for call in world.calls)


def test_an_unknown_target_is_an_error_naming_it(world: World, project: Path) -> None:
    result = run(project, "plan", "--target", SLACK, "--target", "studio/Automation/nope")
    assert result.exit_code == 1
    assert "--target studio/Automation/nope: no such resource" in result.stderr
    assert "slack-alerts: no such" not in result.stderr


@pytest.mark.parametrize("out", ["/nonexistent/dir/p.json", "reconciler.yaml/p.json"])
def test_plan_out_that_cannot_be_written_fails_before_reading(
    world: World, project: Path, out: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_reading(*_args, **_kwargs):
        raise AssertionError("live state was read")

    monkeypatch.setattr("reconciler.engine.Engine.read_live", no_reading)
    result = run(project, "plan", "--out", out)
    assert result.exit_code == 1
    assert f"--out {out}:" in result.stderr
    assert "internal error" not in result.stderr
